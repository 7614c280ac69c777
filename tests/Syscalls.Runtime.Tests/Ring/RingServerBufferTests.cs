using System;
using System.Linq;
using System.Net.Sockets;
using System.Threading.Tasks;
using Syscalls.Runtime.Servers;
using Syscalls.Runtime.Sockets;
using Syscalls.Runtime.Tests.Infrastructure;
using Xunit;

namespace Syscalls.Runtime.Tests.Ring;

/// <summary>The ring server's receive buffers: sized and counted by the options, and never all held by connections
/// whose sends stall, so the other connections keep receiving.</summary>
public class RingServerBufferTests
{
    private const int BufferSize = 2048, Buffers = 16, SlowReaders = 24, Messages = 20;

    [Theory]
    [MemberData(nameof(RingServerTests.RingServers), MemberType = typeof(RingServerTests))]
    public async Task RingServer_MoreSlowReadersThanBuffers_AnotherConnectionStillEchoes(string backend)
    {
        var handler = new EchoHandler();
        using var server = new InProcessServer(backend, handler, o =>
        {
            o.ReceiveBufferSize = BufferSize;
            o.ReceiveBufferCount = Buffers;
        });
        if (server.Server.Backend != TestBackends.Kind(backend))
            Assert.Skip($"{backend} resolved to {server.Server.Backend} here: {server.Server.SelectionReason}");
        var ring = (RingServer)server.Server;
        Assert.Equal((BufferSize, Buffers), ring.ReceiveBuffers);
        // Small send buffers for the accepted sockets (they inherit the listener's): a few messages fill a slow
        // reader's path, where the kernel's autotuning would otherwise take megabytes.
        Assert.True(SocketOps.SetSendBufferSize(ring.Listener, 4096).IsSuccess);

        // Slow readers: each sends more than its path can hold back to it and never reads, so the server's echo to
        // it stalls with a send in flight, for good.
        var slow = Enumerable.Range(0, SlowReaders).Select(_ =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
            s.Connect(server.EndPoint);
            return s;
        }).ToArray();
        try
        {
            // One message at a time, each echoed in full before the next comes: the echo that finds the path full
            // stalls with nothing queued behind it, i.e. sent from the receive buffer it came in.
            await Task.WhenAll(slow.Select((s, i) => Task.Run(async () =>
            {
                for (int m = 0; m < Messages; m++)
                {
                    await s.SendAsync(Peers.Payload(i, m, BufferSize), SocketFlags.None, TestContext.Current.CancellationToken);
                    await Task.Delay(10, TestContext.Current.CancellationToken);
                }
            }, TestContext.Current.CancellationToken)));
            // The server read all of it (the stalled echoes wait in send buffers of their own, not in receive buffers).
            Assert.True(EchoHandler.WaitFor(() => handler.Bytes == SlowReaders * Messages * BufferSize),
                $"the server read {handler.Bytes} of the slow readers' {SlowReaders * Messages * BufferSize} bytes");
            // Another connection echoes on, every byte verified.
            using Socket other = server.Connect();
            other.ReceiveTimeout = 10000;
            for (int round = 0; round < 30; round++)
                Peers.EchoOnce(other, 99, round, 1 + round * 997 % (4 * BufferSize));
        }
        finally
        {
            foreach (Socket s in slow)
                Peers.Reset(s);
        }
    }
}
