using System;
using System.Net.Sockets;
using System.Threading;
using Syscalls.Runtime.Sockets;
using Syscalls.Runtime.Tests.Infrastructure;
using Xunit;

namespace Syscalls.Runtime.Tests;

public class SocketTests
{
    [Fact]
    public void SocketOps_Create_IsNonBlockingUnlessAskedOtherwise()
    {
        Platform.RequireLinux("O_NONBLOCK read back with fcntl (Windows cannot read FIONBIO back)");
        using SocketHandle s = SocketOps.CreateTcp().Value;
        Assert.True(SocketOps.IsNonBlocking(s).Value);
        using SocketHandle b = SocketOps.CreateTcp(blocking: true).Value;
        Assert.False(SocketOps.IsNonBlocking(b).Value);
    }

    [Fact]
    public void SocketOps_Accept_GivesNonBlockingSocket()
    {
        Platform.RequireLinux("O_NONBLOCK read back with fcntl (Windows cannot read FIONBIO back)");
        using var pair = new Pair();
        Assert.True(SocketOps.IsNonBlocking(pair.Server).Value);
    }

    [Fact]
    public void SocketOps_CreateTcpAndUdp_ChildProcessesDoNotInherit()
    {
        // FD_CLOEXEC on Unix; on Windows HANDLE_FLAG_INHERIT read back with GetHandleInformation.
        using SocketHandle s = SocketOps.CreateTcp().Value;
        Assert.True(SocketOps.IsCloseOnExec(s).Value);
        using SocketHandle b = SocketOps.CreateTcp(blocking: true).Value;
        Assert.True(SocketOps.IsCloseOnExec(b).Value);
        using SocketHandle u = SocketOps.CreateUdp().Value;
        Assert.True(SocketOps.IsCloseOnExec(u).Value);
        using SocketHandle l = SocketOps.Listen(NetEndpoint.Loopback(0)).Value;
        Assert.True(SocketOps.IsCloseOnExec(l).Value);
    }

    [Fact]
    public void SocketOps_Accept_ChildProcessesDoNotInherit()
    {
        using var pair = new Pair();
        Assert.True(SocketOps.IsCloseOnExec(pair.Server).Value);

        // A blocking listener takes the other accept path (no FIONBIO change on Windows).
        using SocketHandle listener = SocketOps.Listen(NetEndpoint.Loopback(0), blocking: true).Value;
        using Socket client = Peers.Connect(SocketOps.GetLocalEndpoint(listener).Value.ToIPEndPoint());
        using SocketHandle accepted = SocketOps.Accept(listener, blocking: true).Value;
        Assert.True(SocketOps.IsCloseOnExec(accepted).Value);
    }

    [Fact]
    public void SocketOps_ListenAgainWhileOldConnectionsLinger_RebindsWithReuseAddress()
    {
        int port;
        using (var pair = new Pair())
        {
            port = SocketOps.GetLocalEndpoint(pair.Listener).Value.Port;
            pair.Server.Dispose();      // the server side closes first: TIME_WAIT on the listening port
            Thread.Sleep(50);
        }

        Result<SocketHandle> again = SocketOps.Listen(NetEndpoint.Loopback(port));
        Assert.True(again.IsSuccess, again.ToString());
        again.Value.Dispose();
    }

    [Fact]
    public void SocketOps_ReceiveWithNothingQueued_ReportsWouldBlock()
    {
        using var pair = new Pair();
        Result<int> r = SocketOps.Receive(pair.Server, new byte[16]);
        Assert.Equal(ErrorKind.WouldBlock, r.Error.Kind);
    }

    [Fact]
    public void SocketOps_ConnectToClosedPort_ReportsConnectionRefused()
    {
        int port;
        using (SocketHandle probe = SocketOps.Listen(NetEndpoint.Loopback(0)).Value)
            port = SocketOps.GetLocalEndpoint(probe).Value.Port;
        using SocketHandle s = SocketOps.CreateTcp(blocking: true).Value;
        Result r = SocketOps.Connect(s, NetEndpoint.Loopback(port));
        Assert.Equal(ErrorKind.ConnectionRefused, r.Error.Kind);
    }

    [Fact]
    public void SocketOps_SendToResetPeer_ReportsErrorWithoutSigpipe()
    {
        Sigpipe.RestoreDefaultIfAsked();   // in SigpipeTests' child SIGPIPE terminates: only MSG_NOSIGNAL keeps it alive
        using var pair = new Pair();
        Peers.Reset(pair.Client);
        Thread.Sleep(50);
        OsError error = default;
        var chunk = new byte[4096];
        for (int i = 0; i < 100 && error.IsNone; i++)
        {
            Result<int> r = SocketOps.Send(pair.Server, chunk);
            if (!r.IsSuccess)
                error = r.Error;
        }

        // Still alive (no SIGPIPE), and told why.
        Assert.True(error.Kind is ErrorKind.BrokenPipe or ErrorKind.ConnectionReset, error.ToString());
    }

    [Fact]
    public void SocketOps_ShutdownWrite_PeerReadsEndButCanStillSend()
    {
        using var pair = new Pair();
        Assert.True(SocketOps.ShutdownWrite(pair.Server).IsSuccess);
        Assert.Equal(0, pair.Client.Receive(new byte[4]));
        pair.Client.Send(new byte[] { 42 });
        var buf = new byte[4];
        Assert.True(SpinWait.SpinUntil(() => SocketOps.Receive(pair.Server, buf).GetValueOrDefault(0) == 1, 5000));
        Assert.Equal(42, buf[0]);
    }

    [Fact]
    public void SocketOps_UdpSendToReceiveFrom_RoundTripsWithSender()
    {
        using SocketHandle a = SocketOps.BindUdp(NetEndpoint.Loopback(0), blocking: true).Value;
        using SocketHandle b = SocketOps.BindUdp(NetEndpoint.Loopback(0), blocking: true).Value;
        NetEndpoint aEp = SocketOps.GetLocalEndpoint(a).Value, bEp = SocketOps.GetLocalEndpoint(b).Value;
        Assert.Equal(5, SocketOps.SendTo(a, "hello"u8, bEp).Value);
        var buf = new byte[64];
        int n = SocketOps.ReceiveFrom(b, buf, out NetEndpoint from).Value;
        Assert.Equal("hello"u8.ToArray(), buf[..n]);
        Assert.Equal(aEp, from);
    }

    [Fact]
    public void SocketOps_UdpDatagramLongerThanBuffer_ReportsRealLengthOrTooLong()
    {
        using SocketHandle a = SocketOps.BindUdp(NetEndpoint.Loopback(0), blocking: true).Value;
        using SocketHandle b = SocketOps.BindUdp(NetEndpoint.Loopback(0), blocking: true).Value;
        byte[] datagram = Peers.Payload(7, 0, 100);
        Assert.Equal(100, SocketOps.SendTo(a, datagram, SocketOps.GetLocalEndpoint(b).Value).Value);
        var buf = new byte[10];
        Result<int> r = SocketOps.ReceiveFrom(b, buf, out _, truncatedLength: true);
        if (OperatingSystem.IsLinux())
            Assert.Equal(100, r.Value);   // MSG_TRUNC: the real length
        else
            Assert.Equal(ErrorKind.MessageTooLong, r.Error.Kind);   // Windows and macOS cannot tell the length
        Assert.Equal(datagram[..10], buf);
    }

    [Fact]
    public void SocketOps_UdpDatagramLongerThanBuffer_CutToBufferWithoutTruncatedLength()
    {
        using SocketHandle a = SocketOps.BindUdp(NetEndpoint.Loopback(0), blocking: true).Value;
        using SocketHandle b = SocketOps.BindUdp(NetEndpoint.Loopback(0), blocking: true).Value;
        NetEndpoint aEp = SocketOps.GetLocalEndpoint(a).Value, bEp = SocketOps.GetLocalEndpoint(b).Value;
        byte[] datagram = Peers.Payload(8, 0, 100);
        SocketOps.SendTo(a, datagram, bEp);
        SocketOps.SendTo(a, "next"u8, bEp);
        var buf = new byte[10];
        Assert.Equal(10, SocketOps.ReceiveFrom(b, buf, out NetEndpoint from).Value);
        Assert.Equal(datagram[..10], buf);
        Assert.Equal(aEp, from);
        // The rest of the cut datagram is gone: the next receive gets the next datagram.
        Assert.Equal(4, SocketOps.ReceiveFrom(b, buf, out _).Value);
        Assert.Equal("next"u8.ToArray(), buf[..4]);
    }

    [Fact]
    public void SocketOps_UdpNonBlockingEmpty_ReportsWouldBlock()
    {
        using SocketHandle a = SocketOps.BindUdp(NetEndpoint.Loopback(0)).Value;
        Assert.Equal(ErrorKind.WouldBlock, SocketOps.ReceiveFrom(a, new byte[10], out _).Error.Kind);
    }

    [Fact]
    public void SocketHandle_DisposedTwice_ClosesOnceAndLeavesReusedNumberAlone()
    {
        SocketHandle first = SocketOps.CreateTcp().Value;
        int number = first.Descriptor;
        first.Dispose();
        using SocketHandle second = SocketOps.CreateTcp().Value;   // likely gets the same number
        first.Dispose();                                           // must not close `second`
        Assert.True(SocketOps.SetNoDelay(second).IsSuccess);
        Assert.Throws<ObjectDisposedException>(() => SocketOps.Send(first, new byte[1]));
        _ = number;
    }

    [Fact]
    public void NetEndpoint_RoundTripsThroughIPEndPoint()
    {
        var v4 = NetEndpoint.Loopback(8080);
        Assert.Equal("127.0.0.1:8080", v4.ToString());
        Assert.Equal(v4, NetEndpoint.FromIPEndPoint(v4.ToIPEndPoint()));
        var v6 = NetEndpoint.LoopbackV6(9);
        Assert.Equal(System.Net.IPAddress.IPv6Loopback, v6.ToIPEndPoint().Address);
        Assert.Equal(v6, NetEndpoint.FromIPEndPoint(v6.ToIPEndPoint()));
    }

    [Fact]
    public void SocketOps_Ipv6Loopback_ListensAndAccepts()
    {
        Result<SocketHandle> l = SocketOps.Listen(NetEndpoint.LoopbackV6(0));
        if (!l.IsSuccess && l.Error.Kind is ErrorKind.NotSupported or ErrorKind.AddressNotAvailable)
            Assert.Skip("no IPv6 loopback here: " + l.Error);
        using SocketHandle listener = l.Value;
        NetEndpoint ep = SocketOps.GetLocalEndpoint(listener).Value;
        Assert.Equal(AddressFamily.InterNetworkV6, ep.Family);
        using var client = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(ep.ToIPEndPoint());
        Result<SocketHandle> accepted = default;
        Assert.True(SpinWait.SpinUntil(() => (accepted = SocketOps.Accept(listener)).IsSuccess, 5000));
        using SocketHandle server = accepted.Value;
        Assert.Equal(AddressFamily.InterNetworkV6, SocketOps.GetRemoteEndpoint(server).Value.Family);
    }
}
