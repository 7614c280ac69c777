using System.Runtime.Versioning;
using static Syscalls.Darwin.LibC;

namespace Syscalls.Runtime.Backends.Kqueue;

/// <summary>The macOS stand-ins for what Linux gets from flags: macOS has no SOCK_NONBLOCK/SOCK_CLOEXEC, no accept4,
/// and no usable per-call MSG_NOSIGNAL, so every socket the runtime creates or accepts goes through
/// <see cref="Prepare"/>. Callers pass raw descriptors they keep alive (a SafeHandle they hold).</summary>
[SupportedOSPlatform("macos")]
internal static class DarwinSocketOptions
{
    /// <summary>Close-on-exec, SO_NOSIGPIPE, and non-blocking unless <paramref name="blocking"/>: call on the result
    /// of every socket(2) and accept(2) (accepted sockets do not reliably inherit these from the listener).</summary>
    internal static Result Prepare(int fd, bool blocking = false)
    {
        Result r = SetCloseOnExec(fd);
        if (r.IsSuccess)
            r = SetNoSigPipe(fd);
        if (r.IsSuccess && !blocking)
            r = SetNonBlocking(fd, true);
        return r;
    }

    /// <summary>SO_NOSIGPIPE: a write to a connection the peer closed fails with EPIPE instead of raising SIGPIPE.
    /// Unlike MSG_NOSIGNAL it is a property of the socket, so it also covers write(2)/writev(2)/sendmsg(2).</summary>
    // reason: &one is a stack local that outlives the call
    internal static unsafe Result SetNoSigPipe(int fd)
    {
        int one = 1;
        return setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof(int)) == 0 ? Result.Success : DarwinErrno.Last();
    }

    /// <summary>Reads SO_NOSIGPIPE back (for tests and diagnostics).</summary>
    // reason: both pointers are stack locals that outlive the call
    internal static unsafe Result<bool> HasNoSigPipe(int fd)
    {
        int value = 0;
        uint len = sizeof(int);
        return getsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &value, &len) == 0 ? value != 0 : DarwinErrno.Last();
    }

    /// <summary>FD_CLOEXEC through fcntl(F_SETFD). fcntl is variadic: on Apple arm64 the third argument must travel on
    /// the stack, which the bindings' three-argument overload does (it pads x2-x7); a fixed-arity P/Invoke would pass
    /// it in x2 and fcntl would read stack garbage (dotnet/runtime#48796).</summary>
    internal static Result SetCloseOnExec(int fd)
        => fcntl(fd, F_SETFD, FD_CLOEXEC) != -1 ? Result.Success : DarwinErrno.Last();

    /// <summary>O_NONBLOCK through fcntl(F_GETFL/F_SETFL) (variadic, see <see cref="SetCloseOnExec"/>).</summary>
    internal static Result SetNonBlocking(int fd, bool nonBlocking)
    {
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0)
            return DarwinErrno.Last();
        int wanted = nonBlocking ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
        if (wanted == flags)
            return Result.Success;
        return fcntl(fd, F_SETFL, wanted) != -1 ? Result.Success : DarwinErrno.Last();
    }
}
