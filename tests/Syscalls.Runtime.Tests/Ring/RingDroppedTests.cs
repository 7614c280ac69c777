using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading;
using Syscalls.Runtime.Sockets;
using Syscalls.Runtime.Tests.Infrastructure;
using Xunit;

namespace Syscalls.Runtime.Tests.Ring;

/// <summary>A ring the user drops without Dispose while the kernel still holds receives into its buffers: the ring
/// (and every buffer it lent the kernel) must stay alive, leaked rather than collected, or the kernel would write
/// the next bytes into memory the GC has handed to someone else.</summary>
public class RingDroppedTests
{
    private const int BufferSize = 4096, BufferCount = 64, Connections = 4;

    public static TheoryData<string> Backends
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (TheoryDataRow<string> row in RingKit.Backends)
                data.Add(row.Data);
            if (OperatingSystem.IsWindows() && BackendSelector.ForcedRingBackend is BackendKind.Auto or BackendKind.Iocp)
                data.Add("iocp");
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Ring_DroppedWithoutDisposeWhileReceivesPending_StaysAliveAndCorruptsNothing(string backend)
    {
        var (listener, ep) = RingKit.Listen();
        var clients = new List<Socket>();
        WeakReference<IRing>? dropped = null;
        try
        {
            dropped = StartReceivesThenDrop(backend, listener, ep, clients);
            for (int i = 0; i < 3; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }

            // Where a collected slab was, fresh pinned arrays would be now: fill them with a canary.
            var canaries = Enumerable.Range(0, 16).Select(_ =>
            {
                byte[] a = GC.AllocateArray<byte>(BufferSize * BufferCount, pinned: true);
                a.AsSpan().Fill(0xA5);
                return a;
            }).ToList();
            // More traffic for the receives the dropped ring left in the kernel.
            for (int c = 0; c < clients.Count; c++)
                clients[c].Send(Peers.Payload(c, 1, 3 * BufferSize));
            Thread.Sleep(200);   // let the kernel deliver (nothing here waits for a completion nobody harvests)
            for (int i = 0; i < canaries.Count; i++)
                Assert.True(!canaries[i].AsSpan().ContainsAnyExcept((byte)0xA5), $"canary array {i} was written into");
            Assert.True(dropped.TryGetTarget(out _), "the dropped ring was collected while the kernel held its buffers");

            // Later traffic on a ring of the same backend: every byte verified.
            IRing fresh = RingKit.Create(backend);
            using var loop = new RingEchoLoop(fresh, (fresh.Features & RingFeatures.MultishotRecv) != 0);
            using Socket s = Peers.Connect(loop.EndPoint);
            for (int round = 0; round < 20; round++)
                Peers.EchoOnce(s, 9, round, 1 + round * 701 % 8000);
        }
        finally
        {
            // The leaked ring is still reachable (rooted): dispose it now, so that this test leaks nothing.
            if (dropped is not null && dropped.TryGetTarget(out IRing? ring))
                ring.Dispose();
            foreach (Socket c in clients)
                c.Dispose();
            listener.Dispose();
        }
    }

    /// <summary>A Close takes the descriptor from its handle when enqueued: a ring disposed before it submitted the
    /// close (here from another thread than the one that drives it, as a loop's owner may do once the loop is gone)
    /// must still close it. The leak check found connections left in CLOSE_WAIT by exactly that.</summary>
    [Theory]
    [MemberData(nameof(Backends))]
    public void Ring_CloseEnqueuedThenDisposedUnsubmitted_ClosesTheDescriptor(string backend)
    {
        using var pair = new Pair();
        IRing ring = RingKit.Create(backend);
        RingKit.Enqueue(ring, RingOperation.Nop(RingKit.Tag(2)));
        ring.Submit();   // this thread drives the ring from now on (io_uring: SINGLE_ISSUER binds it)
        RingKit.Enqueue(ring, RingOperation.Close(pair.Server, RingKit.Tag(1)));
        Assert.True(pair.Server.IsClosed, "the ring took the descriptor");
        var other = new Thread(ring.Dispose);
        other.Start();
        other.Join();
        pair.Client.ReceiveTimeout = 10000;
        Assert.Equal(0, pair.Client.Receive(new byte[8]));   // end of stream: the server side was closed
    }

    /// <summary>Arms a receive on <see cref="Connections"/> accepted sockets, hands them to the kernel, and keeps only
    /// a weak reference to the ring: nothing of the caller's holds the ring, its pool or its handles after this.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference<IRing> StartReceivesThenDrop(string backend, SocketHandle listener, System.Net.IPEndPoint ep, List<Socket> clients)
    {
        IRing ring = RingKit.Create(backend);
        var pool = new RingBufferPool(BufferSize, BufferCount);
        bool multishot = (ring.Features & RingFeatures.MultishotRecv) != 0;
        if (multishot)
            ring.RegisterBufferGroup(1, pool).ThrowIfFailed();
        for (uint c = 0; c < Connections; c++)
        {
            clients.Add(Peers.Connect(ep));
            SocketHandle accepted = default!;
            Assert.True(SpinWait.SpinUntil(() => SocketOps.Accept(listener).TryGetValue(out accepted!), 5000));
            if (multishot)
            {
                RingKit.Enqueue(ring, RingOperation.RecvMultishot(accepted, 1, RingKit.Tag(c + 1)));
            }
            else
            {
                Assert.True(pool.TryRent(out int b));
                RingKit.Enqueue(ring, RingOperation.Recv(accepted, pool.Slice(b, 0, BufferSize), RingKit.Tag(c + 1)));
            }
        }

        ring.Submit();
        if (multishot)
        {
            // A first exchange proves the multishot receives are armed; they stay armed for the next bytes.
            for (int c = 0; c < clients.Count; c++)
                clients[c].Send(Peers.Payload(c, 0, 100));
            var got = new List<RingCompletion>();
            RingKit.Drive(ring, got, () => got.Count >= Connections);
        }

        return new WeakReference<IRing>(ring);
    }
}
