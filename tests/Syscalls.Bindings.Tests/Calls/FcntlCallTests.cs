using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Syscalls.Linux;
using Xunit;
using static Syscalls.Linux.LibC;

namespace Syscalls.Bindings.Tests.Calls;

/// <summary>The variadic fcntl through its fixed-arity overloads; the time family's fast and noerror bindings.</summary>
// unsafe: the bindings take pointers; every one here is to a local, stackalloc or pinned object that outlives the call.
[SupportedOSPlatform("linux")]
public sealed unsafe class FcntlCallTests
{
    [Fact]
    public void Fcntl_SetflNonblock_GetflReportsIt()
    {
        Native.RequireLinux();
        int fd = (int)Native.Ok(socket(AF_INET, (int)SOCK_STREAM, 0), "socket");
        try
        {
            int flags = (int)Native.Ok(fcntl(fd, F_GETFL), "fcntl(F_GETFL)");
            Assert.Equal(0, flags & O_NONBLOCK);
            Native.Ok(fcntl(fd, F_SETFL, flags | O_NONBLOCK), "fcntl(F_SETFL)");
            Assert.Equal(O_NONBLOCK, (int)Native.Ok(fcntl(fd, F_GETFL), "fcntl(F_GETFL)") & O_NONBLOCK);
        }
        finally
        {
            close(fd);
        }
    }

    [Fact]
    public void Accept_NonblockingWithoutPeer_ErrnoIsEagain()
    {
        Native.RequireLinux();
        int fd = (int)Native.Ok(socket(AF_INET, (int)(SOCK_STREAM | SOCK_NONBLOCK), 0), "socket");
        try
        {
            var addr = new sockaddr_in { sin_family = AF_INET };
            addr.sin_addr.s_addr = Native.Htonl(INADDR_LOOPBACK);
            Native.Ok(bind(fd, (sockaddr*)&addr, (uint)sizeof(sockaddr_in)), "bind");
            Native.Ok(listen(fd, 1), "listen");
            Assert.Equal(-1, accept(fd, null, null));
            Assert.Equal(EAGAIN, Marshal.GetLastPInvokeError());
        }
        finally
        {
            close(fd);
        }
    }

    [Fact]
    public void ClockGettime_Monotonic_Advances()
    {
        Native.RequireLinux();
        timespec a, b;
        // a and b are locals: their addresses are valid for the calls.
        Assert.Equal(0, clock_gettime(CLOCK_MONOTONIC, &a));
        Assert.Equal(0, clock_gettime(CLOCK_MONOTONIC, &b));
        Assert.True(a.tv_sec > 0 || a.tv_nsec > 0);
        Assert.True(b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec), "CLOCK_MONOTONIC went back");
    }

    [Fact]
    public void ClockGettime_NoSuchClock_CapturesEinval()
    {
        Native.RequireLinux();
        Assert.Equal(-1, close(-1)); // leaves EBADF in the slot
        timespec ts;
        // ts is a local; clock 0x7fffffff does not exist, so the kernel writes nothing.
        Assert.Equal(-1, clock_gettime(0x7fffffff, &ts));
        Assert.Equal(EINVAL, Marshal.GetLastPInvokeError()); // the fast binding reads errno because it returned -1
    }

    [Fact]
    public void Getppid_NoErrorBinding_LeavesTheSlotAndMatchesProc()
    {
        Native.RequireLinux();
        Assert.Equal(-1, close(-1));
        Assert.Equal(EBADF, Marshal.GetLastPInvokeError());
        int ppid = getppid();
        Assert.Equal(EBADF, Marshal.GetLastPInvokeError()); // bound without SetLastError: the slot is untouched
        // /proc/self/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after its closing parenthesis.
        string stat = System.IO.File.ReadAllText("/proc/self/stat");
        string afterComm = stat.Substring(stat.LastIndexOf(')') + 2);
        Assert.Equal(int.Parse(afterComm.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), ppid);
        Assert.Equal(System.Environment.ProcessId, getpid());
    }
}
