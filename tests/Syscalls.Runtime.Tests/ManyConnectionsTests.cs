using System;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Syscalls.Runtime.Tests.Infrastructure;
using Xunit;

namespace Syscalls.Runtime.Tests;

/// <summary>10,000 concurrent connections against a server in a child process (each process then holds ~10k
/// descriptors, under the 20,000 hard RLIMIT_NOFILE), every byte verified.</summary>
[Collection(nameof(ManyConnectionsTests))]
[CollectionDefinition(nameof(ManyConnectionsTests), DisableParallelization = true)]
public class ManyConnectionsTests
{
    public const int Connections = 10_000;

    [Theory]
    [MemberData(nameof(TestBackends.Servers), MemberType = typeof(TestBackends))]
    public async Task Echo_TenThousandConnections_EveryByteVerified(string backend)
    {
        Platform.RequireLinux("10,000 connections in a child process need the raised RLIMIT_NOFILE (Wine: covered at small scale by the echo theories)");
        int soft = ManyConnectionsTestsLimits.OpenFileLimit();
        if (soft < Connections + 500)
            Assert.Skip($"RLIMIT_NOFILE soft limit {soft} < {Connections + 500}");
        using ChildServer child = ChildServer.Start(backend);   // the .NET host raises its soft limit to the hard one
        Assert.Contains($"backend {backend}", child.Output);
        var ep = new IPEndPoint(IPAddress.Loopback, child.Port);
        var sockets = new Socket[Connections];
        var sw = Stopwatch.StartNew();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            // Connect with a bounded number in flight (the accept queue is capped by somaxconn).
            using (var gate = new SemaphoreSlim(256))
            {
                await Task.WhenAll(Enumerable.Range(0, Connections).Select(async i =>
                {
                    await gate.WaitAsync(cts.Token);
                    try
                    {
                        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                        await s.ConnectAsync(ep, cts.Token);
                        sockets[i] = s;
                    }
                    finally
                    {
                        gate.Release();
                    }
                }));
            }

            long connectMs = sw.ElapsedMilliseconds;
            // All connections are open at once; now every one echoes two rounds concurrently.
            for (int round = 0; round < 2; round++)
            {
                await Task.WhenAll(Enumerable.Range(0, Connections).Select(async i =>
                {
                    byte[] sent = Peers.Payload(i, round, 64 + (i % 7) * 100);
                    await sockets[i].SendAsync(sent, SocketFlags.None, cts.Token);
                    var back = new byte[sent.Length];
                    await Peers.ReadExactlyAsync(sockets[i], back, cts.Token);
                    if (!sent.AsSpan().SequenceEqual(back))
                        throw new InvalidOperationException($"connection {i} round {round}: echo differs");
                }));
            }

            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(60), $"took {sw.Elapsed} (connect {connectMs} ms)");
        }
        finally
        {
            foreach (Socket? s in sockets)
            {
                if (s is not null)
                    Peers.Reset(s);
            }
        }

        Assert.Equal(0, child.Stop());
        Assert.Contains("closed opened=10000", child.Output);
    }

}

internal static class ManyConnectionsTestsLimits
{
    internal static int OpenFileLimit()
    {
        // /proc/self/limits: "Max open files   <soft>   <hard>   files"
        string line = System.IO.File.ReadAllLines("/proc/self/limits").First(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return f[3] == "unlimited" ? int.MaxValue : int.Parse(f[3], System.Globalization.CultureInfo.InvariantCulture);
    }
}
