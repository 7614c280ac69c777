using System;
using System.Net.Sockets;
using Syscalls.Runtime.Backends.Common;

namespace Syscalls.Runtime.Sockets;

/// <summary>Socket helpers that make the pitfalls defaults on Linux, macOS and Windows: not inheritable and non-blocking
/// on creation, SO_REUSEADDR on listeners (SO_EXCLUSIVEADDRUSE on Windows), no SIGPIPE on a send to a closed peer
/// (MSG_NOSIGNAL, SO_NOSIGPIPE), EINTR retried, errors as results, descriptors in <see cref="SocketHandle"/>s.</summary>
public static class SocketOps
{
    /// <summary>A TCP socket (close-on-exec; non-blocking unless <paramref name="blocking"/>).</summary>
    public static Result<SocketHandle> CreateTcp(AddressFamily family = AddressFamily.InterNetwork, bool blocking = false)
        => Wrap(SocketCalls.Socket(family, SocketType.Stream, blocking));

    /// <summary>A UDP socket (close-on-exec; non-blocking unless <paramref name="blocking"/>).</summary>
    public static Result<SocketHandle> CreateUdp(AddressFamily family = AddressFamily.InterNetwork, bool blocking = false)
        => Wrap(SocketCalls.Socket(family, SocketType.Dgram, blocking));

    /// <summary>A listening TCP socket: SO_REUSEADDR (Windows: SO_EXCLUSIVEADDRUSE), bound, listening.</summary>
    public static Result<SocketHandle> Listen(NetEndpoint endpoint, int backlog = 65535, bool blocking = false)
        => Wrap(SocketCalls.Listen(endpoint, backlog, blocking));

    /// <summary><see cref="Listen"/>, or an <see cref="OsException"/> whose message names the address ("Address
    /// already in use: 127.0.0.1:9000"): what a server's constructor throws.</summary>
    internal static SocketHandle ListenOrThrow(NetEndpoint endpoint, int backlog, bool blocking = false)
    {
        Result<SocketHandle> listening = Listen(endpoint, backlog, blocking);
        return listening.TryGetValue(out SocketHandle? s) ? s : throw new OsException(listening.Error, endpoint.ToString());
    }

    /// <summary>A bound UDP socket.</summary>
    public static Result<SocketHandle> BindUdp(NetEndpoint endpoint, bool blocking = false)
    {
        Result<SocketHandle> created = CreateUdp(endpoint.Family, blocking);
        if (!created.TryGetValue(out SocketHandle? s))
            return created;
        Result r = SocketCalls.Bind(s.Descriptor, endpoint);
        if (r.IsSuccess)
            return s;
        s.Dispose();
        return r.Error;
    }

    /// <summary>Accepts one connection (close-on-exec; non-blocking unless <paramref name="blocking"/>).
    /// <see cref="ErrorKind.WouldBlock"/> when none is queued; <see cref="ErrorKind.TooManyOpenFiles"/> (EMFILE) leaves
    /// the connection queued: stop polling the listener for a while instead of retrying at once.</summary>
    public static Result<SocketHandle> Accept(SocketHandle listener, bool blocking = false)
    {
        bool added = false;
        listener.DangerousAddRef(ref added);
        try
        {
            return Wrap(SocketCalls.Accept(listener.Descriptor, blocking));
        }
        finally
        {
            if (added)
                listener.DangerousRelease();
        }
    }

    /// <summary>Starts or completes a connect. Non-blocking sockets give <see cref="ErrorKind.InProgress"/>: wait for
    /// writability, then read the outcome with <see cref="GetPendingError"/>.</summary>
    public static Result Connect(SocketHandle socket, NetEndpoint endpoint)
        => Call(socket, endpoint, static (fd, ep) => SocketCalls.Connect(fd, ep));

    /// <summary>Sends what the socket takes now; returns the count (MSG_NOSIGNAL: a closed peer is
    /// <see cref="ErrorKind.BrokenPipe"/> or <see cref="ErrorKind.ConnectionReset"/>, never SIGPIPE).</summary>
    public static Result<int> Send(SocketHandle socket, ReadOnlySpan<byte> data)
    {
        bool added = false;
        socket.DangerousAddRef(ref added);
        try
        {
            return SocketCalls.Send(socket.Descriptor, data);
        }
        finally
        {
            if (added)
                socket.DangerousRelease();
        }
    }

    /// <summary>Receives into <paramref name="buffer"/>; 0 means end of stream.</summary>
    public static Result<int> Receive(SocketHandle socket, Span<byte> buffer)
    {
        bool added = false;
        socket.DangerousAddRef(ref added);
        try
        {
            return SocketCalls.Recv(socket.Descriptor, buffer);
        }
        finally
        {
            if (added)
                socket.DangerousRelease();
        }
    }

    /// <summary>Sends one datagram.</summary>
    public static Result<int> SendTo(SocketHandle socket, ReadOnlySpan<byte> data, NetEndpoint to)
    {
        bool added = false;
        socket.DangerousAddRef(ref added);
        try
        {
            return SocketCalls.SendTo(socket.Descriptor, data, to);
        }
        finally
        {
            if (added)
                socket.DangerousRelease();
        }
    }

    /// <summary>Receives one datagram; a datagram longer than <paramref name="buffer"/> is cut to it. With
    /// <paramref name="truncatedLength"/> true a cut datagram is reported: on Linux the result is its real length
    /// (MSG_TRUNC); Windows and macOS cannot tell that length and report <see cref="ErrorKind.MessageTooLong"/>.</summary>
    public static Result<int> ReceiveFrom(SocketHandle socket, Span<byte> buffer, out NetEndpoint from, bool truncatedLength = false)
    {
        bool added = false;
        socket.DangerousAddRef(ref added);
        try
        {
            return SocketCalls.RecvFrom(socket.Descriptor, buffer, out from, truncatedLength);
        }
        finally
        {
            if (added)
                socket.DangerousRelease();
        }
    }

    /// <summary>TCP_NODELAY: send small writes at once instead of waiting for Nagle plus delayed ACK.</summary>
    public static Result SetNoDelay(SocketHandle socket, bool enabled = true)
        => Call(socket, enabled, static (fd, on) => SocketCalls.SetNoDelay(fd, on));

    /// <summary>SO_REUSEADDR (on Windows it lets other sockets bind the same port; <see cref="Listen"/> does not use it there).</summary>
    public static Result SetReuseAddress(SocketHandle socket, bool enabled = true)
        => Call(socket, enabled, static (fd, on) => SocketCalls.SetReuseAddress(fd, on));

    /// <summary>SO_SNDBUF (the kernel doubles it).</summary>
    public static Result SetSendBufferSize(SocketHandle socket, int bytes) => Call(socket, bytes, static (fd, n) => SocketCalls.SetSendBufferSize(fd, n));

    /// <summary>SO_RCVBUF (the kernel doubles it).</summary>
    public static Result SetReceiveBufferSize(SocketHandle socket, int bytes) => Call(socket, bytes, static (fd, n) => SocketCalls.SetReceiveBufferSize(fd, n));

    /// <summary>O_NONBLOCK on or off.</summary>
    public static Result SetNonBlocking(SocketHandle socket, bool nonBlocking)
        => Call(socket, nonBlocking, static (fd, on) => SocketCalls.SetNonBlocking(fd, on));

    /// <summary>True when O_NONBLOCK is set (<see cref="ErrorKind.NotSupported"/> on Windows, which cannot read it back).</summary>
    public static Result<bool> IsNonBlocking(SocketHandle socket) => Query(socket, static fd => SocketCalls.IsNonBlocking(fd));

    /// <summary>True when child processes do not inherit the socket: FD_CLOEXEC on Unix, HANDLE_FLAG_INHERIT clear on Windows.</summary>
    public static Result<bool> IsCloseOnExec(SocketHandle socket) => Query(socket, static fd => SocketCalls.IsCloseOnExec(fd));

    /// <summary>Closes with a reset rather than a FIN once disposed (SO_LINGER {1, 0}).</summary>
    public static Result SetAbortiveClose(SocketHandle socket) => Call(socket, 0, static (fd, _) => SocketCalls.SetLingerZero(fd));

    /// <summary>shutdown(2): the peer reads end of stream once sent data drains; this side can still receive.</summary>
    public static Result ShutdownWrite(SocketHandle socket) => Call(socket, 0, static (fd, _) => SocketCalls.ShutdownWrite(fd));

    /// <summary>shutdown(2) of both directions; wakes a thread blocked on the socket.</summary>
    public static Result ShutdownBoth(SocketHandle socket) => Call(socket, 0, static (fd, _) => SocketCalls.ShutdownBoth(fd));

    /// <summary>SO_ERROR: the outcome of a non-blocking connect, or an asynchronous error; clears it.</summary>
    public static OsError GetPendingError(SocketHandle socket)
    {
        bool added = false;
        socket.DangerousAddRef(ref added);
        try
        {
            return SocketCalls.GetPendingError(socket.Descriptor);
        }
        finally
        {
            if (added)
                socket.DangerousRelease();
        }
    }

    /// <summary>The bound address.</summary>
    public static Result<NetEndpoint> GetLocalEndpoint(SocketHandle socket) => Query(socket, static fd => SocketCalls.GetLocalEndpoint(fd));

    /// <summary>The peer's address.</summary>
    public static Result<NetEndpoint> GetRemoteEndpoint(SocketHandle socket) => Query(socket, static fd => SocketCalls.GetRemoteEndpoint(fd));

    private static Result Call<TArg>(SocketHandle socket, TArg arg, Func<int, TArg, Result> call)
    {
        bool added = false;
        socket.DangerousAddRef(ref added);
        try
        {
            return call(socket.Descriptor, arg);
        }
        finally
        {
            if (added)
                socket.DangerousRelease();
        }
    }

    private static Result<T> Query<T>(SocketHandle socket, Func<int, Result<T>> call)
    {
        bool added = false;
        socket.DangerousAddRef(ref added);
        try
        {
            return call(socket.Descriptor);
        }
        finally
        {
            if (added)
                socket.DangerousRelease();
        }
    }

    private static Result<SocketHandle> Wrap(Result<int> fd)
        => fd.TryGetValue(out int d) ? new SocketHandle(d) : fd.Error;
}
