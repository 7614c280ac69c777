using System.Runtime.Versioning;
using System.Text;
using Syscalls.Linux;
using Xunit;
using static Syscalls.Linux.LibC;

namespace Syscalls.Bindings.Tests.Calls;

/// <summary>
/// POSIX AIO through the bindings (glibc 2.34+: in libc.so.6): an aio_read of a temp file completes, aio_suspend waits
/// for it, aio_return gives the byte count; aio_write to a socket reaches the peer; lio_listio(LIO_WAIT) runs a batch
/// to completion.
/// </summary>
// unsafe: the bindings take pointers; every aiocb and buffer here is a local or stackalloc that outlives the request
// (each test waits for its requests to finish before returning).
[SupportedOSPlatform("linux")]
public sealed unsafe class AioCallTests
{
    private static void WaitFor(aiocb* cb)
    {
        aiocb** list = stackalloc aiocb*[1];
        list[0] = cb;
        var timeout = new timespec { tv_sec = 1 };
        while (aio_error(cb) == EINPROGRESS)
        {
            // EINTR (a signal) and EAGAIN (the timeout) just mean "look again".
            aio_suspend(list, 1, &timeout);
        }
    }

    [Fact]
    public void AioRead_TempFileAtOffset_CompletesWithItsBytes()
    {
        Native.RequireLinux();
        int fd = Native.OpenTempFile("0123456789abcdef");
        try
        {
            byte* buffer = stackalloc byte[32];
            var cb = new aiocb { aio_fildes = fd, aio_buf = buffer, aio_nbytes = 32, aio_offset = 6 };
            cb.aio_sigevent.sigev_notify = SIGEV_NONE;
            Native.Ok(aio_read(&cb), "aio_read");
            WaitFor(&cb);
            Assert.Equal(0, aio_error(&cb));
            Assert.Equal(10, aio_return(&cb));
            Assert.Equal("6789abcdef", Encoding.ASCII.GetString(buffer, 10));
        }
        finally
        {
            close(fd);
        }
    }

    [Fact]
    public void AioWrite_ToSocket_PeerReadsTheBytes()
    {
        Native.RequireLinux();
        int* sv = stackalloc int[2];
        Native.Ok(socketpair(AF_UNIX, (int)(SOCK_STREAM | SOCK_CLOEXEC), 0, sv), "socketpair");
        try
        {
            byte* text = stackalloc byte[6];
            Encoding.ASCII.GetBytes("queued", new System.Span<byte>(text, 6));
            var cb = new aiocb { aio_fildes = sv[0], aio_buf = text, aio_nbytes = 6 };
            cb.aio_sigevent.sigev_notify = SIGEV_NONE;
            Native.Ok(aio_write(&cb), "aio_write");
            WaitFor(&cb);
            Assert.Equal(0, aio_error(&cb));
            Assert.Equal(6, aio_return(&cb));
            Assert.Equal("queued", Native.ReadText(sv[1]));
        }
        finally
        {
            close(sv[0]);
            close(sv[1]);
        }
    }

    [Fact]
    public void LioListio_WaitForTwoReads_BothComplete()
    {
        Native.RequireLinux();
        int fd = Native.OpenTempFile("headtail");
        try
        {
            byte* head = stackalloc byte[4], tail = stackalloc byte[4];
            var first = new aiocb { aio_fildes = fd, aio_lio_opcode = LIO_READ, aio_buf = head, aio_nbytes = 4 };
            var second = first with { aio_buf = tail, aio_offset = 4 };
            first.aio_sigevent.sigev_notify = SIGEV_NONE;
            second.aio_sigevent.sigev_notify = SIGEV_NONE;
            aiocb** list = stackalloc aiocb*[2];
            list[0] = &first;
            list[1] = &second;
            Native.Ok(lio_listio(LIO_WAIT, list, 2, null), "lio_listio");
            Assert.Equal(4, aio_return(&first));
            Assert.Equal(4, aio_return(&second));
            Assert.Equal("head", Encoding.ASCII.GetString(head, 4));
            Assert.Equal("tail", Encoding.ASCII.GetString(tail, 4));
        }
        finally
        {
            close(fd);
        }
    }
}
