using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Syscalls.AspNetCore.Tests.Infrastructure;
using Xunit;

namespace Syscalls.AspNetCore.Tests;

/// <summary>HTTP/1.1 pipelining: requests written back to back before any response, answered in order.</summary>
public class PipeliningTests
{
    [Theory(Timeout = WebTransports.TestTimeoutMs)]
    [MemberData(nameof(WebTransports.All), MemberType = typeof(WebTransports))]
    public async Task Http1_SixtyFourRequestsInOneWrite_AnsweredInOrder(string transport)
    {
        await using TestServer server = await TestServer.StartAsync(transport);
        using RawHttpConnection raw = await server.RawAsync();
        var expected = new List<(string What, byte[] Body)>();
        var burst = new List<byte>();
        for (int i = 0; i < 64; i++)
        {
            switch (i % 4)
            {
                case 0:
                    burst.AddRange(RawHttpConnection.Request("GET", "/plaintext"));
                    expected.Add(("plaintext", "Hello, World!"u8.ToArray()));
                    break;
                case 1:
                    burst.AddRange(RawHttpConnection.Request("GET", "/json"));
                    expected.Add(("json", """{"message":"Hello, World!"}"""u8.ToArray()));
                    break;
                case 2:
                    byte[] body = Payload.Create(i, i * 131);
                    burst.AddRange(RawHttpConnection.Request("POST", "/echo", body));
                    expected.Add(($"echo {body.Length}", body));
                    break;
                default:
                    burst.AddRange(RawHttpConnection.Request("GET", $"/test/bytes?n={i * 1000}&seed={i}"));
                    expected.Add(($"bytes {i * 1000}", Payload.Create(i, i * 1000)));
                    break;
            }
        }

        await raw.SendAsync(burst.ToArray(), TestContext.Current.CancellationToken);
        foreach ((string what, byte[] body) in expected)
        {
            RawHttpConnection.Response response = await raw.ReadResponseAsync(TestContext.Current.CancellationToken);
            Assert.Equal(200, response.Status);
            Payload.Equal(body, response.Body, what);
        }

        Assert.Equal(1, server.Stats.Connections);
    }

    [Theory(Timeout = WebTransports.TestTimeoutMs)]
    [MemberData(nameof(WebTransports.All), MemberType = typeof(WebTransports))]
    public async Task Http1_PipelinedRequestsSentByteByByte_AnsweredInOrder(string transport)
    {
        // Every read the transport makes ends mid-request: the parser must resume across reads.
        await using TestServer server = await TestServer.StartAsync(transport);
        using RawHttpConnection raw = await server.RawAsync();
        byte[] requests = RawHttpConnection.Request("GET", "/plaintext")
            .Concat(RawHttpConnection.Request("POST", "/echo", "byte by byte"u8))
            .Concat(RawHttpConnection.Request("GET", "/json")).ToArray();
        for (int i = 0; i < requests.Length; i++)
            await raw.SendAsync(requests.AsMemory(i, 1), TestContext.Current.CancellationToken);
        string[] bodies = new string[3];
        for (int i = 0; i < 3; i++)
            bodies[i] = Encoding.ASCII.GetString((await raw.ReadResponseAsync(TestContext.Current.CancellationToken)).Body);
        Assert.Equal(["Hello, World!", "byte by byte", """{"message":"Hello, World!"}"""], bodies);
    }
}
