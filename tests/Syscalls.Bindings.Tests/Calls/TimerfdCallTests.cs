using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Syscalls.Linux;
using Xunit;
using static Syscalls.Linux.LibC;

namespace Syscalls.Bindings.Tests.Calls;

/// <summary>timerfd_create/settime/gettime through the bindings: a timer that expires is read as a count, and an
/// armed timer reports what was set.</summary>
// unsafe: the bindings take pointers; every one here is to a local that outlives the call.
[SupportedOSPlatform("linux")]
public sealed unsafe class TimerfdCallTests
{
    [Fact]
    public void Timerfd_OneShotExpires_ReadReturnsCountAndDisarms()
    {
        Native.RequireLinux();
        int fd = (int)Native.Ok(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK), "timerfd_create");
        try
        {
            var spec = new itimerspec();
            spec.it_value.tv_nsec = 1_000_000;
            Native.Ok(timerfd_settime(fd, 0, &spec, null), "timerfd_settime");
            // Readable once expired. The bound only keeps a broken binding (a disarmed timer) from hanging the run.
            var pfd = new pollfd { fd = fd, events = POLLIN };
            Assert.Equal(1, Native.Ok(poll(&pfd, 1, 30_000), "poll"));
            ulong expirations = 0;
            Assert.Equal(sizeof(ulong), Native.Ok(read(fd, &expirations, sizeof(ulong)), "read"));
            Assert.True(expirations >= 1, $"expirations {expirations}");
            itimerspec now;
            Native.Ok(timerfd_gettime(fd, &now), "timerfd_gettime");
            Assert.Equal(0, now.it_value.tv_sec);
            Assert.Equal(0, now.it_value.tv_nsec);
        }
        finally
        {
            close(fd);
        }
    }

    [Fact]
    public void Timerfd_ArmedPeriodic_GettimeReportsIntervalAndNothingToReadYet()
    {
        Native.RequireLinux();
        int fd = (int)Native.Ok(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK), "timerfd_create");
        try
        {
            var spec = new itimerspec();
            spec.it_interval.tv_sec = 5;
            spec.it_value.tv_sec = 600;
            itimerspec old;
            Native.Ok(timerfd_settime(fd, 0, &spec, &old), "timerfd_settime");
            Assert.Equal(0, old.it_value.tv_sec);
            itimerspec now;
            Native.Ok(timerfd_gettime(fd, &now), "timerfd_gettime");
            Assert.Equal(5, now.it_interval.tv_sec);
            Assert.InRange(now.it_value.tv_sec, 1, 600);
            ulong expirations;
            Assert.Equal(-1, read(fd, &expirations, sizeof(ulong)));
            Assert.Equal(EAGAIN, Marshal.GetLastPInvokeError());
        }
        finally
        {
            close(fd);
        }
    }
}
