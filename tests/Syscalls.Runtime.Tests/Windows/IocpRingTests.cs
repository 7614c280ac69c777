using System;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using Syscalls.Runtime.Backends.Iocp;
using Syscalls.Runtime.Backends.Windows;
using Xunit;
using static Syscalls.Runtime.Tests.Windows.WindowsTestSupport;

namespace Syscalls.Runtime.Tests.Windows;

/// <summary>The IOCP ring: echo, half-close, reset, cancel and waker, each over both completion paths (inline through
/// FILE_SKIP_COMPLETION_PORT_ON_SUCCESS, and every operation through a packet).</summary>
public sealed class IocpRingTests
{
    private static IocpRing Create(bool skipOnSuccess)
    {
        RequireWindows();
        return IocpRing.TryCreate(new RingOptions { Entries = 64 }, skipOnSuccess).Value;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void IocpRing_AcceptRecvSend_EchoesAndUpdatesAcceptContext(bool skipOnSuccess)
    {
        using IocpRing ring = Create(skipOnSuccess);
        var pool = new RingBufferPool(4096, 4);
        using WinSocketHandle listener = Listen(out int port);
        Enqueue(ring, RingOperation.Accept(listener, Tag(1)));
        ring.Submit();
        using Socket peer = Peer(port);
        RingCompletion accepted = WaitOne(ring, Tag(1));
        Assert.True(accepted.IsSuccess, accepted.ToString());
        using WinSocketHandle conn = WinSocketHandle.FromCompletion(accepted.Result);

        // SO_UPDATE_ACCEPT_CONTEXT makes getpeername work; GetAcceptExSockaddrs saw the same peer.
        var peerLocal = NetEndpoint.FromIPEndPoint((IPEndPoint)peer.LocalEndPoint!);
        Assert.Equal(peerLocal, Winsock.GetPeerName(conn.Socket).Value);
        Assert.Equal(peerLocal, ring.LastAcceptedRemote);
        Assert.False(Winsock.IsInheritable(conn.Socket).Value);   // AcceptEx's socket is ours, made not inheritable

        for (int round = 0; round < 3; round++)
        {
            byte[] message = Encoding.ASCII.GetBytes($"hello iocp {round}");
            Assert.True(pool.TryRent(out int id));
            Enqueue(ring, RingOperation.Recv(conn, pool.Slice(id, 0, 4096), Tag(2, (byte)round)));
            ring.Submit();
            peer.Send(message);
            RingCompletion received = WaitOne(ring, Tag(2, (byte)round));
            Assert.True(received.IsSuccess, received.ToString());
            Assert.Equal(message, pool.GetSpan(id)[..received.Result].ToArray());
            Assert.False(pool.IsInFlight(id));

            Enqueue(ring, RingOperation.Send(conn, pool.Slice(id, 0, received.Result), Tag(3, (byte)round)));
            RingCompletion sent = WaitOne(ring, Tag(3, (byte)round));
            Assert.True(sent.IsSuccess, sent.ToString());
            Assert.Equal(message.Length, sent.Result);
            Assert.Equal(message, ReceiveExactly(peer, message.Length));
            pool.Return(id);
        }

        Assert.Equal(4, pool.Available);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void IocpRing_Connect_ConnectsAndUpdatesConnectContext(bool skipOnSuccess)
    {
        using IocpRing ring = Create(skipOnSuccess);
        var pool = new RingBufferPool(64, 1);
        using Socket server = PeerListener(out int port);
        using WinSocketHandle client = NewSocket();
        Enqueue(ring, RingOperation.Connect(client, NetEndpoint.Loopback(port), Tag(1)));
        RingCompletion connected = WaitOne(ring, Tag(1));
        Assert.True(connected.IsSuccess, connected.ToString());
        using Socket peer = server.Accept();

        // SO_UPDATE_CONNECT_CONTEXT makes getpeername and shutdown work on a ConnectEx socket.
        Assert.Equal(NetEndpoint.Loopback(port), Winsock.GetPeerName(client.Socket).Value);
        Assert.True(pool.TryRent(out int id));
        "ping"u8.CopyTo(pool.GetSpan(id));
        Enqueue(ring, RingOperation.Send(client, pool.Slice(id, 0, 4), Tag(2)));
        Assert.Equal(4, WaitOne(ring, Tag(2)).Result);
        Assert.Equal("ping"u8.ToArray(), ReceiveExactly(peer, 4));
        Assert.True(Winsock.Shutdown(client.Socket, Syscalls.Windows.Ws2_32.SD_SEND).IsSuccess);
        Assert.Equal(0, peer.Receive(new byte[1]));
    }

    [Fact]
    public void IocpRing_ConnectToClosedPort_ReportsRefused()
    {
        using IocpRing ring = Create(skipOnSuccess: true);
        using WinSocketHandle client = NewSocket();
        Enqueue(ring, RingOperation.Connect(client, NetEndpoint.Loopback(ClosedPort()), Tag(1)));
        RingCompletion c = WaitOne(ring, Tag(1));
        Assert.Equal(ErrorKind.ConnectionRefused, c.Error.Kind);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void IocpRing_PeerHalfCloses_RecvReturnsZeroAndSendStillWorks(bool skipOnSuccess)
    {
        using IocpRing ring = Create(skipOnSuccess);
        var pool = new RingBufferPool(256, 2);
        using WinSocketHandle listener = Listen(out int port);
        Enqueue(ring, RingOperation.Accept(listener, Tag(1)));
        ring.Submit();
        using Socket peer = Peer(port);
        using WinSocketHandle conn = WinSocketHandle.FromCompletion(WaitOne(ring, Tag(1)).Result);

        Assert.True(pool.TryRent(out int id));
        Enqueue(ring, RingOperation.Recv(conn, pool.Slice(id, 0, 256), Tag(2)));
        ring.Submit();
        peer.Shutdown(SocketShutdown.Send);
        RingCompletion eof = WaitOne(ring, Tag(2));
        Assert.True(eof.IsSuccess, eof.ToString());
        Assert.Equal(0, eof.Result);

        // The other direction is still open: the server can answer a half-closed peer.
        "bye"u8.CopyTo(pool.GetSpan(id));
        Enqueue(ring, RingOperation.Send(conn, pool.Slice(id, 0, 3), Tag(3)));
        Assert.Equal(3, WaitOne(ring, Tag(3)).Result);
        Assert.Equal("bye"u8.ToArray(), ReceiveExactly(peer, 3));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void IocpRing_PeerResets_PendingRecvFailsWithReset(bool skipOnSuccess)
    {
        using IocpRing ring = Create(skipOnSuccess);
        var pool = new RingBufferPool(256, 1);
        using WinSocketHandle listener = Listen(out int port);
        Enqueue(ring, RingOperation.Accept(listener, Tag(1)));
        ring.Submit();
        Socket peer = Peer(port);
        using WinSocketHandle conn = WinSocketHandle.FromCompletion(WaitOne(ring, Tag(1)).Result);

        Assert.True(pool.TryRent(out int id));
        Enqueue(ring, RingOperation.Recv(conn, pool.Slice(id, 0, 256), Tag(2)));
        ring.Submit();
        Reset(peer);
        RingCompletion c = WaitOne(ring, Tag(2));
        Assert.Equal(ErrorKind.ConnectionReset, c.Error.Kind);
        Assert.False(pool.IsInFlight(id));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void IocpRing_CancelPendingRecv_CompletesCanceledAndReleasesBuffer(bool skipOnSuccess)
    {
        using IocpRing ring = Create(skipOnSuccess);
        var pool = new RingBufferPool(256, 1);
        using WinSocketHandle listener = Listen(out int port);
        Enqueue(ring, RingOperation.Accept(listener, Tag(1)));
        ring.Submit();
        using Socket peer = Peer(port);
        using WinSocketHandle conn = WinSocketHandle.FromCompletion(WaitOne(ring, Tag(1)).Result);

        Assert.True(pool.TryRent(out int id));
        Enqueue(ring, RingOperation.Recv(conn, pool.Slice(id, 0, 256), Tag(2)));
        ring.Submit();
        Assert.True(pool.IsInFlight(id));
        Enqueue(ring, RingOperation.Cancel(Tag(2), Tag(3)));
        var done = WaitFor(ring, Tag(2), Tag(3));
        Assert.True(done[Tag(3).Value].IsSuccess, done[Tag(3).Value].ToString());
        Assert.Equal(ErrorKind.Canceled, done[Tag(2).Value].Error.Kind);
        Assert.False(pool.IsInFlight(id));
        pool.Return(id);

        // The connection survives a canceled receive.
        Assert.True(pool.TryRent(out id));
        Enqueue(ring, RingOperation.Recv(conn, pool.Slice(id, 0, 256), Tag(4)));
        ring.Submit();
        peer.Send("x"u8.ToArray());
        Assert.Equal(1, WaitOne(ring, Tag(4)).Result);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void IocpRing_PollReadable_ZeroByteRecvWaitsForDataAndTakesNothing(bool skipOnSuccess)
    {
        using IocpRing ring = Create(skipOnSuccess);
        var pool = new RingBufferPool(256, 1);
        using WinSocketHandle listener = Listen(out int port);
        Enqueue(ring, RingOperation.Accept(listener, Tag(1)));
        ring.Submit();
        using Socket peer = Peer(port);
        using WinSocketHandle conn = WinSocketHandle.FromCompletion(WaitOne(ring, Tag(1)).Result);

        Enqueue(ring, RingOperation.PollReadable(conn, Tag(2)));
        ring.Submit();
        Assert.Equal(0, ring.Harvest(new RingCompletion[4]));   // nothing to receive yet
        peer.Send("abc"u8.ToArray());
        RingCompletion ready = WaitOne(ring, Tag(2));
        Assert.True(ready.IsSuccess && ready.Result == 0, ready.ToString());

        // Nothing was taken: the receive that follows gets all of it.
        Assert.True(pool.TryRent(out int id));
        Enqueue(ring, RingOperation.Recv(conn, pool.Slice(id, 0, 256), Tag(3)));
        ring.Submit();
        Assert.Equal(3, WaitOne(ring, Tag(3)).Result);

        // End of stream makes it complete too, and a pending one can be canceled.
        Enqueue(ring, RingOperation.PollReadable(conn, Tag(4)));
        ring.Submit();
        Enqueue(ring, RingOperation.Cancel(Tag(4), Tag(5)));
        var done = WaitFor(ring, Tag(4), Tag(5));
        Assert.Equal(ErrorKind.Canceled, done[Tag(4).Value].Error.Kind);
        peer.Shutdown(SocketShutdown.Send);
        Enqueue(ring, RingOperation.PollReadable(conn, Tag(6)));
        ring.Submit();
        Assert.True(WaitOne(ring, Tag(6)).IsSuccess);
        Enqueue(ring, RingOperation.Recv(conn, pool.Slice(id, 0, 256), Tag(7)));
        ring.Submit();
        RingCompletion eof = WaitOne(ring, Tag(7));
        Assert.True(eof.IsSuccess && eof.Result == 0, eof.ToString());
    }

    [Fact]
    public void IocpRing_CancelPendingAccept_CompletesCanceled()
    {
        using IocpRing ring = Create(skipOnSuccess: true);
        using WinSocketHandle listener = Listen(out _);
        Enqueue(ring, RingOperation.Accept(listener, Tag(1)));
        ring.Submit();
        Enqueue(ring, RingOperation.Cancel(Tag(1), Tag(2)));
        var done = WaitFor(ring, Tag(1), Tag(2));
        Assert.True(done[Tag(2).Value].IsSuccess);
        Assert.Equal(ErrorKind.Canceled, done[Tag(1).Value].Error.Kind);
    }

    [Fact]
    public void IocpRing_CancelUnknownTag_ReportsNotFound()
    {
        using IocpRing ring = Create(skipOnSuccess: true);
        Enqueue(ring, RingOperation.Cancel(Tag(99), Tag(1)));
        Assert.Equal(ErrorKind.NotFound, WaitOne(ring, Tag(1)).Error.Kind);
    }

    [Fact]
    public void IocpRing_Timeout_CompletesTimedOutAfterDelay()
    {
        using IocpRing ring = Create(skipOnSuccess: true);
        long start = Environment.TickCount64;
        Enqueue(ring, RingOperation.TimeoutAfter(TimeSpan.FromMilliseconds(100), Tag(1)));
        RingCompletion c = WaitOne(ring, Tag(1));
        Assert.Equal(ErrorKind.TimedOut, c.Error.Kind);
        Assert.InRange(Environment.TickCount64 - start, 90, 5000);
    }

    [Fact]
    public void IocpRing_CancelTimeout_CompletesCanceledAtOnce()
    {
        using IocpRing ring = Create(skipOnSuccess: true);
        Enqueue(ring, RingOperation.TimeoutAfter(TimeSpan.FromSeconds(30), Tag(1)));
        ring.Submit();
        long start = Environment.TickCount64;
        Enqueue(ring, RingOperation.Cancel(Tag(1), Tag(2)));
        var done = WaitFor(ring, Tag(1), Tag(2));
        Assert.Equal(ErrorKind.Canceled, done[Tag(1).Value].Error.Kind);
        Assert.True(done[Tag(2).Value].IsSuccess);
        Assert.True(Environment.TickCount64 - start < 5000);
    }

    [Fact]
    public void IocpRing_WakeFromAnotherThread_ReturnsEarlyAndCoalesces()
    {
        using IocpRing ring = Create(skipOnSuccess: true);
        var completions = new RingCompletion[4];
        // A thread of its own, not a timer: under load the thread pool can run a timer's callback seconds late.
        var waker = new Thread(() =>
        {
            Thread.Sleep(200);
            ring.Wake();
        });
        waker.Start();
        long start = Environment.TickCount64;
        Result<int> n = ring.SubmitAndWait(completions, -1);
        Assert.True(n.IsSuccess);
        Assert.Equal(0, n.Value);
        Assert.InRange(Environment.TickCount64 - start, 100, 5000);
        waker.Join();

        // Three wakes before a wait make one early return, not three.
        ring.Wake();
        ring.Wake();
        ring.Wake();
        Assert.Equal(0, ring.SubmitAndWait(completions, 5000).Value);
        start = Environment.TickCount64;
        Assert.Equal(0, ring.SubmitAndWait(completions, 150).Value);
        Assert.True(Environment.TickCount64 - start >= 100, "a coalesced wake was delivered twice");
    }

    [Fact]
    public void IocpRing_WakeTakenByHarvest_NextWaitReturnsWithoutBlocking()
    {
        // The race behind a RingServer.Stop that never returned: Stop's wake packet arrives while the loop thread is
        // between its stop check and its wait, SubmitAndWait's opening harvest dequeues it, and the wait that follows
        // must not block through it.
        using IocpRing ring = Create(skipOnSuccess: true);
        using WinSocketHandle listener = Listen(out _);
        Enqueue(ring, RingOperation.Accept(listener, Tag(1)));   // in flight: harvesting reads the port
        ring.Submit();
        ring.Wake();
        var completions = new RingCompletion[4];
        Assert.Equal(0, ring.Harvest(completions));
        long waits = ring.BlockingWaits;
        Assert.Equal(0, ring.SubmitAndWait(completions, TimeoutMs).Value);
        Assert.Equal(waits, ring.BlockingWaits);
    }

    [Fact]
    public void IocpRing_ManyPacketCompletions_AreHarvestedInBatches()
    {
        using IocpRing ring = Create(skipOnSuccess: false);
        const int Connections = 8;
        var pool = new RingBufferPool(64, Connections);
        using WinSocketHandle listener = Listen(out int port);
        var peers = new Socket[Connections];
        var conns = new WinSocketHandle[Connections];
        try
        {
            for (int i = 0; i < Connections; i++)
            {
                Enqueue(ring, RingOperation.Accept(listener, Tag(100 + (uint)i)));
                ring.Submit();
                peers[i] = Peer(port);
                conns[i] = WinSocketHandle.FromCompletion(WaitOne(ring, Tag(100 + (uint)i)).Result);
            }

            var tags = new UserData[Connections];
            for (int i = 0; i < Connections; i++)
            {
                Assert.True(pool.TryRent(out int id));
                tags[i] = Tag((uint)i);
                Enqueue(ring, RingOperation.Recv(conns[i], pool.Slice(id, 0, 64), tags[i]));
            }

            ring.Submit();
            foreach (Socket p in peers)
                p.Send("data"u8.ToArray());
            Thread.Sleep(300);   // let every packet reach the port before the batch is dequeued
            var done = WaitFor(ring, tags);
            foreach (RingCompletion c in done.Values)
                Assert.Equal(4, c.Result);
            Assert.True(ring.LargestBatch > 1, $"largest batch {ring.LargestBatch}");
        }
        finally
        {
            foreach (Socket? p in peers)
                p?.Dispose();
            foreach (WinSocketHandle? c in conns)
                c?.Dispose();
        }
    }

    [Fact]
    public void IocpRing_SkipOnSuccess_ImmediateSuccessCompletesWithoutPacket()
    {
        using IocpRing ring = Create(skipOnSuccess: true);
        var pool = new RingBufferPool(64, 1);
        using WinSocketHandle listener = Listen(out int port);
        Enqueue(ring, RingOperation.Accept(listener, Tag(1)));
        ring.Submit();
        using Socket peer = Peer(port);
        using WinSocketHandle conn = WinSocketHandle.FromCompletion(WaitOne(ring, Tag(1)).Result);
        peer.Send("ready"u8.ToArray());
        Thread.Sleep(200);   // the data is in the socket before the receive is issued: it succeeds at once

        long packets = ring.PacketCompletions, inline = ring.InlineCompletions;
        Assert.True(pool.TryRent(out int id));
        Enqueue(ring, RingOperation.Recv(conn, pool.Slice(id, 0, 64), Tag(2)));
        Assert.Equal(5, WaitOne(ring, Tag(2)).Result);
        Assert.Equal(inline + 1, ring.InlineCompletions);
        Assert.Equal(packets, ring.PacketCompletions);

        // No stray packet follows the inline completion.
        Assert.Equal(0, ring.SubmitAndWait(new RingCompletion[4], 200).Value);
        Assert.Equal(packets, ring.PacketCompletions);
    }

    [Fact]
    public void IocpRing_Close_ClosesSocketAndCancelsPendingRecv()
    {
        using IocpRing ring = Create(skipOnSuccess: true);
        var pool = new RingBufferPool(64, 1);
        using WinSocketHandle listener = Listen(out int port);
        Enqueue(ring, RingOperation.Accept(listener, Tag(1)));
        ring.Submit();
        using Socket peer = Peer(port);
        WinSocketHandle conn = WinSocketHandle.FromCompletion(WaitOne(ring, Tag(1)).Result);
        Assert.True(pool.TryRent(out int id));
        Enqueue(ring, RingOperation.Recv(conn, pool.Slice(id, 0, 64), Tag(2)));
        ring.Submit();
        Enqueue(ring, RingOperation.Close(conn, Tag(3)));
        var done = WaitFor(ring, Tag(2), Tag(3));
        Assert.True(done[Tag(3).Value].IsSuccess, done[Tag(3).Value].ToString());
        Assert.Equal(ErrorKind.Canceled, done[Tag(2).Value].Error.Kind);
        Assert.True(conn.IsInvalid || conn.IsClosed);
        Assert.Equal(0, peer.Receive(new byte[1]));   // the peer sees the close
    }

    [Fact]
    public void IocpRing_Dispose_CancelsPendingAndReleasesHandlesAndBuffers()
    {
        IocpRing ring = Create(skipOnSuccess: true);
        var pool = new RingBufferPool(64, 1);
        WinSocketHandle listener = Listen(out int port);
        Enqueue(ring, RingOperation.Accept(listener, Tag(1)));
        ring.Submit();
        using Socket peer = Peer(port);
        WinSocketHandle conn = WinSocketHandle.FromCompletion(WaitOne(ring, Tag(1)).Result);
        Enqueue(ring, RingOperation.Accept(listener, Tag(2)));
        Assert.True(pool.TryRent(out int id));
        Enqueue(ring, RingOperation.Recv(conn, pool.Slice(id, 0, 64), Tag(3)));
        ring.Submit();
        Enqueue(ring, RingOperation.Nop(Tag(4)));   // queued, never submitted

        ring.Dispose();
        Assert.False(pool.IsInFlight(id));
        pool.Return(id);
        // The ring's references are gone: disposing closes the sockets now (the peer sees end of stream).
        conn.Dispose();
        listener.Dispose();
        Assert.True(conn.IsClosed && listener.IsClosed);
        Assert.Equal(0, peer.Receive(new byte[1]));
    }

    [Fact]
    public void IocpRing_UnsupportedOperations_AreReportedNotSupported()
    {
        using IocpRing ring = Create(skipOnSuccess: true);
        using WinSocketHandle listener = Listen(out _);
        var pool = new RingBufferPool(64, 1);
        Assert.False(ring.Supports(RingOpcode.AcceptMultishot));
        Assert.False(ring.Supports(RingOpcode.RecvMultishot));
        Assert.False(ring.Supports(RingOpcode.Read));
        Assert.False(ring.Supports(RingOpcode.Write));
        Assert.Equal(RingFeatures.KernelCompletion, ring.Features);
        Assert.Equal(ErrorKind.NotSupported, ring.Enqueue(RingOperation.AcceptMultishot(listener, Tag(1))).Error.Kind);
        Assert.Equal(ErrorKind.NotSupported, ring.Enqueue(RingOperation.RecvMultishot(listener, 1, Tag(2))).Error.Kind);
        Assert.Equal(ErrorKind.NotSupported, ring.RegisterBufferGroup(1, pool).Error.Kind);
        Assert.Equal(ErrorKind.NotSupported,
            IocpRing.TryCreate(new RingOptions { RequiredFeatures = RingFeatures.MultishotAccept }).Error.Kind);
        Assert.Contains(IocpRing.Probe(new RingOptions { RequiredFeatures = RingFeatures.MultishotRecv }, BackendKind.Auto),
            p => p.Feature == "multishot-recv" && !p.Available);
    }

    [Fact]
    public void IocpRing_SocketOfAnotherPort_IsRefused()
    {
        using IocpRing first = Create(skipOnSuccess: true);
        using IocpRing second = Create(skipOnSuccess: true);
        using WinSocketHandle listener = Listen(out _);
        Enqueue(first, RingOperation.Accept(listener, Tag(1)));
        first.Submit();
        Enqueue(second, RingOperation.Accept(listener, Tag(2)));
        Assert.Equal(ErrorKind.InvalidArgument, WaitOne(second, Tag(2)).Error.Kind);
        Enqueue(first, RingOperation.Cancel(Tag(1), Tag(3)));
        WaitFor(first, Tag(1), Tag(3));
    }

    [Fact]
    public void IocpRing_Nop_CompletesWithItsTag()
    {
        using IocpRing ring = Create(skipOnSuccess: true);
        UserData tag = UserData.Create(7, 0xABCDEF, 9);
        Enqueue(ring, RingOperation.Nop(tag));
        RingCompletion c = WaitOne(ring, tag);
        Assert.True(c.IsSuccess);
        Assert.Equal(tag, c.UserData);
        Assert.Equal(RingCompletionFlags.None, c.Flags);
        Assert.Equal(-1, c.BufferId);
    }
}
