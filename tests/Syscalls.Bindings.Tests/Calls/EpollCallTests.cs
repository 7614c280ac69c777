using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Syscalls.Linux;
using Xunit;
using static Syscalls.Linux.LibC;

namespace Syscalls.Bindings.Tests.Calls;

/// <summary>epoll_create1/ctl/wait and eventfd through the bindings; the user data survives the packed x86-64 layout.</summary>
// unsafe: the bindings take pointers; every one here is to a local, stackalloc or pinned object that outlives the call.
[SupportedOSPlatform("linux")]
public sealed unsafe class EpollCallTests
{
    [Fact]
    public void EpollEvent_HostArch_SizeIsClangs()
    {
        Native.RequireLinux();
        // x86-64: packed, 12 bytes, data at 4; arm64: natural, 16 bytes, data at 8.
        int expected = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;
        Assert.Equal(expected, sizeof(epoll_event));
        Assert.Equal(expected - 8, (int)Marshal.OffsetOf<epoll_event>(nameof(epoll_event.data)));
    }

    [Fact]
    public void EpollWait_EventfdSignalled_ReportsItWithFullUserData()
    {
        Native.RequireLinux();
        int ep = (int)Native.Ok(epoll_create1(EPOLL_CLOEXEC), "epoll_create1");
        int efd = -1;
        try
        {
            efd = (int)Native.Ok(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), "eventfd");
            var ev = new epoll_event { events = EPOLLIN };
            ev.data.u64 = 0x1122334455667788UL; // the upper half is what an unpacked struct loses on x86-64
            Native.Ok(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev), "epoll_ctl");

            var events = stackalloc epoll_event[4];
            Assert.Equal(0, Native.Ok(epoll_wait(ep, events, 4, 0), "epoll_wait"));

            Native.Ok(eventfd_write(efd, 3), "eventfd_write");
            Assert.Equal(1, Native.Ok(epoll_wait(ep, events, 4, 0), "epoll_wait"));
            Assert.Equal(0x1122334455667788UL, events[0].data.u64);
            Assert.NotEqual(0u, events[0].events & EPOLLIN);

            ulong value;
            Native.Ok(eventfd_read(efd, &value), "eventfd_read");
            Assert.Equal(3UL, value);
        }
        finally
        {
            close(efd);
            close(ep);
        }
    }

    [Fact]
    public void Eventfd_ReadWhenEmpty_ErrnoIsEagain()
    {
        Native.RequireLinux();
        int efd = (int)Native.Ok(eventfd(0, EFD_NONBLOCK), "eventfd");
        try
        {
            ulong value;
            Assert.Equal(-1, eventfd_read(efd, &value));
            Assert.Equal(EAGAIN, Marshal.GetLastPInvokeError());
        }
        finally
        {
            close(efd);
        }
    }
}
