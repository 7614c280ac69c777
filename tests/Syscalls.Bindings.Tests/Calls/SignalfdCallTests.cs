using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Syscalls.Linux;
using Xunit;
using static Syscalls.Linux.LibC;

namespace Syscalls.Bindings.Tests.Calls;

/// <summary>
/// signalfd with a mask built by sigemptyset/sigaddset and blocked with pthread_sigmask: a signal raised at this thread
/// stays pending and is read from the descriptor as a signalfd_siginfo. SIGURG is used because its default action is
/// to ignore it: were anything to go wrong, no process dies of it.
/// </summary>
// unsafe: the bindings take pointers; every one here is to a local that outlives the call.
[SupportedOSPlatform("linux")]
public sealed unsafe class SignalfdCallTests
{
    [Fact]
    public void Signalfd_BlockedSignalRaised_ReadAsSiginfo()
    {
        Native.RequireLinux();
        sigset_t mask, old;
        Native.Ok(sigemptyset(&mask), "sigemptyset");
        Native.Ok(sigaddset(&mask, SIGURG), "sigaddset");
        Assert.Equal(1, sigismember(&mask, SIGURG));
        Assert.Equal(0, sigismember(&mask, SIGUSR1));
        Assert.Equal(0, pthread_sigmask(SIG_BLOCK, &mask, &old));
        int fd = -1;
        try
        {
            fd = (int)Native.Ok(signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK), "signalfd");
            signalfd_siginfo info;
            Assert.Equal(-1, read(fd, &info, (nuint)sizeof(signalfd_siginfo)));
            Assert.Equal(EAGAIN, Marshal.GetLastPInvokeError());

            Native.Ok(raise(SIGURG), "raise");
            Assert.Equal(sizeof(signalfd_siginfo), Native.Ok(read(fd, &info, (nuint)sizeof(signalfd_siginfo)), "read"));
            Assert.Equal((uint)SIGURG, info.ssi_signo);
            Assert.Equal((uint)getpid(), info.ssi_pid);
        }
        finally
        {
            close(fd);
            Assert.Equal(0, pthread_sigmask(SIG_SETMASK, &old, null));
        }
    }
}
