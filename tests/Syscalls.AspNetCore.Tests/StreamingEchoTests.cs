using System;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Syscalls.AspNetCore.Tests.Infrastructure;
using Xunit;

namespace Syscalls.AspNetCore.Tests;

/// <summary>POST /echo streams: the echo starts before the request body has ended, and a body larger than Kestrel's
/// default request limit (30 MB) goes through, never held whole by either side.</summary>
public class StreamingEchoTests
{
    [Theory(Timeout = WebTransports.TestTimeoutMs)]
    [MemberData(nameof(WebTransports.All), MemberType = typeof(WebTransports))]
    public async Task Http1_EchoArrivesBeforeRequestBodyEnds(string transport)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using TestServer server = await TestServer.StartAsync(transport);
        using RawHttpConnection raw = await server.RawAsync();
        const int size = 2 * 1024 * 1024, first = 1024 * 1024;
        byte[] body = Payload.Create(11, size);
        await raw.SendAsync(RawHttpConnection.Request("POST", "/echo", body)[..^(size - first)], ct);
        // Half the body is out: a server that buffered the whole request would send nothing now, and this read would
        // time out.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        RawHttpConnection.Response head = await raw.ReadResponseAsync(timeout.Token, headOnly: true);
        Assert.Equal(200, head.Status);
        var echoed = new byte[size];
        int got = 0;
        while (got < first / 2)
            got += await raw.ReadSomeAsync(echoed.AsMemory(got, first - got), timeout.Token);
        await raw.SendAsync(body.AsMemory(first), ct);
        while (got < size)
        {
            int n = await raw.ReadSomeAsync(echoed.AsMemory(got), timeout.Token);
            Assert.NotEqual(0, n);
            got += n;
        }

        Payload.Equal(body, echoed, "streamed echo");
    }

    [Theory(Timeout = WebTransports.TestTimeoutMs)]
    [MemberData(nameof(WebTransports.Some), MemberType = typeof(WebTransports))]
    public async Task H2c_BodyLargerThanKestrelsLimit_StreamsThroughWhileUploading(string transport)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using TestServer server = await TestServer.StartAsync(transport);
        using HttpClient client = server.Client(HttpVersion.Version20);
        const long size = 40L * 1024 * 1024;
        var echoedSome = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/echo")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            // The upload stops at 4 MiB until 1 MiB of echo has come back: full duplex, or no progress at all.
            Content = new PayloadContent(5, size) { PauseAt = 4 * 1024 * 1024, Resume = () => echoedSome.Task.WaitAsync(TimeSpan.FromSeconds(20), ct) },
        };
        using HttpResponseMessage response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version20, response.Version);
        await using Stream stream = await response.Content.ReadAsStreamAsync(ct);
        long got = await Echo.VerifyAsync(stream, 5, size, progress: n =>
        {
            if (n >= 1024 * 1024)
                echoedSome.TrySetResult();
        });
        Assert.Equal(size, got);
    }
}
