using System;
using System.IO;
using System.Runtime.Versioning;
using System.Text;
using Syscalls.Linux;
using Xunit;
using static Syscalls.Linux.LibC;

namespace Syscalls.Bindings.Tests.Calls;

/// <summary>The span and in overloads of read/write/readv/writev/pread/pwrite and epoll on real pipes, files, eventfds.</summary>
// unsafe: pipe() and open() take pointers, and an iovec holds one; every one is to a stackalloc or pinned buffer that
// outlives the call. The overloads under test take none.
[SupportedOSPlatform("linux")]
public sealed unsafe class DescriptorOverloadCallTests
{
    [Fact]
    [CallsOverload("LibC.write", "LibC.read", "LibC.writev", "LibC.readv")]
    public void PipeOverloads_WriteReadAndVectors_BytesRoundTrip()
    {
        Native.RequireLinux();
        int* fds = stackalloc int[2];
        Native.Ok(pipe(fds), "pipe");
        try
        {
            Assert.Equal(3, Native.Ok(write(fds[1], "abc"u8), "write"));
            var buffer = new byte[8];
            Assert.Equal(3, Native.Ok(read(fds[0], buffer), "read"));
            Assert.Equal("abc"u8.ToArray(), buffer[..3]);

            byte[] head = "gather-"u8.ToArray(), tail = "scatter"u8.ToArray();
            byte[] first = new byte[7], second = new byte[7];
            fixed (byte* h = head, t = tail, f = first, s = second)
            {
                Span<iovec> output = [new iovec { iov_base = h, iov_len = 7 }, new iovec { iov_base = t, iov_len = 7 }];
                Assert.Equal(14, Native.Ok(writev(fds[1], output), "writev"));
                Span<iovec> input = [new iovec { iov_base = f, iov_len = 7 }, new iovec { iov_base = s, iov_len = 7 }];
                Assert.Equal(14, Native.Ok(readv(fds[0], input), "readv"));
            }
            Assert.Equal(head, first);
            Assert.Equal(tail, second);
        }
        finally
        {
            close(fds[0]);
            close(fds[1]);
        }
    }

    [Fact]
    [CallsOverload("LibC.pwrite", "LibC.pread")]
    public void FileOverloads_PwritePread_AtTheirOffsets()
    {
        Native.RequireLinux();
        string path = Path.Combine(Path.GetTempPath(), "syscalls-overload-" + Guid.NewGuid().ToString("N"));
        int fd = -1;
        try
        {
            fixed (byte* p = Encoding.UTF8.GetBytes(path + "\0"))
            {
                fd = (int)Native.Ok(open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0x180), "open");
            }
            Assert.Equal(10, Native.Ok(pwrite(fd, "0123456789"u8, 0), "pwrite"));
            Assert.Equal(2, Native.Ok(pwrite(fd, "xy"u8, 4), "pwrite"));
            var buffer = new byte[4];
            Assert.Equal(4, Native.Ok(pread(fd, buffer, 3), "pread"));
            Assert.Equal("3xy6"u8.ToArray(), buffer);
        }
        finally
        {
            close(fd);
            File.Delete(path);
        }
    }

    [Fact]
    [CallsOverload("LibC.epoll_ctl", "LibC.epoll_wait", "LibC.epoll_pwait")]
    public void EpollOverloads_EventfdSignalled_ReportedWithUserData()
    {
        Native.RequireLinux();
        int ep = (int)Native.Ok(epoll_create1(EPOLL_CLOEXEC), "epoll_create1");
        int efd = -1;
        try
        {
            efd = (int)Native.Ok(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), "eventfd");
            var ev = new epoll_event { events = EPOLLIN };
            ev.data.u64 = 0x1122334455667788UL;
            Native.Ok(epoll_ctl(ep, EPOLL_CTL_ADD, efd, in ev), "epoll_ctl");

            Span<epoll_event> events = stackalloc epoll_event[4];
            Assert.Equal(0, Native.Ok(epoll_wait(ep, events, 0), "epoll_wait"));
            Native.Ok(eventfd_write(efd, 1), "eventfd_write");
            Assert.Equal(1, Native.Ok(epoll_wait(ep, events, 1000), "epoll_wait"));
            Assert.Equal(0x1122334455667788UL, events[0].data.u64);
            // Only the span's length is offered to the kernel: a one-element span gets one event.
            events.Clear();
            Assert.Equal(1, Native.Ok(epoll_pwait(ep, events[..1], 1000, null), "epoll_pwait"));
            Assert.Equal(0x1122334455667788UL, events[0].data.u64);
            Assert.Equal(0UL, events[1].data.u64);
        }
        finally
        {
            close(efd);
            close(ep);
        }
    }
}
