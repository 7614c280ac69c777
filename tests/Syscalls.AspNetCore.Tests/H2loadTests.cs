using System.IO;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Syscalls.AspNetCore.Tests.Infrastructure;
using Xunit;

namespace Syscalls.AspNetCore.Tests;

/// <summary>h2load (nghttp2), an independent HTTP/2 client: thousands of requests over many concurrent streams.</summary>
public class H2loadTests
{
    [Theory(Timeout = WebTransports.TestTimeoutMs)]
    [MemberData(nameof(WebTransports.Some), MemberType = typeof(WebTransports))]
    public async Task H2load_H2cManyStreams_EveryRequestSucceeds(string transport)
    {
        await using TestServer server = await TestServer.StartAsync(transport);
        ExternalTool.Result r = await ExternalTool.RunAsync("h2load", ["-n", "20000", "-c", "4", "-m", "100", $"{server.H2cAddress}plaintext"]);
        AssertAllSucceeded(r, 20000);
        Assert.Equal(4, server.Stats.Connections);
    }

    [Theory(Timeout = WebTransports.TestTimeoutMs)]
    [MemberData(nameof(WebTransports.Some), MemberType = typeof(WebTransports))]
    public async Task H2load_TlsAlpnH2_EveryRequestSucceeds(string transport)
    {
        await using TestServer server = await TestServer.StartAsync(transport, tls: true);
        ExternalTool.Result r = await ExternalTool.RunAsync("h2load", ["-n", "5000", "-c", "2", "-m", "50", $"{server.Address}json"]);
        Assert.Contains("Application protocol: h2", r.Output);
        AssertAllSucceeded(r, 5000);
    }

    [Theory(Timeout = WebTransports.TestTimeoutMs)]
    [MemberData(nameof(WebTransports.Some), MemberType = typeof(WebTransports))]
    public async Task H2load_ConcurrentUploadsToEcho_EveryRequestSucceeds(string transport)
    {
        await using TestServer server = await TestServer.StartAsync(transport);
        string body = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(body, Payload.Create(3, 100_000));
            ExternalTool.Result r = await ExternalTool.RunAsync("h2load", ["-n", "400", "-c", "2", "-m", "20", "-d", body, $"{server.H2cAddress}echo"]);
            AssertAllSucceeded(r, 400);
            // Every echo came back whole: h2load counts the DATA bytes it received.
            Match data = Regex.Match(r.Output, @"traffic: .*\((\d+)\) data");
            Assert.True(data.Success, r.Output);
            Assert.Equal(400L * 100_000, long.Parse(data.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        }
        finally
        {
            File.Delete(body);
        }
    }

    private static void AssertAllSucceeded(ExternalTool.Result r, int n)
    {
        Assert.True(r.ExitCode == 0, $"h2load exited {r.ExitCode}: {r.Output}{r.Error}");
        Assert.Contains($"requests: {n} total, {n} started, {n} done, {n} succeeded, 0 failed, 0 errored, 0 timeout", r.Output);
        Assert.Contains($"status codes: {n} 2xx, 0 3xx, 0 4xx, 0 5xx", r.Output);
    }
}
