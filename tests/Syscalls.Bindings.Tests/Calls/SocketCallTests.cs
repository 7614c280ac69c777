using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;
using Syscalls.Linux;
using Xunit;
using static Syscalls.Linux.LibC;

namespace Syscalls.Bindings.Tests.Calls;

/// <summary>socket/bind/listen/getsockname/connect/accept/write/read/close on loopback, through the bindings.</summary>
// unsafe: the bindings take pointers; every one here is to a local, stackalloc or pinned object that outlives the call.
[SupportedOSPlatform("linux")]
public sealed unsafe class SocketCallTests
{
    private static int Listener(out sockaddr_in bound)
    {
        int fd = (int)Native.Ok(socket(AF_INET, (int)SOCK_STREAM, 0), "socket");
        var addr = new sockaddr_in { sin_family = AF_INET, sin_port = 0 };
        addr.sin_addr.s_addr = Native.Htonl(INADDR_LOOPBACK);
        Native.Ok(bind(fd, (sockaddr*)&addr, (uint)sizeof(sockaddr_in)), "bind");
        Native.Ok(listen(fd, 16), "listen");
        sockaddr_in got;
        uint len = (uint)sizeof(sockaddr_in);
        Native.Ok(getsockname(fd, (sockaddr*)&got, &len), "getsockname");
        bound = got;
        return fd;
    }

    [Fact]
    public void Socket_BindLoopbackPortZero_GetsocknameReportsAssignedPort()
    {
        Native.RequireLinux();
        int fd = Listener(out var bound);
        try
        {
            Assert.Equal(AF_INET, bound.sin_family);
            Assert.NotEqual(0, bound.sin_port);
            Assert.Equal(Native.Htonl(INADDR_LOOPBACK), bound.sin_addr.s_addr);
        }
        finally
        {
            close(fd);
        }
    }

    [Fact]
    public void Socket_ConnectAcceptWriteRead_BytesArrive()
    {
        Native.RequireLinux();
        int listener = Listener(out var bound);
        int client = -1, server = -1;
        try
        {
            client = (int)Native.Ok(socket(AF_INET, (int)(SOCK_STREAM | SOCK_CLOEXEC), 0), "socket");
            Native.Ok(connect(client, (sockaddr*)&bound, (uint)sizeof(sockaddr_in)), "connect");
            sockaddr_in peer;
            uint len = (uint)sizeof(sockaddr_in);
            server = (int)Native.Ok(accept4(listener, (sockaddr*)&peer, &len, (int)SOCK_CLOEXEC), "accept4");
            Assert.Equal(Native.Htonl(INADDR_LOOPBACK), peer.sin_addr.s_addr);

            var hello = Encoding.ASCII.GetBytes("hello");
            fixed (byte* p = hello)
            {
                Assert.Equal(hello.Length, Native.Ok(write(client, p, (nuint)hello.Length), "write"));
            }
            var buffer = new byte[16];
            fixed (byte* p = buffer)
            {
                long n = Native.Ok(read(server, p, (nuint)buffer.Length), "read");
                Assert.Equal("hello", Encoding.ASCII.GetString(buffer, 0, (int)n));
            }
        }
        finally
        {
            close(server);
            close(client);
            close(listener);
        }
    }

    [Fact]
    public void Close_InvalidFd_ErrnoIsEbadf()
    {
        Native.RequireLinux();
        Assert.Equal(-1, close(-1));
        Assert.Equal(EBADF, Marshal.GetLastPInvokeError());
    }

    [Fact]
    public void Call_SucceedsAfterFailure_ErrnoCleared()
    {
        Native.RequireLinux();
        Assert.Equal(-1, close(-1));
        int fd = (int)Native.Ok(socket(AF_INET, (int)SOCK_STREAM, 0), "socket");
        try
        {
            // SetLastError = true clears errno before the call: a success does not report the earlier EBADF.
            Assert.Equal(0, Marshal.GetLastPInvokeError());
        }
        finally
        {
            close(fd);
        }
    }
}
