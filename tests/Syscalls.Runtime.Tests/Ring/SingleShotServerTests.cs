using System;
using System.Linq;
using System.Net.Sockets;
using System.Threading.Tasks;
using Syscalls.Runtime.Servers;
using Syscalls.Runtime.Tests.Infrastructure;
using Xunit;

namespace Syscalls.Runtime.Tests.Ring;

/// <summary>The ring server's single-shot mode, the one IOCP needs (no multishot operations, no buffer groups): one
/// Accept per completion, and per connection a PollReadable that holds no buffer before each Recv. It runs natively on
/// IOCP (Windows) and, with their multishot features hidden, on io_uring and the emulated ring, so Linux executes it
/// too.</summary>
public class SingleShotServerTests
{
    public static TheoryData<string> Backends
    {
        get
        {
            var data = new TheoryData<string>();
            if (OperatingSystem.IsWindows() && BackendSelector.ForcedRingBackend is BackendKind.Auto or BackendKind.Iocp)
                data.Add("iocp");
            foreach (TheoryDataRow<string> row in RingKit.Backends)
                data.Add(row.Data);
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void SingleShot_ManyConnections_EveryByteEchoesAndIdleConnectionsHoldNoBuffer(string backend)
    {
        var handler = new EchoHandler();
        using InProcessServer server = Start(backend, handler);
        Socket[] clients = Enumerable.Range(0, Platform.IsWine ? 40 : 200).Select(_ => server.Connect()).ToArray();
        try
        {
            for (int round = 0; round < 3; round++)
            {
                for (int c = 0; c < clients.Length; c++)
                    Peers.EchoOnce(clients[c], c, round, 100 + c);
            }

            // Every connection is idle now, with a receive armed: without PollReadable each would hold a buffer.
            var ring = (RingServer)server.Server;
            Assert.True(EchoHandler.WaitFor(() => ring.ReceiveBuffersOut == 0),
                $"{ring.ReceiveBuffersOut} receive buffers held by {clients.Length} idle connections");
            Assert.Equal(clients.Length, server.Server.ConnectionCount);
        }
        finally
        {
            foreach (Socket c in clients)
                c.Dispose();
        }

        Assert.True(EchoHandler.WaitFor(() => server.Server.ConnectionCount == 0), "connections not closed");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task SingleShot_LargeTransferWithBackPressure_EveryByteEchoes(string backend)
    {
        // Full buffers are received again without a PollReadable in between; above the high-water mark the armed
        // PollReadable is canceled and re-armed once the sends drain.
        using InProcessServer server = Start(backend, new EchoHandler(), o => o.MaxPendingSendBytes = 64 * 1024);
        using Socket client = server.Connect();
        byte[] sent = Peers.Payload(5, 0, Platform.IsWine ? 1024 * 1024 : 4 * 1024 * 1024);
        Task sender = Task.Run(() => client.Send(sent), TestContext.Current.CancellationToken);
        var back = new byte[sent.Length];
        await Peers.ReadExactlyAsync(client, back, TestContext.Current.CancellationToken);
        await sender;
        Assert.True(sent.AsSpan().SequenceEqual(back), "echoed bytes differ");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void SingleShot_PeerHalfCloses_EndOfStreamAfterTheData(string backend)
    {
        var handler = new EchoHandler();
        using InProcessServer server = Start(backend, handler);
        using Socket client = server.Connect();
        byte[] sent = Peers.Payload(6, 0, 10_000);
        client.Send(sent);
        client.Shutdown(SocketShutdown.Send);
        var back = new byte[sent.Length];
        Peers.ReadExactly(client, back);
        Assert.Equal(sent, back);
        Assert.Equal(0, client.Receive(new byte[16]));   // the echo handler closes on end of stream
        Assert.True(EchoHandler.WaitFor(() => handler.Closed == 1), "half-closed connection not closed");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void SingleShot_PeerResetsWhileIdle_ServerClosesItAndKeepsServing(string backend)
    {
        var handler = new EchoHandler();
        using InProcessServer server = Start(backend, handler);
        Socket victim = server.Connect();
        Peers.EchoOnce(victim, 0, 0, 10);
        Peers.Reset(victim);   // the server waits in PollReadable when the reset comes
        Assert.True(EchoHandler.WaitFor(() => handler.Closed == 1), "reset connection not closed");
        using Socket other = server.Connect();
        Peers.EchoOnce(other, 1, 0, 1000);
    }

    /// <summary>iocp: the server the selector builds (single-shot by nature). Otherwise a ring server over the named
    /// ring with its multishot features hidden.</summary>
    private static InProcessServer Start(string backend, IConnectionHandler handler, Action<ServerOptions>? configure = null)
    {
        if (backend == "iocp")
        {
            var server = new InProcessServer(backend, handler, configure);
            Assert.IsType<RingServer>(server.Server);
            return server;
        }

        IRing ring = RingKit.Create(backend, 1024);
        return new InProcessServer(handler, options =>
        {
            configure?.Invoke(options);
            return new RingServer(TestBackends.Kind(backend), "single-shot test", new SingleShotRing(ring), options, handler);
        });
    }

    /// <summary>A real ring that admits only single-shot operations, as IOCP does.</summary>
    private sealed class SingleShotRing(IRing inner) : IRing
    {
        public string Name => inner.Name + " (single-shot)";

        public RingFeatures Features => inner.Features & RingFeatures.KernelCompletion;

        public int SubmissionSpace => inner.SubmissionSpace;

        public bool Supports(RingOpcode opcode)
            => opcode is not (RingOpcode.AcceptMultishot or RingOpcode.RecvMultishot) && inner.Supports(opcode);

        public Result Enqueue(in RingOperation operation)
            => Supports(operation.Opcode) ? inner.Enqueue(operation) : OsError.FromKind(ErrorKind.NotSupported);

        public Result<int> Submit() => inner.Submit();

        public int Harvest(Span<RingCompletion> completions) => inner.Harvest(completions);

        public Result<int> SubmitAndWait(Span<RingCompletion> completions, int timeoutMilliseconds)
            => inner.SubmitAndWait(completions, timeoutMilliseconds);

        public Result RegisterBufferGroup(ushort groupId, RingBufferPool pool) => OsError.FromKind(ErrorKind.NotSupported);

        public void ReturnBuffer(ushort groupId, int bufferId) => throw new InvalidOperationException("no buffer groups here");

        public void Wake() => inner.Wake();

        public void Dispose() => inner.Dispose();
    }
}
