using System;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Syscalls.AspNetCore.Tests.Infrastructure;
using Xunit;

namespace Syscalls.AspNetCore.Tests;

/// <summary>Clients that die: a reset in the middle of a request body or of a response. The server sees the request
/// fail (not a short body taken for a whole one, not a hang), and serves the next client.</summary>
public class AbortTests
{
    [Theory(Timeout = WebTransports.TestTimeoutMs)]
    [MemberData(nameof(WebTransports.All), MemberType = typeof(WebTransports))]
    public async Task ClientResetsMidRequestBody_ServerSeesTheFailureAndServesNext(string transport)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using TestServer server = await TestServer.StartAsync(transport);
        const int total = 8 * 1024 * 1024, sent = 1024 * 1024;
        using (RawHttpConnection raw = await server.RawAsync())
        {
            // Expect: 100-continue: Kestrel answers 100 when the handler starts reading, so the reset below lands in
            // the middle of the body read, not before the request was parsed.
            await raw.SendAsync(System.Text.Encoding.ASCII.GetBytes(
                $"POST /test/sink HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {total}\r\nExpect: 100-continue\r\n\r\n"), ct);
            Assert.Equal(100, (await raw.ReadResponseAsync(ct, headOnly: true)).Status);
            await raw.SendAsync(Payload.Create(1, sent), ct);
            raw.Reset();
        }

        TestEndpoints.Outcome outcome = await server.Endpoints.NextSinkAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(30), ct);
        Assert.NotNull(outcome.Error);
        Assert.InRange(outcome.Bytes, 0, sent);
        await AssertServesNext(server);
    }

    [Theory(Timeout = WebTransports.TestTimeoutMs)]
    [MemberData(nameof(WebTransports.All), MemberType = typeof(WebTransports))]
    public async Task ClientResetsMidResponse_ServerSeesTheAbortAndServesNext(string transport)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using TestServer server = await TestServer.StartAsync(transport);
        const long total = 1L << 30;
        using (RawHttpConnection raw = await server.RawAsync())
        {
            await raw.SendAsync(RawHttpConnection.Request("GET", $"/test/stream?n={total}"), ct);
            RawHttpConnection.Response head = await raw.ReadResponseAsync(ct, headOnly: true);
            Assert.Equal(200, head.Status);
            var buffer = new byte[64 * 1024];
            for (long got = 0; got < 1024 * 1024;)
            {
                int n = await raw.ReadSomeAsync(buffer, ct);
                Assert.NotEqual(0, n);
                got += n;
            }

            raw.Reset();
        }

        TestEndpoints.Outcome outcome = await server.Endpoints.NextStreamAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(30), ct);
        Assert.NotNull(outcome.Error);
        Assert.InRange(outcome.Bytes, 1024 * 1024, total - 1);
        await AssertServesNext(server);
    }

    /// <summary>A client that closes its connection in order (a FIN, no reset) while its request waits on the server:
    /// the request is aborted (<c>RequestAborted</c>), as on Kestrel's own transport, though the handler neither reads
    /// nor writes. The server sees the client go away and does not hold its request until the next write fails.</summary>
    [Theory(Timeout = WebTransports.TestTimeoutMs)]
    [MemberData(nameof(WebTransports.All), MemberType = typeof(WebTransports))]
    public async Task ClientClosesWhileHandlerWaits_RequestAbortedFires(string transport)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using TestServer server = await TestServer.StartAsync(transport);
        using (RawHttpConnection raw = await server.RawAsync())
        {
            await raw.SendAsync(RawHttpConnection.Request("GET", "/test/hold"), ct);
            Assert.Equal(200, (await raw.ReadResponseAsync(ct, headOnly: true)).Status);
            await server.Endpoints.NextEnteredAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(30), ct);
        }   // closed: FIN

        TestEndpoints.Outcome outcome = await server.Endpoints.NextHoldAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(90), ct);
        Assert.IsAssignableFrom<OperationCanceledException>(outcome.Error);
        await AssertServesNext(server);
    }

    private static async Task AssertServesNext(TestServer server)
    {
        using HttpClient client = server.Client(HttpVersion.Version11);
        Assert.Equal("Hello, World!", await client.GetStringAsync("/plaintext", TestContext.Current.CancellationToken));
        using HttpClient h2 = server.Client(HttpVersion.Version20);
        Assert.Equal("Hello, World!", await h2.GetStringAsync("/plaintext", TestContext.Current.CancellationToken));
    }
}
