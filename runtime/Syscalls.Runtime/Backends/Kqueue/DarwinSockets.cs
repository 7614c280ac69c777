using System;
using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.Versioning;
using Syscalls.Darwin;
using static Syscalls.Darwin.LibC;

namespace Syscalls.Runtime.Backends.Kqueue;

/// <summary>Every macOS socket call of the runtime outside the kqueue poller goes through here, the counterpart of
/// <c>Backends/Linux/Sys</c>: one helper per call that turns -1/errno into <see cref="OsError"/> (Darwin numbers),
/// retries EINTR where that is right, and runs <see cref="DarwinSocketOptions.Prepare"/> on every socket it creates or
/// accepts (close-on-exec, SO_NOSIGPIPE, non-blocking), since macOS has no SOCK_CLOEXEC/SOCK_NONBLOCK, accept4 or
/// MSG_NOSIGNAL. Callers pass raw descriptors they keep alive (a SafeHandle they hold).</summary>
[SupportedOSPlatform("macos")]
internal static class DarwinSockets
{
    /// <summary>Bytes of a sockaddr_storage; every sockaddr we build or read fits.</summary>
    internal const int SockaddrCapacity = 128;

    internal static Result<int> Socket(AddressFamily family, SocketType type, bool blocking = false)
    {
        int domain = family == AddressFamily.InterNetworkV6 ? AF_INET6 : AF_INET;
        int fd = socket(domain, type == SocketType.Dgram ? SOCK_DGRAM : SOCK_STREAM, 0);
        return fd >= 0 ? Prepared(fd, blocking) : DarwinErrno.Last();
    }

    // reason: null address and length pointers ask for no peer address; nothing is dereferenced
    internal static unsafe Result<int> Accept(int listener, bool blocking = false)
    {
        while (true)
        {
            int fd = accept(listener, null, null);
            if (fd >= 0)
                return Prepared(fd, blocking);
            OsError e = DarwinErrno.Last();
            if (e.Kind != ErrorKind.Interrupted)
                return e;
        }
    }

    internal static Result Close(int fd) => close(fd) == 0 ? Result.Success : DarwinErrno.Last();

    // reason: &value is a stack local that outlives the call
    internal static unsafe Result SetSockOpt(int fd, int level, int name, int value)
    {
        return setsockopt(fd, level, name, &value, sizeof(int)) == 0 ? Result.Success : DarwinErrno.Last();
    }

    // reason: both pointers are stack locals that outlive the call
    internal static unsafe Result<int> GetSockOpt(int fd, int level, int name)
    {
        int value = 0;
        uint len = sizeof(int);
        return getsockopt(fd, level, name, &value, &len) == 0 ? value : DarwinErrno.Last();
    }

    /// <summary>SO_LINGER {on, 0}: close(2) then sends a reset instead of a FIN.</summary>
    // reason: &l is a stack local that outlives the call
    internal static unsafe Result SetLingerZero(int fd)
    {
        linger l = default;
        l.l_onoff = 1;
        l.l_linger = 0;
        return setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, (uint)sizeof(linger)) == 0 ? Result.Success : DarwinErrno.Last();
    }

    // reason: sa is a stack buffer that outlives the call
    internal static unsafe Result Bind(int fd, in NetEndpoint endpoint)
    {
        byte* sa = stackalloc byte[SockaddrCapacity];
        uint len = WriteSockaddr(endpoint, sa);
        return bind(fd, (sockaddr*)sa, len) == 0 ? Result.Success : DarwinErrno.Last();
    }

    internal static Result Listen(int fd, int backlog) => listen(fd, backlog) == 0 ? Result.Success : DarwinErrno.Last();

    /// <summary>connect(2); EINTR, like EINPROGRESS, leaves the connect going on in the background.</summary>
    // reason: sa is a stack buffer that outlives the call
    internal static unsafe Result Connect(int fd, in NetEndpoint endpoint)
    {
        byte* sa = stackalloc byte[SockaddrCapacity];
        uint len = WriteSockaddr(endpoint, sa);
        if (connect(fd, (sockaddr*)sa, len) == 0)
            return Result.Success;
        OsError e = DarwinErrno.Last();
        return e.Kind == ErrorKind.Interrupted ? new OsError(ErrorKind.InProgress, e.Code) : e;
    }

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
                OsError e = DarwinErrno.Last();
                if (e.Kind != ErrorKind.Interrupted)
                    return e;
            }
        }
    }

    /// <summary>send(2); no flag needed against SIGPIPE: every socket of the runtime has SO_NOSIGPIPE.</summary>
    // reason: the span is pinned for the duration of the call only
    internal static unsafe Result<int> Send(int fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            while (true)
            {
                nint n = send(fd, p, (nuint)data.Length, 0);
                if (n >= 0)
                    return (int)n;
                OsError e = DarwinErrno.Last();
                if (e.Kind != ErrorKind.Interrupted)
                    return e;
            }
        }
    }

    /// <summary>sendto(2): one datagram; SO_NOSIGPIPE is already set on every socket of the runtime.</summary>
    // reason: the span is pinned and sa is a stack buffer, both for the duration of the call only
    internal static unsafe Result<int> SendTo(int fd, ReadOnlySpan<byte> data, in NetEndpoint to)
    {
        byte* sa = stackalloc byte[SockaddrCapacity];
        uint len = WriteSockaddr(to, sa);
        fixed (byte* p = data)
        {
            while (true)
            {
                nint n = sendto(fd, p, (nuint)data.Length, 0, (sockaddr*)sa, len);
                if (n >= 0)
                    return (int)n;
                OsError e = DarwinErrno.Last();
                if (e.Kind != ErrorKind.Interrupted)
                    return e;
            }
        }
    }

    /// <summary>recvmsg(2) for one datagram: Darwin's recv has no MSG_TRUNC length (the flag is Linux's), but
    /// recvmsg reports the cut in msg_flags, returned as <paramref name="truncated"/>.</summary>
    // reason: the span is pinned, and sa, iov and msg are stack locals, all for the duration of the call only
    internal static unsafe Result<int> RecvFrom(int fd, Span<byte> buffer, out NetEndpoint from, out bool truncated)
    {
        byte* sa = stackalloc byte[SockaddrCapacity];
        fixed (byte* p = buffer)
        {
            iovec iov = default;
            iov.iov_base = p;
            iov.iov_len = (nuint)buffer.Length;
            while (true)
            {
                msghdr msg = default;
                msg.msg_name = sa;
                msg.msg_namelen = SockaddrCapacity;
                msg.msg_iov = &iov;
                msg.msg_iovlen = 1;
                nint n = recvmsg(fd, &msg, 0);
                if (n >= 0)
                {
                    from = ReadSockaddr(sa, msg.msg_namelen);
                    truncated = (msg.msg_flags & MSG_TRUNC) != 0;
                    return (int)n;
                }

                OsError e = DarwinErrno.Last();
                if (e.Kind != ErrorKind.Interrupted)
                {
                    from = default;
                    truncated = false;
                    return e;
                }
            }
        }
    }

    internal static Result Shutdown(int fd, int how) => shutdown(fd, how) == 0 ? Result.Success : DarwinErrno.Last();

    // reason: sa and len are stack locals that outlive the call
    internal static unsafe Result<NetEndpoint> GetSockName(int fd)
    {
        byte* sa = stackalloc byte[SockaddrCapacity];
        uint len = SockaddrCapacity;
        return getsockname(fd, (sockaddr*)sa, &len) == 0 ? ReadSockaddr(sa, len) : DarwinErrno.Last();
    }

    // reason: sa and len are stack locals that outlive the call
    internal static unsafe Result<NetEndpoint> GetPeerName(int fd)
    {
        byte* sa = stackalloc byte[SockaddrCapacity];
        uint len = SockaddrCapacity;
        return getpeername(fd, (sockaddr*)sa, &len) == 0 ? ReadSockaddr(sa, len) : DarwinErrno.Last();
    }

    internal static Result<bool> IsNonBlocking(int fd)
    {
        int flags = fcntl(fd, F_GETFL);
        return flags >= 0 ? (flags & O_NONBLOCK) != 0 : DarwinErrno.Last();
    }

    internal static Result<bool> IsCloseOnExec(int fd)
    {
        int flags = fcntl(fd, F_GETFD);
        return flags >= 0 ? (flags & FD_CLOEXEC) != 0 : DarwinErrno.Last();
    }

    private static Result<int> Prepared(int fd, bool blocking)
    {
        Result r = DarwinSocketOptions.Prepare(fd, blocking);
        if (r.IsSuccess)
            return fd;
        close(fd);
        return r.Error;
    }

    /// <summary>sockaddr_in/sockaddr_in6 with BSD's sin_len and one-byte family; returns the length.</summary>
    // reason: callers pass a stackalloc'd buffer of SockaddrCapacity bytes that outlives the call using it
    internal static unsafe uint WriteSockaddr(in NetEndpoint endpoint, byte* sa)
    {
        new Span<byte>(sa, SockaddrCapacity).Clear();
        if (endpoint.Family == AddressFamily.InterNetwork)
        {
            var sin = (sockaddr_in*)sa;
            sin->sin_len = (byte)sizeof(sockaddr_in);
            sin->sin_family = (byte)AF_INET;
            sin->sin_port = BinaryPrimitives.ReverseEndianness(endpoint.Port);   // network order
            endpoint.CopyAddressTo(new Span<byte>(&sin->sin_addr, 4));
            return (uint)sizeof(sockaddr_in);
        }

        if (endpoint.Family == AddressFamily.InterNetworkV6)
        {
            var sin6 = (sockaddr_in6*)sa;
            sin6->sin6_len = (byte)sizeof(sockaddr_in6);
            sin6->sin6_family = (byte)AF_INET6;
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
