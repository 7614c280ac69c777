using System;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Syscalls.AspNetCore.Tests.Infrastructure;
using Xunit;

namespace Syscalls.AspNetCore.Tests;

/// <summary>Chunked request and response bodies over HTTP/1.1, seen on the wire and through HttpClient.</summary>
public class ChunkedTests
{
    [Theory(Timeout = WebTransports.TestTimeoutMs)]
    [MemberData(nameof(WebTransports.All), MemberType = typeof(WebTransports))]
    public async Task PostEcho_ChunkedRequestOnTheWire_ChunkedEchoWhole(string transport)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using TestServer server = await TestServer.StartAsync(transport);
        using RawHttpConnection raw = await server.RawAsync();
        const int size = 3 * 1024 * 1024 + 5;
        byte[] body = Payload.Create(7, size);
        var request = new MemoryStream();
        request.Write("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"u8);
        int[] chunkSizes = [1, 7, 4096, 65_537, 300_001, 2];
        for (int off = 0, i = 0; off < size; i++)
        {
            int n = Math.Min(chunkSizes[i % chunkSizes.Length], size - off);
            request.Write(Encoding.ASCII.GetBytes($"{n:x}\r\n"));
            request.Write(body, off, n);
            request.Write("\r\n"u8);
            off += n;
        }

        request.Write("0\r\n\r\n"u8);
        Task sending = raw.SendAsync(request.ToArray(), ct);   // while the echo streams back: full duplex
        RawHttpConnection.Response response = await raw.ReadResponseAsync(ct);
        await sending;
        Assert.Equal(200, response.Status);
        Assert.True(response.Chunked, "a chunked request's echo should be chunked");
        Payload.Equal(body, response.Body, "chunked echo");
    }

    [Theory(Timeout = WebTransports.TestTimeoutMs)]
    [MemberData(nameof(WebTransports.All), MemberType = typeof(WebTransports))]
    public async Task Post_HttpClientChunkedUpload_ServerReceivesEveryByte(string transport)
    {
        await using TestServer server = await TestServer.StartAsync(transport);
        using HttpClient client = server.Client(HttpVersion.Version11);
        const int size = 5 * 1024 * 1024 + 3;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/test/sink?seed=8") { Content = new PayloadContent(8, size) };
        using HttpResponseMessage response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.True(request.Headers.TransferEncodingChunked, "the request did not go chunked");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(size.ToString(CultureInfo.InvariantCulture), await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Theory(Timeout = WebTransports.TestTimeoutMs)]
    [MemberData(nameof(WebTransports.All), MemberType = typeof(WebTransports))]
    public async Task Get_ChunkedResponse_FramedOnTheWireAndWhole(string transport)
    {
        await using TestServer server = await TestServer.StartAsync(transport);
        using RawHttpConnection raw = await server.RawAsync();
        const int size = 5 * 1024 * 1024 + 1;
        await raw.SendAsync(RawHttpConnection.Request("GET", $"/test/bytes?n={size}&seed=3&chunked=1"), TestContext.Current.CancellationToken);
        RawHttpConnection.Response response = await raw.ReadResponseAsync(TestContext.Current.CancellationToken);
        Assert.Equal(200, response.Status);
        Assert.True(response.Chunked, "no Transfer-Encoding: chunked");
        Assert.False(response.Headers.ContainsKey("content-length"));
        Payload.Equal(Payload.Create(3, size), response.Body, "chunked response");
    }

    [Theory(Timeout = WebTransports.TestTimeoutMs)]
    [MemberData(nameof(WebTransports.All), MemberType = typeof(WebTransports))]
    public async Task PostEcho_HandWrittenChunksWithExtensionAndTrailer_Echoed(string transport)
    {
        await using TestServer server = await TestServer.StartAsync(transport);
        using RawHttpConnection raw = await server.RawAsync();
        string request = "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n" +
            "5;name=value\r\nHello\r\n" + "1\r\n,\r\n" + "7\r\n World!\r\n" + "0\r\nX-Trailer: yes\r\n\r\n";
        await raw.SendAsync(Encoding.ASCII.GetBytes(request), TestContext.Current.CancellationToken);
        RawHttpConnection.Response response = await raw.ReadResponseAsync(TestContext.Current.CancellationToken);
        Assert.Equal(200, response.Status);
        Assert.True(response.Chunked);
        Assert.Equal("Hello, World!", Encoding.ASCII.GetString(response.Body));
    }
}
