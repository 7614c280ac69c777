using System;
using System.IO;
using System.Threading.Tasks;
using Syscalls.AspNetCore.Tests.Infrastructure;
using Xunit;

namespace Syscalls.AspNetCore.Tests;

/// <summary>curl, a client no one here wrote: HTTP/1.1 (sized and chunked uploads, keep-alive), HTTP/2 by prior
/// knowledge, and HTTPS trusting the test's certificate (HTTP/2 by ALPN, and HTTP/1.1).</summary>
public sealed class CurlTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("syscalls-curl-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Theory(Timeout = WebTransports.TestTimeoutMs)]
    [MemberData(nameof(WebTransports.All), MemberType = typeof(WebTransports))]
    public async Task Curl_Http11_PlaintextSizedAndChunkedEchoKeepAlive(string transport)
    {
        await using TestServer server = await TestServer.StartAsync(transport);
        string url = server.Address.ToString().TrimEnd('/');
        string upload = Write("upload.bin", Payload.Create(9, 3 * 1024 * 1024 + 7));
        string sizedBack = Path.Combine(_dir.FullName, "sized.bin"), chunkedBack = Path.Combine(_dir.FullName, "chunked.bin");
        string headers = Path.Combine(_dir.FullName, "headers.txt");

        // One curl, four transfers: curl reuses the connection, and says so in num_connects (1, then 0s).
        ExternalTool.Result r = await Curl("-w", "%{http_code} %{num_connects}\\n",
            $"{url}/plaintext", "-o", Path.Combine(_dir.FullName, "plain.txt"),
            "--next", "-w", "%{http_code} %{num_connects}\\n", "--data-binary", $"@{upload}", $"{url}/echo", "-o", sizedBack,
            "--next", "-w", "%{http_code} %{num_connects}\\n", "-H", "Transfer-Encoding: chunked", "--data-binary", $"@{upload}",
            "-D", headers, $"{url}/echo", "-o", chunkedBack,
            "--next", "-w", "%{http_code} %{num_connects}\\n", $"{url}/json", "-o", Path.Combine(_dir.FullName, "json.txt"));
        Assert.Equal("200 1\n200 0\n200 0\n200 0\n", r.Output);
        Assert.Equal("Hello, World!", File.ReadAllText(Path.Combine(_dir.FullName, "plain.txt")));
        Assert.Equal("""{"message":"Hello, World!"}""", File.ReadAllText(Path.Combine(_dir.FullName, "json.txt")));
        Payload.Equal(File.ReadAllBytes(upload), File.ReadAllBytes(sizedBack), "curl sized echo");
        Payload.Equal(File.ReadAllBytes(upload), File.ReadAllBytes(chunkedBack), "curl chunked echo");
        Assert.Contains("transfer-encoding: chunked", File.ReadAllText(headers), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(1, server.Stats.Connections);
    }

    [Theory(Timeout = WebTransports.TestTimeoutMs)]
    [MemberData(nameof(WebTransports.All), MemberType = typeof(WebTransports))]
    public async Task Curl_Http2PriorKnowledge_JsonAndEcho(string transport)
    {
        await using TestServer server = await TestServer.StartAsync(transport);
        string url = server.H2cAddress.ToString().TrimEnd('/');
        string upload = Write("upload.bin", Payload.Create(10, 2 * 1024 * 1024 + 1));
        string back = Path.Combine(_dir.FullName, "back.bin");
        // Two curls: curl 7.88 (Debian 12) fails a prior-knowledge connection it reuses with --next ("Error in the
        // HTTP2 framing layer" before it sends anything); h2load covers many requests per connection.
        ExternalTool.Result json = await Curl("--http2-prior-knowledge", "-w", " %{http_version} %{http_code}", $"{url}/json");
        Assert.Equal("""{"message":"Hello, World!"} 2 200""", json.Output);
        ExternalTool.Result echo = await Curl("--http2-prior-knowledge", "-w", "%{http_version} %{http_code}", "--data-binary", $"@{upload}",
            $"{url}/echo", "-o", back);
        Assert.Equal("2 200", echo.Output);
        Payload.Equal(File.ReadAllBytes(upload), File.ReadAllBytes(back), "curl h2c echo");
    }

    [Theory(Timeout = WebTransports.TestTimeoutMs)]
    [MemberData(nameof(WebTransports.All), MemberType = typeof(WebTransports))]
    public async Task Curl_TlsTrustingTheCertificate_Http2ByAlpnAndHttp11(string transport)
    {
        await using TestServer server = await TestServer.StartAsync(transport, tls: true);
        string url = server.Address.ToString().TrimEnd('/');
        string ca = Path.Combine(_dir.FullName, "server.pem");
        File.WriteAllText(ca, server.Certificate!.ExportCertificatePem());
        ExternalTool.Result r = await Curl("--cacert", ca, "-w", " %{http_version}\\n", $"{url}/plaintext",
            "--next", "--cacert", ca, "--http1.1", "-w", " %{http_version}\\n", $"{url}/plaintext");
        Assert.Equal("Hello, World! 2\nHello, World! 1.1\n", r.Output);
    }

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir.FullName, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static async Task<ExternalTool.Result> Curl(params string[] args)
    {
        ExternalTool.Result r = await ExternalTool.RunAsync("curl", ["-sS", "--noproxy", "*", "--max-time", "30", .. args]);
        Assert.True(r.ExitCode == 0, $"curl exited {r.ExitCode}: {r.Error}");
        return r;
    }
}
