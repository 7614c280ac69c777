using System;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using Syscalls.Runtime.Tests.Infrastructure;
using Xunit;

namespace Syscalls.Runtime.Tests.Ring;

/// <summary>The ring server model (RingServer) on every ring backend (io_uring, emulated, IOCP), beyond the shared
/// server tests: no allocation per echoed message, and the provided buffer echoed back without a copy.</summary>
[Collection(nameof(RingServerTests))]
[CollectionDefinition(nameof(RingServerTests), DisableParallelization = true)]
public class RingServerTests
{
    public static TheoryData<string> RingServers
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (BackendKind k in TestBackends.ServerKinds().Where(k => k is BackendKind.IoUring or BackendKind.Emulated or BackendKind.Iocp))
                data.Add(BackendSelector.NameOf(k));
            if (data.Count == 0)
                data.Add("emulated");   // resolves to the fallback; the test then skips saying so
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(RingServers))]
    public void RingServer_SteadyEcho_AllocatesNothingAndSendsFromTheReceiveBuffer(string backend)
    {
        var handler = new CountingEcho(warmup: 2000);
        using var server = new InProcessServer(backend, handler);
        if (server.Server.Backend != TestBackends.Kind(backend))
            Assert.Skip($"{backend} resolved to {server.Server.Backend} here: {server.Server.SelectionReason}");
        var clients = Enumerable.Range(0, 8).Select(_ => server.Connect()).ToArray();
        for (int round = 0; round < 1000; round++)
        {
            for (int c = 0; c < clients.Length; c++)
                Peers.EchoOnce(clients[c], c, round, 64);
        }

        Assert.True(handler.Measured > 5000, $"only {handler.Measured} messages measured");
        Assert.Equal(0, handler.Allocated);
        // No copy: every echo went out of the provided buffer it arrived in (the copy path allocates nothing either,
        // so the allocation count alone cannot tell them apart).
        var ring = (Syscalls.Runtime.Servers.RingServer)server.Server;
        Assert.Equal(0, ring.BytesCopiedToSend);
        Assert.True(ring.SendsFromReceiveBuffer >= 8 * 1000, $"{ring.SendsFromReceiveBuffer} sends from receive buffers for 8000 echoes");
        foreach (Socket c in clients)
            c.Dispose();
        Assert.True(EchoHandler.WaitFor(() => server.Server.ConnectionCount == 0), "connections not closed");
    }

    /// <summary>Echoes; after <c>warmup</c> messages it measures the loop thread's allocations (the handler runs on it).</summary>
    private sealed class CountingEcho(int warmup) : IConnectionHandler
    {
        private long _messages;
        private long _mark = -1;

        public long Allocated { get; private set; }

        public long Measured => Math.Max(0, _messages - warmup);

        public void OnData(Connection connection, ReadOnlySpan<byte> data)
        {
            connection.Send(data);
            if (++_messages == warmup)
                _mark = GC.GetAllocatedBytesForCurrentThread();
            else if (_mark >= 0)
                Allocated = GC.GetAllocatedBytesForCurrentThread() - _mark;
        }
    }
}
