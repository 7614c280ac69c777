using System;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using Syscalls.Runtime.Backends.Windows;
using Xunit;
using static Syscalls.Runtime.Tests.Windows.WindowsTestSupport;

namespace Syscalls.Runtime.Tests.Windows;

/// <summary>The Windows pollers, AFD and WSAPoll, each through every test: echo, half-close, reset, deregistration
/// (the poller's cancel), interest changes while a poll is pending, waker, plus each limit their documentation
/// states.</summary>
public sealed class WindowsPollerTests
{
    private static IPoller Create(string backend)
    {
        RequireWindows();
        IPoller poller = BackendSelector.CreatePoller(BackendSelector.Parse(backend));
        Assert.Equal(backend, poller.Name);
        return poller;
    }

    /// <summary>Waits until an event for <paramref name="token"/> arrives; returns its readiness.</summary>
    private static Readiness WaitFor(IPoller poller, ulong token, int timeoutMs = TimeoutMs)
    {
        var events = new PollEvent[16];
        long end = Environment.TickCount64 + timeoutMs;
        while (true)
        {
            int left = (int)(end - Environment.TickCount64);
            Assert.True(left > 0, $"no event for token {token}");
            Result<int> n = poller.Wait(events, left);
            Assert.True(n.IsSuccess, n.ToString());
            for (int i = 0; i < n.Value; i++)
            {
                if (events[i].Token == token)
                    return events[i].Readiness;
            }
        }
    }

    /// <summary>Polls once, without waiting, and reports whether <paramref name="token"/> had an event.</summary>
    private static bool HasEvent(IPoller poller, ulong token, int timeoutMs = 0)
    {
        var events = new PollEvent[16];
        int n = poller.Wait(events, timeoutMs).Value;
        for (int i = 0; i < n; i++)
        {
            if (events[i].Token == token)
                return true;
        }

        return false;
    }

    private static WinSocketHandle AcceptOne(IPoller poller, WinSocketHandle listener)
    {
        Assert.True((WaitFor(poller, 1) & Readiness.Readable) != 0);
        nuint s = Winsock.Accept(listener.Socket).Value;
        var conn = new WinSocketHandle(s);
        Assert.True(Winsock.SetNonBlocking(s, true).IsSuccess);
        return conn;
    }

    [Theory]
    [InlineData("afd")]
    [InlineData("wsapoll")]
    public void WindowsPoller_Echo_RoundTripsOverLoopback(string backend)
    {
        using IPoller poller = Create(backend);
        using WinSocketHandle listener = Listen(out int port);
        Assert.True(poller.Register(listener, 1, Interest.Readable).IsSuccess);
        using Socket peer = Peer(port);
        using WinSocketHandle conn = AcceptOne(poller, listener);
        Assert.True(poller.Register(conn, 2, Interest.Readable).IsSuccess);

        var buffer = new byte[256];
        for (int round = 0; round < 3; round++)
        {
            byte[] message = Encoding.ASCII.GetBytes($"hello wsapoll {round}");
            peer.Send(message);
            Assert.True((WaitFor(poller, 2) & Readiness.Readable) != 0);
            int n = Winsock.Recv(conn.Socket, buffer).Value;
            Assert.Equal(message, buffer[..n]);
            Assert.Equal(n, Winsock.Send(conn.Socket, buffer.AsSpan(0, n)).Value);
            Assert.Equal(message, ReceiveExactly(peer, n));
        }

        Assert.Equal(ErrorKind.WouldBlock, Winsock.Recv(conn.Socket, buffer).Error.Kind);
    }

    [Theory]
    [InlineData("afd")]
    [InlineData("wsapoll")]
    public void WindowsPoller_ConnectedSocket_ReportsWritable(string backend)
    {
        using IPoller poller = Create(backend);
        using Socket server = PeerListener(out int port);
        using WinSocketHandle client = NewSocket();
        Result connecting = Winsock.Connect(client.Socket, NetEndpoint.Loopback(port));
        Assert.True(connecting.IsSuccess || connecting.Error.Kind == ErrorKind.InProgress, connecting.ToString());
        Assert.True(poller.Register(client, 5, Interest.Writable).IsSuccess);
        Assert.True((WaitFor(poller, 5) & Readiness.Writable) != 0);
        Assert.Equal(0, Winsock.GetSockOpt(client.Socket, Syscalls.Windows.Ws2_32.SOL_SOCKET, Syscalls.Windows.Ws2_32.SO_ERROR).Value);
        using Socket accepted = server.Accept();
    }

    [Theory]
    [InlineData("afd")]
    [InlineData("wsapoll")]
    public void WindowsPoller_PeerHalfCloses_ReportsReadableThenEndOfStreamAndSendStillWorks(string backend)
    {
        using IPoller poller = Create(backend);
        using WinSocketHandle listener = Listen(out int port);
        Assert.True(poller.Register(listener, 1, Interest.Readable).IsSuccess);
        using Socket peer = Peer(port);
        using WinSocketHandle conn = AcceptOne(poller, listener);
        Assert.True(poller.Register(conn, 2, Interest.Readable).IsSuccess);

        peer.Shutdown(SocketShutdown.Send);
        Readiness r = WaitFor(poller, 2);
        Assert.True((r & Readiness.Readable) != 0, r.ToString());
        Assert.Equal(0, Winsock.Recv(conn.Socket, new byte[16]).Value);
        Assert.Equal(3, Winsock.Send(conn.Socket, "bye"u8).Value);
        Assert.Equal("bye"u8.ToArray(), ReceiveExactly(peer, 3));
    }

    [Theory]
    [InlineData("afd")]
    [InlineData("wsapoll")]
    public void WindowsPoller_HungUpSocketWatchedForNothing_StaysQuietUntilModified(string backend)
    {
        // WSAPoll's POLLHUP for the peer's FIN is sticky and unmaskable; once reported, it must not be reported again
        // for a socket nobody watches, or every wait returns at once.
        using IPoller poller = Create(backend);
        using WinSocketHandle listener = Listen(out int port);
        Assert.True(poller.Register(listener, 1, Interest.Readable).IsSuccess);
        using Socket peer = Peer(port);
        using WinSocketHandle conn = AcceptOne(poller, listener);
        Assert.True(poller.Register(conn, 2, Interest.Readable).IsSuccess);
        peer.Shutdown(SocketShutdown.Send);
        Assert.True((WaitFor(poller, 2) & Readiness.Readable) != 0);
        Assert.Equal(0, Winsock.Recv(conn.Socket, new byte[16]).Value);

        Assert.True(poller.Modify(conn, 2, Interest.None).IsSuccess);
        for (int i = 0; i < 3; i++)
            Assert.False(HasEvent(poller, 2), "a hung-up socket watched for nothing was reported");

        // Asked for writability again, it is polled again: the half-open socket can still send.
        Assert.True(poller.Modify(conn, 2, Interest.Writable).IsSuccess);
        Assert.True((WaitFor(poller, 2) & Readiness.Writable) != 0);
        Assert.Equal(3, Winsock.Send(conn.Socket, "bye"u8).Value);
        Assert.Equal("bye"u8.ToArray(), ReceiveExactly(peer, 3));
    }

    [Theory]
    [InlineData("afd")]
    [InlineData("wsapoll")]
    public void WindowsPoller_PeerResets_ReportsClosedOrError(string backend)
    {
        using IPoller poller = Create(backend);
        using WinSocketHandle listener = Listen(out int port);
        Assert.True(poller.Register(listener, 1, Interest.Readable).IsSuccess);
        Socket peer = Peer(port);
        using WinSocketHandle conn = AcceptOne(poller, listener);
        Assert.True(poller.Register(conn, 2, Interest.Readable).IsSuccess);

        Reset(peer);
        Readiness r = WaitFor(poller, 2);
        Assert.True((r & (Readiness.Closed | Readiness.Error)) != 0, r.ToString());
        // Windows: recv fails with WSAECONNRESET. Wine 8 reports POLLHUP | POLLERR but has already consumed the
        // error, so recv then reads end of stream: either way the reader learns the connection is gone.
        Result<int> received = Winsock.Recv(conn.Socket, new byte[16]);
        Assert.True(received.Error.Kind == ErrorKind.ConnectionReset || received is { IsSuccess: true, Value: 0 }, received.ToString());
    }

    [Theory]
    [InlineData("afd")]
    [InlineData("wsapoll")]
    public void WindowsPoller_Deregister_StopsEventsAndReleasesTheHandle(string backend)
    {
        using IPoller poller = Create(backend);
        using WinSocketHandle listener = Listen(out int port);
        Assert.True(poller.Register(listener, 1, Interest.Readable).IsSuccess);
        using Socket peer = Peer(port);
        WinSocketHandle conn = AcceptOne(poller, listener);
        Assert.True(poller.Register(conn, 2, Interest.Readable).IsSuccess);
        peer.Send("x"u8.ToArray());
        Assert.True(HasEvent(poller, 2, TimeoutMs));

        Assert.True(poller.Deregister(conn).IsSuccess);
        Assert.False(HasEvent(poller, 2, 100));
        Assert.Equal(ErrorKind.NotFound, poller.Deregister(conn).Error.Kind);
        conn.Dispose();
        Assert.True(conn.IsClosed);   // no registration reference kept it open
        // The peer sees the close: end of stream, or a reset because "x" was still unread when the socket closed
        // (TCP answers a close with unread data by RST).
        try
        {
            Assert.Equal(0, peer.Receive(new byte[1]));
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
        }
    }

    [Theory]
    [InlineData("afd")]
    [InlineData("wsapoll")]
    public void WindowsPoller_WakeFromAnotherThread_ReturnsEarlyAndCoalesces(string backend)
    {
        using IPoller poller = Create(backend);
        var events = new PollEvent[4];
        // A thread of its own, not a timer: under load the thread pool can run a timer's callback seconds late.
        var waker = new Thread(() =>
        {
            Thread.Sleep(200);
            poller.Wake();
        });
        waker.Start();
        long start = Environment.TickCount64;
        Assert.Equal(0, poller.Wait(events, -1).Value);
        Assert.InRange(Environment.TickCount64 - start, 100, 5000);
        waker.Join();

        poller.Wake();
        poller.Wake();
        poller.Wake();
        Assert.Equal(0, poller.Wait(events, 5000).Value);
        start = Environment.TickCount64;
        Assert.Equal(0, poller.Wait(events, 150).Value);
        Assert.True(Environment.TickCount64 - start >= 100, "a coalesced wake was delivered twice");
    }

    [Theory]
    [InlineData("afd")]
    [InlineData("wsapoll")]
    public void WindowsPoller_LevelTriggered_ReportsUntilDrained(string backend)
    {
        using IPoller poller = Create(backend);
        using WinSocketHandle listener = Listen(out int port);
        Assert.True(poller.Register(listener, 1, Interest.Readable).IsSuccess);
        using Socket peer = Peer(port);
        using WinSocketHandle conn = AcceptOne(poller, listener);
        Assert.True(poller.Register(conn, 2, Interest.Readable).IsSuccess);
        peer.Send("abcd"u8.ToArray());
        Assert.True(HasEvent(poller, 2, TimeoutMs));
        Assert.True(HasEvent(poller, 2));   // still readable: nothing was read
        Assert.Equal(4, Winsock.Recv(conn.Socket, new byte[16]).Value);
        Assert.False(HasEvent(poller, 2, 50));
    }

    [Theory]
    [InlineData("afd")]
    [InlineData("wsapoll")]
    public void WindowsPoller_Oneshot_ReportsOnceUntilModified(string backend)
    {
        using IPoller poller = Create(backend);
        using WinSocketHandle listener = Listen(out int port);
        Assert.True(poller.Register(listener, 1, Interest.Readable).IsSuccess);
        using Socket peer = Peer(port);
        using WinSocketHandle conn = AcceptOne(poller, listener);
        Assert.True((poller.Capabilities & PollerCapabilities.Oneshot) != 0);
        Assert.True(poller.Register(conn, 2, Interest.Readable, TriggerMode.Oneshot).IsSuccess);
        peer.Send("abcd"u8.ToArray());
        Assert.True(HasEvent(poller, 2, TimeoutMs));
        Assert.False(HasEvent(poller, 2, 50));   // still readable, but disarmed
        Assert.True(poller.Modify(conn, 3, Interest.Readable, TriggerMode.Oneshot).IsSuccess);
        Assert.True(HasEvent(poller, 3, TimeoutMs));
    }

    [Theory]
    [InlineData("afd")]
    [InlineData("wsapoll")]
    public void WindowsPoller_EdgeTriggered_IsRefusedAsDocumented(string backend)
    {
        using IPoller poller = Create(backend);
        using WinSocketHandle listener = Listen(out _);
        // AFD reports states, not transitions; WSAPoll neither separates a FIN from a close nor scales with ready
        // sockets.
        PollerCapabilities expected = backend == "afd" ? PollerCapabilities.ReadClosed | PollerCapabilities.ScalableWait : PollerCapabilities.None;
        Assert.Equal(expected, poller.Capabilities & (PollerCapabilities.EdgeTriggered | PollerCapabilities.ReadClosed | PollerCapabilities.ScalableWait));
        Assert.Equal(ErrorKind.NotSupported, poller.Register(listener, 1, Interest.Readable, TriggerMode.Edge).Error.Kind);
        Assert.True(poller.Register(listener, 1, Interest.Readable).IsSuccess);
        Assert.Equal(ErrorKind.NotSupported, poller.Modify(listener, 1, Interest.Readable, TriggerMode.Edge).Error.Kind);
        Assert.Equal(ErrorKind.AlreadyExists, poller.Register(listener, 2, Interest.Readable).Error.Kind);
    }

    [Theory]
    [InlineData("afd")]
    [InlineData("wsapoll")]
    public void WindowsPoller_ConnectToClosedPort_ReportsError(string backend)
    {
        // WSAPoll on Windows before 10 version 2004 never reports this (the documented limit); Wine and current
        // Windows report POLLERR/POLLHUP with SO_ERROR set to WSAECONNREFUSED.
        using IPoller poller = Create(backend);
        using WinSocketHandle client = NewSocket();
        Result connecting = Winsock.Connect(client.Socket, NetEndpoint.Loopback(ClosedPort()));
        Assert.True(connecting.Error.Kind is ErrorKind.InProgress or ErrorKind.ConnectionRefused, connecting.ToString());
        Assert.True(poller.Register(client, 7, Interest.Writable).IsSuccess);
        Readiness r = WaitFor(poller, 7);
        Assert.True((r & (Readiness.Error | Readiness.Closed)) != 0, r.ToString());
        int soError = Winsock.GetSockOpt(client.Socket, Syscalls.Windows.Ws2_32.SOL_SOCKET, Syscalls.Windows.Ws2_32.SO_ERROR).Value;
        Assert.Equal(ErrorKind.ConnectionRefused, WinError.Classify(soError));
    }

    [Theory]
    [InlineData("afd")]
    [InlineData("wsapoll")]
    public void WindowsPoller_ModifyWhileWaiting_NewInterestAndTokenApply(string backend)
    {
        // AFD: the pending poll asks for other events, so it is canceled and submitted again with the new ones.
        using IPoller poller = Create(backend);
        using WinSocketHandle listener = Listen(out int port);
        Assert.True(poller.Register(listener, 1, Interest.Readable).IsSuccess);
        using Socket peer = Peer(port);
        using WinSocketHandle conn = AcceptOne(poller, listener);
        Assert.True(poller.Register(conn, 2, Interest.Readable).IsSuccess);
        Assert.False(HasEvent(poller, 2, 50));   // nothing to read: the poll is pending
        Assert.True(poller.Modify(conn, 3, Interest.Writable).IsSuccess);
        Assert.True((WaitFor(poller, 3) & Readiness.Writable) != 0);
        Assert.True(poller.Modify(conn, 4, Interest.Readable).IsSuccess);
        Assert.False(HasEvent(poller, 4, 50));   // writable no longer counts, and still nothing to read
        peer.Send("x"u8.ToArray());
        Readiness r = WaitFor(poller, 4);
        Assert.True((r & Readiness.Readable) != 0 && (r & Readiness.Writable) == 0, r.ToString());
    }

    [Theory]
    [InlineData("afd")]
    [InlineData("wsapoll")]
    public void WindowsPoller_DeregisterWhileWaitingThenRegisterAgain_NoStaleEvent(string backend)
    {
        using IPoller poller = Create(backend);
        using WinSocketHandle listener = Listen(out int port);
        Assert.True(poller.Register(listener, 1, Interest.Readable).IsSuccess);
        using Socket peer = Peer(port);
        using WinSocketHandle conn = AcceptOne(poller, listener);
        Assert.True(poller.Register(conn, 2, Interest.Readable).IsSuccess);
        Assert.False(HasEvent(poller, 2, 50));
        Assert.True(poller.Deregister(conn).IsSuccess);
        peer.Send("x"u8.ToArray());
        Assert.False(HasEvent(poller, 2, 100));   // the canceled poll reports nothing
        Assert.True(poller.Register(conn, 5, Interest.Readable).IsSuccess);
        Assert.True((WaitFor(poller, 5) & Readiness.Readable) != 0);
        Assert.False(HasEvent(poller, 2));
    }

    [Theory]
    [InlineData("afd")]
    [InlineData("wsapoll")]
    public void WindowsPoller_ManyIdleSocketsOneReady_ReportsOnlyThatOne(string backend)
    {
        const int Pairs = 64;
        using IPoller poller = Create(backend);
        using WinSocketHandle listener = Listen(out int port);
        Assert.True(poller.Register(listener, 1, Interest.Readable).IsSuccess);
        var peers = new Socket[Pairs];
        var conns = new WinSocketHandle[Pairs];
        try
        {
            for (int i = 0; i < Pairs; i++)
            {
                peers[i] = Peer(port);
                conns[i] = AcceptOne(poller, listener);
                Assert.True(poller.Register(conns[i], 100UL + (ulong)i, Interest.Readable).IsSuccess);
            }

            Assert.False(HasEvent(poller, 100 + 37, 50));
            peers[37].Send("x"u8.ToArray());
            var events = new PollEvent[Pairs];
            int n = 0;
            for (long end = Environment.TickCount64 + TimeoutMs; n == 0 && Environment.TickCount64 < end;)
                n = poller.Wait(events, TimeoutMs).Value;
            Assert.Equal(1, n);
            Assert.Equal(137UL, events[0].Token);
        }
        finally
        {
            for (int i = 0; i < Pairs; i++)
            {
                if (conns[i] is not null)
                    poller.Deregister(conns[i]);
                conns[i]?.Dispose();
                peers[i]?.Dispose();
            }
        }
    }
}
