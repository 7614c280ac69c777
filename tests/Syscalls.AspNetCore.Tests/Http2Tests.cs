using System.Linq;
using System.Net;
using System.Net.Http;
using System.Threading.Tasks;
using Syscalls.AspNetCore.Tests.Infrastructure;
using Xunit;

namespace Syscalls.AspNetCore.Tests;

/// <summary>HTTP/2 in cleartext by prior knowledge (h2c): many concurrent streams on one connection, bodies whole.</summary>
public class Http2Tests
{
    public static TheoryData<string, int> TransportsAndSizes => WebTransports.CrossSome([0, 16_385, 1024 * 1024 + 3, 16 * 1024 * 1024]);

    [Theory(Timeout = WebTransports.TestTimeoutMs)]
    [MemberData(nameof(WebTransports.Some), MemberType = typeof(WebTransports))]
    public async Task H2c_ManyConcurrentStreams_OneConnectionEveryBodyWhole(string transport)
    {
        await using TestServer server = await TestServer.StartAsync(transport);
        var opened = new ConnectionCounter();
        using HttpClient client = server.Client(HttpVersion.Version20, opened);
        // 300 requests at once: more than Kestrel's 100 streams per connection, so the client queues the rest on the
        // same connection and streams open and close while others are in flight.
        await Task.WhenAll(Enumerable.Range(0, 300).Select(async i =>
        {
            using HttpResponseMessage response = (i % 3) switch
            {
                0 => await client.GetAsync("/plaintext", TestContext.Current.CancellationToken),
                1 => await client.PostAsync("/echo", new ByteArrayContent(Payload.Create(i, 32 * 1024 + i)), TestContext.Current.CancellationToken),
                _ => await client.GetAsync($"/test/bytes?n={100_000 + i}&seed={i}", TestContext.Current.CancellationToken),
            };
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(HttpVersion.Version20, response.Version);
            byte[] body = await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
            byte[] expected = (i % 3) switch
            {
                0 => "Hello, World!"u8.ToArray(),
                1 => Payload.Create(i, 32 * 1024 + i),
                _ => Payload.Create(i, 100_000 + i),
            };
            Payload.Equal(expected, body, $"stream {i}");
        }));
        Assert.Equal(1, opened.Count);
        Assert.Equal(1, server.Stats.Connections);
        Assert.Equal(300, server.Stats.Requests);
    }

    [Theory(Timeout = WebTransports.TestTimeoutMs)]
    [MemberData(nameof(TransportsAndSizes))]
    public async Task H2c_PostEchoOfSize_ComesBackWhole(string transport, int size)
    {
        await using TestServer server = await TestServer.StartAsync(transport);
        using HttpClient client = server.Client(HttpVersion.Version20);
        using HttpResponseMessage response = await Echo.ViaClientAsync(client, size + 2, size);
    }
}
