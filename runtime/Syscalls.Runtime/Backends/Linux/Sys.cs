using System;
using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.Versioning;
using Syscalls.Linux;
using static Syscalls.Linux.LibC;

namespace Syscalls.Runtime.Backends.Linux;

/// <summary>Every Linux syscall of the runtime goes through here: one helper per call that turns -1/errno into
/// <see cref="OsError"/>, retries EINTR where retrying is right, and adds the flags that make pitfalls defaults
/// (CLOEXEC, NONBLOCK, MSG_NOSIGNAL). Callers pass raw descriptors they keep alive (a SafeHandle they hold).</summary>
[SupportedOSPlatform("linux")]
internal static partial class Sys
{
    /// <summary>Bytes of a sockaddr_storage; every sockaddr we build or read fits.</summary>
    internal const int SockaddrCapacity = 128;

    // ---------------------------------------------------------------- sockets

    /// <summary>socket(2), always close-on-exec; non-blocking unless <paramref name="blocking"/>.</summary>
    internal static Result<int> Socket(AddressFamily family, SocketType type, bool blocking = false)
    {
        int domain = family == AddressFamily.InterNetworkV6 ? (int)AF_INET6 : (int)AF_INET;
        int kind = type == SocketType.Dgram ? (int)SOCK_DGRAM : (int)SOCK_STREAM;
        kind |= (int)SOCK_CLOEXEC;
        if (!blocking)
            kind |= (int)SOCK_NONBLOCK;
        int fd = socket(domain, kind, 0);
        return fd >= 0 ? fd : LinuxErrno.Last();
    }

    // reason: &value is a stack local that outlives the call
    internal static unsafe Result SetSockOpt(int fd, int level, int name, int value)
    {
        return setsockopt(fd, level, name, &value, sizeof(int)) == 0 ? Result.Success : LinuxErrno.Last();
    }

    // reason: both pointers are stack locals that outlive the call
    internal static unsafe Result<int> GetSockOpt(int fd, int level, int name)
    {
        int value = 0;
        uint len = sizeof(int);
        return getsockopt(fd, level, name, &value, &len) == 0 ? value : LinuxErrno.Last();
    }

    /// <summary>SO_LINGER {on, 0}: close(2) then sends a reset instead of a FIN.</summary>
    // reason: &l is a stack local that outlives the call
    internal static unsafe Result SetLingerZero(int fd)
    {
        linger l = default;
        l.l_onoff = 1;
        l.l_linger = 0;
        return setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, (uint)sizeof(linger)) == 0
            ? Result.Success
            : LinuxErrno.Last();
    }

    // reason: sa is a stack buffer of SockaddrCapacity bytes that outlives the call
    internal static unsafe Result Bind(int fd, in NetEndpoint endpoint)
    {
        byte* sa = stackalloc byte[SockaddrCapacity];
        uint len = WriteSockaddr(endpoint, sa);
        return bind(fd, (sockaddr*)sa, len) == 0 ? Result.Success : LinuxErrno.Last();
    }

    internal static Result Listen(int fd, int backlog)
        => listen(fd, backlog) == 0 ? Result.Success : LinuxErrno.Last();

    /// <summary>accept4(2) with CLOEXEC (and NONBLOCK unless <paramref name="blocking"/>); EINTR retried.</summary>
    // reason: null address and length: accept4 does not write the peer address then
    internal static unsafe Result<int> Accept(int fd, bool blocking = false)
    {
        int flags = (int)SOCK_CLOEXEC | (blocking ? 0 : (int)SOCK_NONBLOCK);
        while (true)
        {
            int c = accept4(fd, null, null, flags);
            if (c >= 0)
                return c;
            OsError e = LinuxErrno.Last();
            if (e.Kind != ErrorKind.Interrupted)
                return e;
        }
    }

    /// <summary>connect(2). A non-blocking socket yields <see cref="ErrorKind.InProgress"/>; so does EINTR, after which
    /// the connect goes on in the background (it must not be retried).</summary>
    // reason: sa is a stack buffer of SockaddrCapacity bytes that outlives the call
    internal static unsafe Result Connect(int fd, in NetEndpoint endpoint)
    {
        byte* sa = stackalloc byte[SockaddrCapacity];
        uint len = WriteSockaddr(endpoint, sa);
        if (connect(fd, (sockaddr*)sa, len) == 0)
            return Result.Success;
        OsError e = LinuxErrno.Last();
        return e.Kind == ErrorKind.Interrupted ? new OsError(ErrorKind.InProgress, e.Code) : e;
    }

    /// <summary>recv(2); EINTR retried. 0 means end of stream.</summary>
    // reason: the span is pinned for the duration of the call only
    internal static unsafe Result<int> Recv(int fd, Span<byte> buffer, int flags = 0)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                nint n = recv(fd, p, (nuint)buffer.Length, flags);
                if (n >= 0)
                    return (int)n;
                OsError e = LinuxErrno.Last();
                if (e.Kind != ErrorKind.Interrupted)
                    return e;
            }
        }
    }

    /// <summary>send(2) with MSG_NOSIGNAL (a closed peer gives EPIPE, not SIGPIPE); EINTR retried.</summary>
    // reason: the span is pinned for the duration of the call only
    internal static unsafe Result<int> Send(int fd, ReadOnlySpan<byte> data, int flags = 0)
    {
        fixed (byte* p = data)
        {
            while (true)
            {
                nint n = send(fd, p, (nuint)data.Length, flags | (int)MSG_NOSIGNAL);
                if (n >= 0)
                    return (int)n;
                OsError e = LinuxErrno.Last();
                if (e.Kind != ErrorKind.Interrupted)
                    return e;
            }
        }
    }

    /// <summary>sendto(2) with MSG_NOSIGNAL; EINTR retried.</summary>
    // reason: the span is pinned and sa is a stack buffer, both for the duration of the call only
    internal static unsafe Result<int> SendTo(int fd, ReadOnlySpan<byte> data, in NetEndpoint to, int flags = 0)
    {
        byte* sa = stackalloc byte[SockaddrCapacity];
        uint len = WriteSockaddr(to, sa);
        fixed (byte* p = data)
        {
            while (true)
            {
                nint n = sendto(fd, p, (nuint)data.Length, flags | (int)MSG_NOSIGNAL, (sockaddr*)sa, len);
                if (n >= 0)
                    return (int)n;
                OsError e = LinuxErrno.Last();
                if (e.Kind != ErrorKind.Interrupted)
                    return e;
            }
        }
    }

    /// <summary>recvfrom(2); EINTR retried. MSG_TRUNC makes the result the datagram's real length.</summary>
    // reason: the span is pinned and sa is a stack buffer, both for the duration of the call only
    internal static unsafe Result<int> RecvFrom(int fd, Span<byte> buffer, out NetEndpoint from, int flags = 0)
    {
        byte* sa = stackalloc byte[SockaddrCapacity];
        fixed (byte* p = buffer)
        {
            while (true)
            {
                uint len = SockaddrCapacity;
                nint n = recvfrom(fd, p, (nuint)buffer.Length, flags, (sockaddr*)sa, &len);
                if (n >= 0)
                {
                    from = ReadSockaddr(sa, len);
                    return (int)n;
                }

                OsError e = LinuxErrno.Last();
                if (e.Kind != ErrorKind.Interrupted)
                {
                    from = default;
                    return e;
                }
            }
        }
    }

    internal static Result Shutdown(int fd, int how)
        => shutdown(fd, how) == 0 ? Result.Success : LinuxErrno.Last();

    // reason: sa and len are stack locals; the kernel writes at most len (SockaddrCapacity) bytes
    internal static unsafe Result<NetEndpoint> GetSockName(int fd)
    {
        byte* sa = stackalloc byte[SockaddrCapacity];
        uint len = SockaddrCapacity;
        return getsockname(fd, (sockaddr*)sa, &len) == 0 ? ReadSockaddr(sa, len) : LinuxErrno.Last();
    }

    // reason: sa and len are stack locals; the kernel writes at most len (SockaddrCapacity) bytes
    internal static unsafe Result<NetEndpoint> GetPeerName(int fd)
    {
        byte* sa = stackalloc byte[SockaddrCapacity];
        uint len = SockaddrCapacity;
        return getpeername(fd, (sockaddr*)sa, &len) == 0 ? ReadSockaddr(sa, len) : LinuxErrno.Last();
    }

    // ---------------------------------------------------------------- descriptors

    /// <summary>close(2). Never retried on EINTR: Linux has released the descriptor even then.</summary>
    internal static Result Close(int fd) => close(fd) == 0 ? Result.Success : LinuxErrno.Last();

    // reason: the span is pinned for the duration of the call only
    internal static unsafe Result<int> Read(int fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                nint n = read(fd, p, (nuint)buffer.Length);
                if (n >= 0)
                    return (int)n;
                OsError e = LinuxErrno.Last();
                if (e.Kind != ErrorKind.Interrupted)
                    return e;
            }
        }
    }

    // reason: the span is pinned for the duration of the call only
    internal static unsafe Result<int> Write(int fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            while (true)
            {
                nint n = write(fd, p, (nuint)data.Length);
                if (n >= 0)
                    return (int)n;
                OsError e = LinuxErrno.Last();
                if (e.Kind != ErrorKind.Interrupted)
                    return e;
            }
        }
    }

    /// <summary>pread(2) at <paramref name="offset"/> (the file position is neither used nor moved); EINTR retried.
    /// A descriptor without positions (pipe, socket: ESPIPE) is read as a stream instead, as io_uring's READ does
    /// with an offset on such a file.</summary>
    // reason: the span is pinned for the duration of the call only
    internal static unsafe Result<int> ReadAt(int fd, Span<byte> buffer, long offset)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                nint n = pread(fd, p, (nuint)buffer.Length, offset);
                if (n >= 0)
                    return (int)n;
                OsError e = LinuxErrno.Last();
                if (e.Code == ESPIPE)
                    return Read(fd, buffer);
                if (e.Kind != ErrorKind.Interrupted)
                    return e;
            }
        }
    }

    /// <summary>pwrite(2) at <paramref name="offset"/>; EINTR retried; ESPIPE writes to the stream (see <see cref="ReadAt"/>).</summary>
    // reason: the span is pinned for the duration of the call only
    internal static unsafe Result<int> WriteAt(int fd, ReadOnlySpan<byte> data, long offset)
    {
        fixed (byte* p = data)
        {
            while (true)
            {
                nint n = pwrite(fd, p, (nuint)data.Length, offset);
                if (n >= 0)
                    return (int)n;
                OsError e = LinuxErrno.Last();
                if (e.Code == ESPIPE)
                    return Write(fd, data);
                if (e.Kind != ErrorKind.Interrupted)
                    return e;
            }
        }
    }

    internal static Result SetNonBlocking(int fd, bool nonBlocking)
    {
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0)
            return LinuxErrno.Last();
        int wanted = nonBlocking ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
        if (wanted == flags)
            return Result.Success;
        return fcntl(fd, F_SETFL, wanted) == 0 ? Result.Success : LinuxErrno.Last();
    }

    internal static Result<bool> IsCloseOnExec(int fd)
    {
        int flags = fcntl(fd, F_GETFD);
        return flags >= 0 ? (flags & FD_CLOEXEC) != 0 : LinuxErrno.Last();
    }

    internal static Result<bool> IsNonBlocking(int fd)
    {
        int flags = fcntl(fd, F_GETFL);
        return flags >= 0 ? (flags & O_NONBLOCK) != 0 : LinuxErrno.Last();
    }

    /// <summary>eventfd(2), close-on-exec and non-blocking: the pollers' waker.</summary>
    internal static Result<int> EventFd()
    {
        int fd = eventfd(0, (int)(EFD_CLOEXEC | EFD_NONBLOCK));
        return fd >= 0 ? fd : LinuxErrno.Last();
    }

    /// <summary>Adds 1 to an eventfd counter; false when the eventfd is not readable afterwards (EAGAIN at the
    /// counter's limit still leaves it readable, so that is a success).</summary>
    // reason: &one is a stack local that outlives the call
    internal static unsafe bool EventFdSignal(int fd)
    {
        ulong one = 1;
        return write(fd, &one, sizeof(ulong)) == sizeof(ulong) || LinuxErrno.Last().Kind == ErrorKind.WouldBlock;
    }

    /// <summary>Resets an eventfd counter to 0.</summary>
    // reason: &value is a stack local that outlives the call
    internal static unsafe void EventFdDrain(int fd)
    {
        ulong value;
        read(fd, &value, sizeof(ulong));
    }

    // ---------------------------------------------------------------- sockaddr

    /// <summary>Writes <paramref name="endpoint"/> as sockaddr_in/sockaddr_in6 into <paramref name="sa"/>
    /// (<see cref="SockaddrCapacity"/> bytes); returns its length.</summary>
    // reason: callers pass a stackalloc'd buffer of SockaddrCapacity bytes that outlives the syscall using it
    internal static unsafe uint WriteSockaddr(in NetEndpoint endpoint, byte* sa)
    {
        new Span<byte>(sa, SockaddrCapacity).Clear();
        if (endpoint.Family == AddressFamily.InterNetwork)
        {
            var sin = (sockaddr_in*)sa;
            sin->sin_family = (ushort)AF_INET;
            sin->sin_port = BinaryPrimitives.ReverseEndianness(endpoint.Port);   // network order
            endpoint.CopyAddressTo(new Span<byte>(&sin->sin_addr, 4));
            return (uint)sizeof(sockaddr_in);
        }

        if (endpoint.Family == AddressFamily.InterNetworkV6)
        {
            var sin6 = (sockaddr_in6*)sa;
            sin6->sin6_family = (ushort)AF_INET6;
            sin6->sin6_port = BinaryPrimitives.ReverseEndianness(endpoint.Port);
            endpoint.CopyAddressTo(new Span<byte>(&sin6->sin6_addr, 16));
            sin6->sin6_scope_id = endpoint.ScopeId;
            return (uint)sizeof(sockaddr_in6);
        }

        throw new ArgumentException("The endpoint has no address family.", nameof(endpoint));
    }

    // reason: sa is the caller's SockaddrCapacity-byte buffer that the kernel filled; length bounds what is read
    internal static unsafe NetEndpoint ReadSockaddr(byte* sa, uint length)
    {
        int family = ((sockaddr*)sa)->sa_family;
        if (family == AF_INET && length >= (uint)sizeof(sockaddr_in))
        {
            var sin = (sockaddr_in*)sa;
            return NetEndpoint.Create(new ReadOnlySpan<byte>(&sin->sin_addr, 4), BinaryPrimitives.ReverseEndianness(sin->sin_port));
        }

        if (family == AF_INET6 && length >= (uint)sizeof(sockaddr_in6))
        {
            var sin6 = (sockaddr_in6*)sa;
            return NetEndpoint.Create(new ReadOnlySpan<byte>(&sin6->sin6_addr, 16),
                BinaryPrimitives.ReverseEndianness(sin6->sin6_port), sin6->sin6_scope_id);
        }

        return default;
    }
}
