using System;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Syscalls.AspNetCore.Tests.Infrastructure;
using Xunit;

namespace Syscalls.AspNetCore.Tests;

/// <summary>The sample as a process, as <c>./build.sh web</c> and the benchmark run it: it prints the backend and its
/// listening lines, serves, and stops cleanly (exit 0, a "stopped:" line) on SIGINT, and on SIGTERM when a script
/// started it in the background (where SIGINT is ignored); bad input gets a clear error.</summary>
public class SampleProcessTests
{
    private const string Listening = @"^web listening on http://127\.0\.0\.1:(\d+)/ \(HTTP/1\.1\)$";

    [Theory(Timeout = WebTransports.TestTimeoutMs)]
    [MemberData(nameof(WebTransports.All), MemberType = typeof(WebTransports))]
    public async Task Sample_SigInt_StopsCleanlyAndCountsWhatItServed(string transport)
    {
        if (OperatingSystem.IsWindows())
            Assert.Skip("SIGINT and kill(1): Unix only (on Windows Ctrl+C is a console event, which a test cannot send to another process's console)");
        await using SampleProcess web = SampleProcess.Start(["--backend", transport, "--port", "0"]);
        Match backend = await web.WaitForLineAsync(@"^backend: (\S+)");
        Assert.Equal(transport, backend.Groups[1].Value);
        int port = Port(await web.WaitForLineAsync(Listening));
        await web.WaitForLineAsync(@"^web listening on http://127\.0\.0\.1:\d+/ \(HTTP/2 by prior knowledge, h2c\)$");
        await Get(port);
        await SampleProcess.SignalAsync(web.Process.Id, "INT");
        Assert.Equal(0, await web.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains("stopped: 1 requests on 1 connections", web.Output);
    }

    [Theory(Timeout = WebTransports.TestTimeoutMs)]
    [MemberData(nameof(WebTransports.Some), MemberType = typeof(WebTransports))]
    public async Task Sample_BackgroundedByScript_SigTermStopsCleanly(string transport)
    {
        if (!OperatingSystem.IsLinux())
            Assert.Skip("a bash script and kill(1): Linux only");
        await using SampleProcess script = SampleProcess.Start(["--backend", transport, "--port", "0", "--h2c-port", "off"], backgroundByScript: true);
        int pid = int.Parse((await script.WaitForLineAsync(@"^pid (\d+)$")).Groups[1].Value, CultureInfo.InvariantCulture);
        int port = Port(await script.WaitForLineAsync(Listening));
        await Get(port);
        await SampleProcess.SignalAsync(pid, "TERM");
        await script.WaitForLineAsync("^exit 0$", TimeSpan.FromSeconds(20));
        Assert.Contains("stopped: 1 requests on 1 connections", script.Output);
        Assert.DoesNotContain("(HTTP/2 by prior knowledge", script.Output);   // --h2c-port off
    }

    [Theory(Timeout = WebTransports.TestTimeoutMs)]
    [MemberData(nameof(WebTransports.Some), MemberType = typeof(WebTransports))]
    public async Task Sample_Tls_ListensOnHttpsWithItsCertificate(string transport)
    {
        TlsKeys.SkipUnlessAvailable();
        await using SampleProcess web = SampleProcess.Start(["--backend", transport, "--port", "0", "--tls"]);
        Match m = await web.WaitForLineAsync(@"^web listening on https://127\.0\.0\.1:(\d+)/ \(HTTP/1\.1 and HTTP/2 by ALPN; self-signed certificate, SHA-256 ([0-9A-F]{64})\)$");
        string hash = m.Groups[2].Value;
        using var client = new System.Net.Http.HttpClient(new System.Net.Http.SocketsHttpHandler
        {
            UseProxy = false,
            SslOptions = { RemoteCertificateValidationCallback = (_, c, _, _) => c?.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256) == hash },
        })
        { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = System.Net.Http.HttpVersionPolicy.RequestVersionExact };
        Assert.Equal("Hello, World!", await client.GetStringAsync($"https://127.0.0.1:{m.Groups[1].Value}/plaintext", TestContext.Current.CancellationToken));
        await SampleProcess.SignalAsync(web.Process.Id, "TERM");
        Assert.Equal(0, await web.WaitForExitAsync(TimeSpan.FromSeconds(20)));
    }

    [Theory(Timeout = WebTransports.TestTimeoutMs)]
    [InlineData("iocp", "is not one of this OS's")]
    [InlineData("kqueue", "is not one of this OS's")]
    [InlineData("bogus", "unknown backend 'bogus'")]
    public async Task Sample_BackendNotOnThisHost_ClearErrorExit2(string backend, string message)
    {
        if (!OperatingSystem.IsLinux())
            Assert.Skip("the messages name Linux's backends");
        await using SampleProcess web = SampleProcess.Start(["--backend", backend, "--port", "0"]);
        Assert.Equal(2, await web.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains(message, web.Output);
        Assert.DoesNotContain("listening", web.Output);
    }

    [Theory(Timeout = WebTransports.TestTimeoutMs)]
    [MemberData(nameof(WebTransports.Some), MemberType = typeof(WebTransports))]
    public async Task Sample_PortInUse_ClearErrorExit1(string transport)
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        int port = ((IPEndPoint)taken.LocalEndPoint!).Port;
        await using SampleProcess web = SampleProcess.Start(["--backend", transport, "--port", port.ToString(CultureInfo.InvariantCulture)]);
        Assert.Equal(1, await web.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains("web: cannot listen:", web.Output);
        Assert.Contains(port.ToString(CultureInfo.InvariantCulture), web.Output);
    }

    private static int Port(Match listening) => int.Parse(listening.Groups[1].Value, CultureInfo.InvariantCulture);

    private static async Task Get(int port)
    {
        using var client = new System.Net.Http.HttpClient(new System.Net.Http.SocketsHttpHandler { UseProxy = false });
        Assert.Equal("Hello, World!", await client.GetStringAsync($"http://127.0.0.1:{port}/plaintext", TestContext.Current.CancellationToken));
    }
}
