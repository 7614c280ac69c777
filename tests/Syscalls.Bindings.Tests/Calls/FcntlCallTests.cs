using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Syscalls.Linux;
using Xunit;
using static Syscalls.Linux.LibC;

namespace Syscalls.Bindings.Tests.Calls;

/// <summary>The variadic fcntl through its fixed-arity overloads; clock_gettime when the facts have it.</summary>
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
        var method = typeof(LibC).GetMethod("clock_gettime");
        Assert.SkipWhen(method is null, "clock_gettime is not in the bindings (no API family lists it)");
        var clock = (int)typeof(LibC).GetField("CLOCK_MONOTONIC")!.GetRawConstantValue()!;
        var ts = new timespec();
        var handle = GCHandle.Alloc(ts, GCHandleType.Pinned);
        try
        {
            object result = method!.Invoke(null, [clock, Pointer.Box((void*)handle.AddrOfPinnedObject(), typeof(timespec*))])!;
            Assert.Equal(0, (int)result);
            Assert.True(((timespec*)handle.AddrOfPinnedObject())->tv_sec > 0 || ((timespec*)handle.AddrOfPinnedObject())->tv_nsec > 0);
        }
        finally
        {
            handle.Free();
        }
    }
}
