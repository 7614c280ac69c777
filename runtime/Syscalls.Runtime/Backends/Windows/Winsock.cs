using System;
using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Threading;
using Syscalls.Windows;
using static Syscalls.Windows.Ws2_32;

namespace Syscalls.Runtime.Backends.Windows;

/// <summary>Every Winsock call of the runtime outside the IOCP ring goes through here, the Windows counterpart of
/// <c>Backends/Linux/Sys</c>: one helper per call that turns SOCKET_ERROR into <see cref="OsError"/> and makes the
/// pitfalls defaults (WSAStartup once, overlapped and non-inheritable sockets, no SO_REUSEADDR port stealing).
/// Callers pass raw SOCKET values they keep alive (a SafeHandle they hold).</summary>
[SupportedOSPlatform("windows")]
internal static class Winsock
{
    /// <summary>Bytes of a SOCKADDR_STORAGE; every sockaddr we build or read fits.</summary>
    internal const int SockaddrCapacity = 128;

    private static int s_started;

    /// <summary>WSAStartup(2.2), once per process; never undone (WSACleanup at exit would race other users).</summary>
    // reason: &data is a stack local that outlives the synchronous call
    internal static unsafe Result EnsureStarted()
    {
        if (Volatile.Read(ref s_started) != 0)
            return Result.Success;
        WSADATA data;
        int rc = WSAStartup(0x0202, &data);
        if (rc != 0)
            return WinError.ToError(rc);   // WSAStartup returns its error instead of setting it
        Volatile.Write(ref s_started, 1);
        return Result.Success;
    }

    // ---------------------------------------------------------------- sockets

    /// <summary>WSASocketW: overlapped (usable with IOCP), not inherited by child processes (the CLOEXEC of
    /// Windows); non-blocking (FIONBIO) unless <paramref name="blocking"/>.</summary>
    // reason: the null WSAPROTOCOL_INFOW is never dereferenced; no pointer outlives the call
    internal static unsafe Result<nuint> Socket(AddressFamily family, SocketType type, bool blocking = false)
    {
        Result started = EnsureStarted();
        if (!started.IsSuccess)
            return started.Error;
        int af = family == AddressFamily.InterNetworkV6 ? AF_INET6 : AF_INET;
        bool dgram = type == SocketType.Dgram;
        nuint s = WSASocketW(af, dgram ? SOCK_DGRAM : SOCK_STREAM, dgram ? IPPROTO_UDP : IPPROTO_TCP, null, 0,
            (uint)(WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT));
        if (s == INVALID_SOCKET)
            return WinError.Last();
        if (!blocking)
        {
            Result nb = SetNonBlocking(s, true);
            if (!nb.IsSuccess)
            {
                closesocket(s);
                return nb.Error;
            }
        }

        return s;
    }

    /// <summary>Whether child processes would inherit the socket (HANDLE_FLAG_INHERIT), the Windows FD_CLOEXEC.</summary>
    // reason: &flags is a stack local that outlives the synchronous call
    internal static unsafe Result<bool> IsInheritable(nuint s)
    {
        uint flags = 0;
        return Syscalls.Windows.Kernel32.GetHandleInformation((nint)s, &flags) != 0
            ? (flags & (uint)Syscalls.Windows.Kernel32.HANDLE_FLAG_INHERIT) != 0
            : WinError.Last();
    }

    /// <summary>Clears HANDLE_FLAG_INHERIT, for sockets that WSA_FLAG_NO_HANDLE_INHERIT did not create.</summary>
    internal static Result SetNotInheritable(nuint s)
        => Syscalls.Windows.Kernel32.SetHandleInformation((nint)s, (uint)Syscalls.Windows.Kernel32.HANDLE_FLAG_INHERIT, 0) != 0
            ? Result.Success
            : WinError.Last();

    internal static Result Close(nuint s) => closesocket(s) == 0 ? Result.Success : WinError.Last();

    /// <summary>FIONBIO. Windows cannot read the mode back, so callers remember what they set.</summary>
    // reason: &on is a stack local that outlives the synchronous call
    internal static unsafe Result SetNonBlocking(nuint s, bool nonBlocking)
    {
        uint on = nonBlocking ? 1u : 0u;
        return ioctlsocket(s, unchecked((int)FIONBIO), &on) == 0 ? Result.Success : WinError.Last();
    }

    // reason: &value is a stack local (the parameter) that outlives the synchronous call
    internal static unsafe Result SetSockOpt(nuint s, int level, int name, int value)
    {
        return setsockopt(s, level, name, (byte*)&value, sizeof(int)) == 0 ? Result.Success : WinError.Last();
    }

    // reason: both pointers are stack locals that outlive the synchronous call
    internal static unsafe Result<int> GetSockOpt(nuint s, int level, int name)
    {
        int value = 0, len = sizeof(int);
        return getsockopt(s, level, name, (byte*)&value, &len) == 0 ? value : WinError.Last();
    }

    /// <summary>SO_LINGER {1, 0}: closesocket then resets the connection instead of a graceful FIN.</summary>
    // reason: &l is a stack local that outlives the synchronous call
    internal static unsafe Result SetLingerZero(nuint s)
    {
        linger l = default;
        l.l_onoff = 1;
        l.l_linger = 0;
        return setsockopt(s, SOL_SOCKET, SO_LINGER, (byte*)&l, sizeof(linger)) == 0 ? Result.Success : WinError.Last();
    }

    // reason: sa is a stackalloc of SockaddrCapacity bytes that outlives the synchronous call
    internal static unsafe Result Bind(nuint s, in NetEndpoint endpoint)
    {
        byte* sa = stackalloc byte[SockaddrCapacity];
        int len = WriteSockaddr(endpoint, sa);
        return bind(s, (sockaddr*)sa, len) == 0 ? Result.Success : WinError.Last();
    }

    internal static Result Listen(nuint s, int backlog)
        => listen(s, backlog) == 0 ? Result.Success : WinError.Last();

    /// <summary>A bound, listening TCP socket. No SO_REUSEADDR: on Windows it lets another socket steal the port
    /// (and a restart needs no help, a listener's port is free again at once).</summary>
    internal static Result<nuint> Listen(in NetEndpoint endpoint, int backlog, bool blocking = false)
    {
        Result<nuint> created = Socket(endpoint.Family, SocketType.Stream, blocking);
        if (!created.TryGetValue(out nuint s))
            return created;
        Result r = Bind(s, endpoint);
        if (r.IsSuccess)
            r = Listen(s, Math.Min(backlog, 0x7fffffff));
        if (r.IsSuccess)
            return s;
        closesocket(s);
        return r.Error;
    }

    /// <summary>accept(2), not inheritable: the new socket takes the listener's blocking mode, but nothing promises it
    /// takes WSA_FLAG_NO_HANDLE_INHERIT (under Wine it does not), so HANDLE_FLAG_INHERIT is cleared here.
    /// WSAEWOULDBLOCK when none is queued.</summary>
    // reason: null address and length pointers ask for no peer address; nothing is dereferenced
    internal static unsafe Result<nuint> Accept(nuint listener)
    {
        nuint c = accept(listener, null, null);
        if (c == INVALID_SOCKET)
            return WinError.Last();
        Result r = SetNotInheritable(c);
        if (r.IsSuccess)
            return c;
        closesocket(c);
        return r.Error;
    }

    /// <summary>connect(2). A non-blocking socket gives <see cref="ErrorKind.WouldBlock"/> (WSAEWOULDBLOCK, where Unix
    /// says EINPROGRESS): wait for writability, then read SO_ERROR.</summary>
    // reason: sa is a stackalloc of SockaddrCapacity bytes that outlives the synchronous call
    internal static unsafe Result Connect(nuint s, in NetEndpoint endpoint)
    {
        byte* sa = stackalloc byte[SockaddrCapacity];
        int len = WriteSockaddr(endpoint, sa);
        if (connect(s, (sockaddr*)sa, len) == 0)
            return Result.Success;
        OsError e = WinError.Last();
        return e.Kind == ErrorKind.WouldBlock ? new OsError(ErrorKind.InProgress, e.Code) : e;
    }

    /// <summary>recv; 0 means end of stream. Windows never raises a signal, so there is nothing like EINTR to retry.</summary>
    // reason: the span is pinned by fixed for the duration of the synchronous call only
    internal static unsafe Result<int> Recv(nuint s, Span<byte> buffer, int flags = 0)
    {
        fixed (byte* p = buffer)
        {
            int n = recv(s, p, buffer.Length, flags);
            return n >= 0 ? n : WinError.Last();
        }
    }

    /// <summary>send. A peer that closed gives WSAECONNRESET/WSAECONNABORTED; there is no SIGPIPE on Windows.</summary>
    // reason: the span is pinned by fixed for the duration of the synchronous call only
    internal static unsafe Result<int> Send(nuint s, ReadOnlySpan<byte> data, int flags = 0)
    {
        fixed (byte* p = data)
        {
            int n = send(s, p, data.Length, flags);
            return n >= 0 ? n : WinError.Last();
        }
    }

    /// <summary>sendto: one datagram to <paramref name="to"/>.</summary>
    // reason: the span is pinned and sa is a stackalloc of SockaddrCapacity bytes, both for the duration of the call only
    internal static unsafe Result<int> SendTo(nuint s, ReadOnlySpan<byte> data, in NetEndpoint to)
    {
        byte* sa = stackalloc byte[SockaddrCapacity];
        int len = WriteSockaddr(to, sa);
        fixed (byte* p = data)
        {
            int n = sendto(s, p, data.Length, 0, (sockaddr*)sa, len);
            return n >= 0 ? n : WinError.Last();
        }
    }

    /// <summary>recvfrom: one datagram. Winsock has no MSG_TRUNC length: a datagram longer than the buffer fails with
    /// WSAEMSGSIZE after filling the buffer and discarding the rest, reported here as <paramref name="truncated"/>
    /// with the buffer's length.</summary>
    // reason: the span is pinned and sa and len are stack locals, all for the duration of the call only
    internal static unsafe Result<int> RecvFrom(nuint s, Span<byte> buffer, out NetEndpoint from, out bool truncated)
    {
        byte* sa = stackalloc byte[SockaddrCapacity];
        int len = SockaddrCapacity;
        truncated = false;
        from = default;
        fixed (byte* p = buffer)
        {
            int n = recvfrom(s, p, buffer.Length, 0, (sockaddr*)sa, &len);
            if (n >= 0)
            {
                from = ReadSockaddr(sa, len);
                return n;
            }

            OsError e = WinError.Last();
            if (e.Code != WSAEMSGSIZE)
                return e;
            truncated = true;
            from = ReadSockaddr(sa, len);
            return buffer.Length;
        }
    }

    /// <summary>CancelIoEx on every operation of the socket, including a blocking recv/accept another thread waits in
    /// (Winsock runs those as overlapped I/O and waits inside ws2_32): it returns WSAEINTR/WSA_OPERATION_ABORTED.</summary>
    // reason: a null OVERLAPPED means "all I/O on the handle" and is never dereferenced; ERROR_NOT_FOUND is fine
    internal static unsafe void CancelIo(nuint s)
    {
        Syscalls.Windows.Kernel32.CancelIoEx((nint)s, null);
    }

    internal static Result Shutdown(nuint s, int how)
        => shutdown(s, how) == 0 ? Result.Success : WinError.Last();

    // reason: sa and len are stack locals that outlive the synchronous call
    internal static unsafe Result<NetEndpoint> GetSockName(nuint s)
    {
        byte* sa = stackalloc byte[SockaddrCapacity];
        int len = SockaddrCapacity;
        return getsockname(s, (sockaddr*)sa, &len) == 0 ? ReadSockaddr(sa, len) : WinError.Last();
    }

    // reason: sa and len are stack locals that outlive the synchronous call
    internal static unsafe Result<NetEndpoint> GetPeerName(nuint s)
    {
        byte* sa = stackalloc byte[SockaddrCapacity];
        int len = SockaddrCapacity;
        return getpeername(s, (sockaddr*)sa, &len) == 0 ? ReadSockaddr(sa, len) : WinError.Last();
    }

    // ---------------------------------------------------------------- sockaddr

    /// <summary>Writes <paramref name="endpoint"/> as sockaddr_in/sockaddr_in6 into <paramref name="sa"/>
    /// (<see cref="SockaddrCapacity"/> bytes); returns its length.</summary>
    // reason: callers pass SockaddrCapacity writable bytes (a stackalloc, or an IocpOperation's Addresses) alive for this call
    internal static unsafe int WriteSockaddr(in NetEndpoint endpoint, byte* sa)
    {
        new Span<byte>(sa, SockaddrCapacity).Clear();
        if (endpoint.Family == AddressFamily.InterNetwork)
        {
            var sin = (sockaddr_in*)sa;
            sin->sin_family = AF_INET;
            sin->sin_port = BinaryPrimitives.ReverseEndianness(endpoint.Port);   // network order
            endpoint.CopyAddressTo(new Span<byte>(&sin->sin_addr, 4));
            return sizeof(sockaddr_in);
        }

        if (endpoint.Family == AddressFamily.InterNetworkV6)
        {
            var sin6 = (sockaddr_in6*)sa;
            sin6->sin6_family = AF_INET6;
            sin6->sin6_port = BinaryPrimitives.ReverseEndianness(endpoint.Port);
            endpoint.CopyAddressTo(new Span<byte>(&sin6->sin6_addr, 16));
            sin6->sin6_scope_id = endpoint.ScopeId;
            return sizeof(sockaddr_in6);
        }

        throw new ArgumentException("The endpoint has no address family.", nameof(endpoint));
    }

    // reason: callers pass a sockaddr buffer (stackalloc, or an AcceptEx address area) of at least length bytes, alive for this call
    internal static unsafe NetEndpoint ReadSockaddr(byte* sa, int length)
    {
        int family = ((sockaddr*)sa)->sa_family;
        if (family == AF_INET && length >= sizeof(sockaddr_in))
        {
            var sin = (sockaddr_in*)sa;
            return NetEndpoint.Create(new ReadOnlySpan<byte>(&sin->sin_addr, 4), BinaryPrimitives.ReverseEndianness(sin->sin_port));
        }

        if (family == AF_INET6 && length >= sizeof(sockaddr_in6))
        {
            var sin6 = (sockaddr_in6*)sa;
            return NetEndpoint.Create(new ReadOnlySpan<byte>(&sin6->sin6_addr, 16),
                BinaryPrimitives.ReverseEndianness(sin6->sin6_port), sin6->sin6_scope_id);
        }

        return default;
    }

    /// <summary>The address family of a socket (from getsockname), for AcceptEx, which needs a new socket of the
    /// listener's family, and ConnectEx, which needs a bound socket.</summary>
    // reason: sa and len are stack locals that outlive the synchronous call
    internal static unsafe Result<AddressFamily> GetFamily(nuint s)
    {
        byte* sa = stackalloc byte[SockaddrCapacity];
        int len = SockaddrCapacity;
        if (getsockname(s, (sockaddr*)sa, &len) != 0)
            return WinError.Last();
        int family = ((sockaddr*)sa)->sa_family;
        return family == AF_INET6 ? AddressFamily.InterNetworkV6 : family == AF_INET ? AddressFamily.InterNetwork : AddressFamily.Unknown;
    }
}
