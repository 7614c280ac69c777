using System.Collections.Generic;
using System.Net;
using System.Net.Http;
using System.Threading.Tasks;
using Syscalls.AspNetCore.Tests.Infrastructure;
using Xunit;

namespace Syscalls.AspNetCore.Tests;

/// <summary>Keep-alive: many sequential requests, of every kind, ride one connection.</summary>
public class KeepAliveTests
{
    [Theory(Timeout = WebTransports.TestTimeoutMs)]
    [MemberData(nameof(WebTransports.All), MemberType = typeof(WebTransports))]
    public async Task Http1_ManySequentialRequests_OneConnection(string transport)
    {
        await using TestServer server = await TestServer.StartAsync(transport);
        var opened = new ConnectionCounter();
        using HttpClient client = server.Client(HttpVersion.Version11, opened, maxConnections: 1);
        var ids = new HashSet<string>();
        for (int i = 0; i < 300; i++)
        {
            switch (i % 3)
            {
                case 0:
                    Assert.Equal("Hello, World!", await client.GetStringAsync("/plaintext", TestContext.Current.CancellationToken));
                    break;
                case 1:
                    byte[] sent = Payload.Create(i, i * 37);
                    using (HttpResponseMessage echo = await client.PostAsync("/echo", new ByteArrayContent(sent), TestContext.Current.CancellationToken))
                        Payload.Equal(sent, await echo.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken), $"echo {i}");
                    break;
                default:
                    ids.Add(await client.GetStringAsync("/test/connection", TestContext.Current.CancellationToken));
                    break;
            }
        }

        Assert.Equal(1, opened.Count);              // the client opened one connection
        Assert.Single(ids);                         // the server saw one connection id
        Assert.Equal(1, server.Stats.Connections);  // and the transport accepted one connection
        Assert.Equal(300, server.Stats.Requests);
    }
}
