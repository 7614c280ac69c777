using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Xunit;
using static Syscalls.Linux.LibC;

namespace Syscalls.Bindings.Tests.Calls;

/// <summary>
/// socketpair, pipe2, splice, tee and sendfile through the bindings: descriptors the calls made, and bytes moved
/// between them by the kernel.
/// </summary>
// unsafe: the bindings take pointers; every one here is to a local or stackalloc that outlives the call.
[SupportedOSPlatform("linux")]
public sealed unsafe class PipeCallTests
{
    private static (int A, int B) SocketPair()
    {
        int* sv = stackalloc int[2];
        Native.Ok(socketpair(AF_UNIX, (int)(SOCK_STREAM | SOCK_CLOEXEC), 0, sv), "socketpair");
        return (sv[0], sv[1]);
    }

    private static (int Read, int Write) Pipe()
    {
        int* fds = stackalloc int[2];
        Native.Ok(pipe2(fds, O_CLOEXEC), "pipe2");
        return (fds[0], fds[1]);
    }

    [Fact]
    public void Socketpair_UnixStream_BytesCrossBothWays()
    {
        Native.RequireLinux();
        var (a, b) = SocketPair();
        try
        {
            Native.WriteText(a, "ping");
            Assert.Equal("ping", Native.ReadText(b));
            Native.WriteText(b, "pong");
            Assert.Equal("pong", Native.ReadText(a));
        }
        finally
        {
            close(a);
            close(b);
        }
    }

    [Fact]
    public void Pipe2_CloexecNonblock_BothFlagsSetAndEmptyReadIsEagain()
    {
        Native.RequireLinux();
        int* fds = stackalloc int[2];
        Native.Ok(pipe2(fds, O_CLOEXEC | O_NONBLOCK), "pipe2");
        try
        {
            Assert.Equal(FD_CLOEXEC, fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
            Assert.Equal(O_NONBLOCK, fcntl(fds[1], F_GETFL) & O_NONBLOCK);
            byte b;
            Assert.Equal(-1, read(fds[0], &b, 1));
            Assert.Equal(EAGAIN, Marshal.GetLastPInvokeError());
            Native.WriteText(fds[1], "x");
            Assert.Equal("x", Native.ReadText(fds[0]));
        }
        finally
        {
            close(fds[0]);
            close(fds[1]);
        }
    }

    [Fact]
    public void Splice_FileAtOffsetIntoPipe_BytesArriveAndOffsetAdvances()
    {
        Native.RequireLinux();
        int file = Native.OpenTempFile("0123456789abcdef");
        var (r, w) = Pipe();
        try
        {
            long offset = 4;
            Assert.Equal(8, Native.Ok(splice(file, &offset, w, null, 8, SPLICE_F_MOVE), "splice"));
            Assert.Equal(12, offset);
            Assert.Equal("456789ab", Native.ReadText(r));
        }
        finally
        {
            close(file);
            close(r);
            close(w);
        }
    }

    [Fact]
    public void Tee_SocketThroughPipeToSocket_SecondPipeGetsACopy()
    {
        Native.RequireLinux();
        var (a, b) = SocketPair();
        var (c, d) = SocketPair();
        var (r1, w1) = Pipe();
        var (r2, w2) = Pipe();
        try
        {
            // a -> b -splice-> pipe 1 -splice-> c -> d, with tee copying pipe 1 into pipe 2 on the way.
            Native.WriteText(a, "relayed");
            long n = Native.Ok(splice(b, null, w1, null, 64, SPLICE_F_MOVE), "splice(socket -> pipe)");
            Assert.Equal(7, n);
            Assert.Equal(n, Native.Ok(tee(r1, w2, (nuint)n, 0), "tee"));
            Assert.Equal(n, Native.Ok(splice(r1, null, c, null, (nuint)n, SPLICE_F_MOVE), "splice(pipe -> socket)"));
            Assert.Equal("relayed", Native.ReadText(d));
            Assert.Equal("relayed", Native.ReadText(r2));
        }
        finally
        {
            foreach (int fd in new[] { a, b, c, d, r1, w1, r2, w2 })
            {
                close(fd);
            }
        }
    }

    [Fact]
    public void Sendfile_FileAtOffsetToSocket_BytesArriveAndOffsetAdvances()
    {
        Native.RequireLinux();
        int file = Native.OpenTempFile("0123456789abcdef");
        var (a, b) = SocketPair();
        try
        {
            long offset = 10;
            Assert.Equal(6, Native.Ok(sendfile(a, file, &offset, 100), "sendfile"));
            Assert.Equal(16, offset);
            Assert.Equal("abcdef", Native.ReadText(b));
        }
        finally
        {
            close(file);
            close(a);
            close(b);
        }
    }
}
