using System;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace Syscalls.AspNetCore.Tests.Infrastructure;

/// <summary>Round trips through POST /echo that verify every byte as it streams back, full duplex: the echo of a body
/// larger than the socket buffers and flow-control windows flows while the upload goes on.</summary>
public static class Echo
{
    /// <summary>Through HttpClient (full duplex on HTTP/2 with <see cref="PayloadContent"/>); returns the response.</summary>
    public static async Task<HttpResponseMessage> ViaClientAsync(HttpClient client, int seed, long size, bool sized = true)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/echo")
        {
            Version = client.DefaultRequestVersion,
            VersionPolicy = client.DefaultVersionPolicy,
            Content = new PayloadContent(seed, size) { Sized = sized },
        };
        HttpResponseMessage response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(client.DefaultRequestVersion, response.Version);
        await using Stream stream = await response.Content.ReadAsStreamAsync(ct);
        Assert.Equal(size, await VerifyAsync(stream, seed, size));
        return response;
    }

    /// <summary>Reads <paramref name="stream"/> to its end, checking each byte against payload <paramref name="seed"/> as
    /// it comes; <paramref name="progress"/> hears the running count. Returns the count.</summary>
    public static async Task<long> VerifyAsync(Stream stream, int seed, long size, Action<long>? progress = null)
    {
        var buffer = new byte[128 * 1024];
        long got = 0;
        for (int n; (n = await stream.ReadAsync(buffer, TestContext.Current.CancellationToken)) > 0;)
        {
            int bad = Payload.FirstMismatch(seed, got, buffer.AsSpan(0, n));
            Assert.True(bad < 0, $"echo byte {got + bad} of {size} is wrong");
            got += n;
            progress?.Invoke(got);
        }

        return got;
    }

    /// <summary>Over a hand-written HTTP/1.1 connection, sending and reading at once (HttpClient's HTTP/1.1 sends the
    /// whole request before it reads).</summary>
    public static async Task<RawHttpConnection.Response> ViaRawAsync(RawHttpConnection raw, int seed, int size)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        byte[] body = Payload.Create(seed, size);
        Task sending = raw.SendAsync(RawHttpConnection.Request("POST", "/echo", body), ct);
        RawHttpConnection.Response response = await raw.ReadResponseAsync(ct);
        await sending;
        Assert.Equal(200, response.Status);
        Payload.Equal(body, response.Body, $"echo of {size} B");
        return response;
    }
}
