using System;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Syscalls.Linux;
using Xunit;
using static Syscalls.Linux.LibC;

namespace Syscalls.Bindings.Tests.Calls;

/// <summary>
/// The span and in/ref overloads of the socket calls on real loopback sockets, written as the README teaches: no
/// pointers, no casts (the constants are C's ints, the lengths are derived), and the results the raw calls would give.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class SocketOverloadCallTests
{
    private static sockaddr_in Loopback()
    {
        var addr = new sockaddr_in { sin_family = AF_INET };
        addr.sin_addr.s_addr = Native.Htonl(INADDR_LOOPBACK);
        return addr;
    }

    private static int Check(int result, string call) => (int)Native.Ok(result, call);

    [Fact]
    [CallsOverload("LibC.setsockopt", "LibC.getsockopt", "LibC.bind", "LibC.getsockname", "LibC.connect", "LibC.accept4",
        "LibC.accept", "LibC.getpeername", "LibC.send", "LibC.poll", "LibC.recv")]
    public void TcpOverloads_LoopbackConnection_BytesAndAddressesArrive()
    {
        Native.RequireLinux();
        int listener = Check(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket");
        int client = -1, second = -1, server = -1, other = -1;
        try
        {
            Check(setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, 1), "setsockopt");
            int reuse = 0;
            Check(getsockopt(listener, SOL_SOCKET, SO_REUSEADDR, ref reuse), "getsockopt");
            Assert.Equal(1, reuse);
            var addr = Loopback();
            Check(bind(listener, in addr), "bind");
            Check(listen(listener, 4), "listen");
            var bound = new sockaddr_in();
            Check(getsockname(listener, ref bound), "getsockname");
            Assert.NotEqual(0, bound.sin_port);

            client = Check(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket");
            Check(connect(client, in bound), "connect");
            var peer = new sockaddr_in();
            server = Check(accept4(listener, ref peer, SOCK_NONBLOCK | SOCK_CLOEXEC), "accept4");
            Assert.Equal(Native.Htonl(INADDR_LOOPBACK), peer.sin_addr.s_addr);
            Assert.NotEqual(0, fcntl(server, F_GETFL) & O_NONBLOCK);
            int type = 0;
            Check(getsockopt(server, SOL_SOCKET, SO_TYPE, ref type), "getsockopt");
            Assert.Equal(SOCK_STREAM, type);

            second = Check(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket");
            Check(connect(second, in bound), "connect");
            var secondPeer = new sockaddr_in();
            other = Check(accept(listener, ref secondPeer), "accept");
            var seen = new sockaddr_in();
            Check(getpeername(second, ref seen), "getpeername");
            Assert.Equal(bound.sin_port, seen.sin_port);

            Assert.Equal(5, Native.Ok(send(client, "hello"u8, MSG_NOSIGNAL), "send"));
            Span<pollfd> fds = [new pollfd { fd = server, events = POLLIN }];
            Assert.Equal(1, Check(poll(fds, 5000), "poll"));
            Assert.NotEqual(0, fds[0].revents & POLLIN);
            var buffer = new byte[16];
            long n = Native.Ok(recv(server, buffer, 0), "recv");
            Assert.Equal("hello"u8.ToArray(), buffer.AsSpan(0, (int)n).ToArray());
        }
        finally
        {
            close(other);
            close(second);
            close(server);
            close(client);
            close(listener);
        }
    }

    [Fact]
    [CallsOverload("LibC.sendto", "LibC.recvfrom")]
    public void UdpOverloads_SendtoRecvfrom_DatagramAndSenderArrive()
    {
        Native.RequireLinux();
        int a = Check(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket");
        int b = Check(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket");
        try
        {
            var any = Loopback();
            Check(bind(a, in any), "bind");
            Check(bind(b, in any), "bind");
            sockaddr_in at = default, from = default, bAt = default;
            Check(getsockname(a, ref at), "getsockname");
            Check(getsockname(b, ref bAt), "getsockname");

            Assert.Equal(4, Native.Ok(sendto(b, "ping"u8, 0, in at), "sendto"));
            var buffer = new byte[8];
            long n = Native.Ok(recvfrom(a, buffer, 0, ref from), "recvfrom");

            Assert.Equal("ping"u8.ToArray(), buffer.AsSpan(0, (int)n).ToArray());
            Assert.Equal(bAt.sin_port, from.sin_port);
        }
        finally
        {
            close(b);
            close(a);
        }
    }

    [Fact]
    public void SpanOverload_EmptySpan_PassesNullAndZero()
    {
        Native.RequireLinux();
        int fd = Check(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket");
        try
        {
            // recv(fd, NULL, 0, MSG_DONTWAIT) on an empty socket: EAGAIN, not EFAULT: the empty span is a null pointer.
            Assert.Equal(-1, recv(fd, Span<byte>.Empty, MSG_DONTWAIT));
            Assert.Equal(EAGAIN, Marshal.GetLastPInvokeError());
        }
        finally
        {
            close(fd);
        }
    }
}
