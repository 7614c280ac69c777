using System;
using System.Net.Sockets;
using Syscalls.Runtime.Backends.Kqueue;
using Syscalls.Runtime.Backends.Linux;
using Syscalls.Runtime.Backends.Windows;
using DarwinC = Syscalls.Darwin.LibC;
using LinuxC = Syscalls.Linux.LibC;
using WinC = Syscalls.Windows.Ws2_32;

namespace Syscalls.Runtime.Backends.Common;

/// <summary>The OS-neutral socket layer under <see cref="Sockets.SocketOps"/> and the servers: one method per socket
/// operation, dispatched to the one helper class per OS that makes the calls (<c>Linux/Sys</c>, <c>Windows/Winsock</c>,
/// <c>Kqueue/DarwinSockets</c>). Descriptors travel as <see cref="int"/>: a Winsock SOCKET is a kernel handle, whose
/// value fits 32 bits on 64-bit Windows (so that 32- and 64-bit processes can share it).</summary>
/// <remarks>The pitfalls are defaults on every OS: sockets are not inherited by child processes (SOCK_CLOEXEC,
/// WSA_FLAG_NO_HANDLE_INHERIT, FD_CLOEXEC), a write to a closed peer never raises SIGPIPE (MSG_NOSIGNAL, SO_NOSIGPIPE;
/// Windows has no signals), listeners can rebind a port in TIME_WAIT without another process stealing it
/// (SO_REUSEADDR on Unix, SO_EXCLUSIVEADDRUSE on Windows, where SO_REUSEADDR would allow the theft).</remarks>
internal static class SocketCalls
{
    internal static Result<int> Socket(AddressFamily family, SocketType type, bool blocking)
    {
        if (OperatingSystem.IsWindows())
            return ToInt(Winsock.Socket(family, type, blocking));
        if (OperatingSystem.IsMacOS())
            return DarwinSockets.Socket(family, type, blocking);
        if (OperatingSystem.IsLinux())
            return Sys.Socket(family, type, blocking);
        return Unsupported;
    }

    /// <summary>A bound, listening TCP socket with the address-reuse default of the OS (see the remarks).</summary>
    internal static Result<int> Listen(in NetEndpoint endpoint, int backlog, bool blocking)
    {
        Result<int> created = Socket(endpoint.Family, SocketType.Stream, blocking);
        if (!created.TryGetValue(out int fd))
            return created;
        Result r;
        if (OperatingSystem.IsWindows())
            r = Winsock.SetSockOpt(Handle(fd), (int)WinC.SOL_SOCKET, (int)WinC.SO_EXCLUSIVEADDRUSE, 1);
        else
            r = SetReuseAddress(fd, true);
        if (r.IsSuccess)
            r = Bind(fd, endpoint);
        if (r.IsSuccess)
            r = Listen(fd, backlog);
        if (r.IsSuccess)
            return fd;
        Close(fd);
        return r.Error;
    }

    internal static Result Bind(int fd, in NetEndpoint endpoint)
    {
        if (OperatingSystem.IsWindows())
            return Winsock.Bind(Handle(fd), endpoint);
        if (OperatingSystem.IsMacOS())
            return DarwinSockets.Bind(fd, endpoint);
        if (OperatingSystem.IsLinux())
            return Sys.Bind(fd, endpoint);
        return Unsupported;
    }

    internal static Result Listen(int fd, int backlog)
    {
        if (OperatingSystem.IsWindows())
            return Winsock.Listen(Handle(fd), backlog);
        if (OperatingSystem.IsMacOS())
            return DarwinSockets.Listen(fd, backlog);
        if (OperatingSystem.IsLinux())
            return Sys.Listen(fd, backlog);
        return Unsupported;
    }

    /// <summary>Accepts one connection: not inheritable, non-blocking unless <paramref name="blocking"/>.</summary>
    internal static Result<int> Accept(int listener, bool blocking)
    {
        if (OperatingSystem.IsWindows())
        {
            // The accepted socket takes the listener's mode (Winsock.Accept clears its inherit flag): FIONBIO as asked.
            Result<nuint> accepted = Winsock.Accept(Handle(listener));
            if (!accepted.TryGetValue(out nuint s))
                return accepted.Error;
            Result nb = Winsock.SetNonBlocking(s, !blocking);
            if (nb.IsSuccess)
                return (int)(uint)s;
            Winsock.Close(s);
            return nb.Error;
        }

        if (OperatingSystem.IsMacOS())
            return DarwinSockets.Accept(listener, blocking);
        if (OperatingSystem.IsLinux())
            return Sys.Accept(listener, blocking);
        return Unsupported;
    }

    internal static Result Connect(int fd, in NetEndpoint endpoint)
    {
        if (OperatingSystem.IsWindows())
            return Winsock.Connect(Handle(fd), endpoint);
        if (OperatingSystem.IsMacOS())
            return DarwinSockets.Connect(fd, endpoint);
        if (OperatingSystem.IsLinux())
            return Sys.Connect(fd, endpoint);
        return Unsupported;
    }

    /// <summary>Sends what the socket takes now; a closed peer is an error, never a signal.</summary>
    internal static Result<int> Send(int fd, ReadOnlySpan<byte> data)
    {
        if (OperatingSystem.IsWindows())
            return Winsock.Send(Handle(fd), data);
        if (OperatingSystem.IsMacOS())
            return DarwinSockets.Send(fd, data);
        if (OperatingSystem.IsLinux())
            return Sys.Send(fd, data);
        return Unsupported;
    }

    /// <summary>Receives into <paramref name="buffer"/>; 0 means end of stream.</summary>
    internal static Result<int> Recv(int fd, Span<byte> buffer)
    {
        if (OperatingSystem.IsWindows())
            return Winsock.Recv(Handle(fd), buffer);
        if (OperatingSystem.IsMacOS())
            return DarwinSockets.Recv(fd, buffer);
        if (OperatingSystem.IsLinux())
            return Sys.Recv(fd, buffer);
        return Unsupported;
    }

    /// <summary>Whether something can be received, taking nothing (MSG_PEEK of one byte on a non-blocking socket): 1 data,
    /// 0 the end of the stream, <see cref="ErrorKind.WouldBlock"/> nothing yet.</summary>
    internal static Result<int> Peek(int fd)
    {
        Span<byte> one = stackalloc byte[1];
        if (OperatingSystem.IsWindows())
            return Winsock.Recv(Handle(fd), one, (int)WinC.MSG_PEEK);
        if (OperatingSystem.IsMacOS())
            return DarwinSockets.Recv(fd, one, (int)DarwinC.MSG_PEEK);
        if (OperatingSystem.IsLinux())
            return Sys.Recv(fd, one, (int)LinuxC.MSG_PEEK);
        return Unsupported;
    }

    /// <summary>Sends one datagram to <paramref name="to"/>.</summary>
    internal static Result<int> SendTo(int fd, ReadOnlySpan<byte> data, in NetEndpoint to)
    {
        if (OperatingSystem.IsWindows())
            return Winsock.SendTo(Handle(fd), data, to);
        if (OperatingSystem.IsMacOS())
            return DarwinSockets.SendTo(fd, data, to);
        if (OperatingSystem.IsLinux())
            return Sys.SendTo(fd, data, to);
        return Unsupported;
    }

    /// <summary>Receives one datagram. A datagram longer than <paramref name="buffer"/> is cut to it; with
    /// <paramref name="truncatedLength"/> the result is then its real length on Linux (MSG_TRUNC), while Windows and
    /// macOS, which cannot tell that length, report <see cref="ErrorKind.MessageTooLong"/> (the buffer holds its
    /// start).</summary>
    internal static Result<int> RecvFrom(int fd, Span<byte> buffer, out NetEndpoint from, bool truncatedLength)
    {
        bool truncated;
        Result<int> r;
        if (OperatingSystem.IsWindows())
            r = Winsock.RecvFrom(Handle(fd), buffer, out from, out truncated);
        else if (OperatingSystem.IsMacOS())
            r = DarwinSockets.RecvFrom(fd, buffer, out from, out truncated);
        else if (OperatingSystem.IsLinux())
            return Sys.RecvFrom(fd, buffer, out from, truncatedLength ? (int)LinuxC.MSG_TRUNC : 0);
        else
        {
            from = default;
            return Unsupported;
        }

        return truncated && truncatedLength ? OsError.FromKind(ErrorKind.MessageTooLong) : r;
    }

    /// <summary>Receives one datagram, reporting a cut one as <paramref name="truncated"/> rather than as an error: the
    /// result is the datagram's length, more than <paramref name="buffer"/> holds when it was cut and the OS tells the
    /// real length (Linux, MSG_TRUNC), the buffer's length when the OS cannot tell (Windows, macOS).</summary>
    internal static Result<int> ReceiveDatagram(int fd, Span<byte> buffer, out NetEndpoint from, out bool truncated)
    {
        if (OperatingSystem.IsWindows())
            return Winsock.RecvFrom(Handle(fd), buffer, out from, out truncated);
        if (OperatingSystem.IsMacOS())
            return DarwinSockets.RecvFrom(fd, buffer, out from, out truncated);
        if (OperatingSystem.IsLinux())
        {
            Result<int> r = Sys.RecvFrom(fd, buffer, out from, (int)LinuxC.MSG_TRUNC);
            truncated = r.IsSuccess && r.Value > buffer.Length;
            return r;
        }

        from = default;
        truncated = false;
        return Unsupported;
    }

    /// <summary>Sends one datagram to <paramref name="to"/>, or to the connected peer when <paramref name="to"/> is
    /// <c>default</c>.</summary>
    internal static Result<int> SendDatagram(int fd, ReadOnlySpan<byte> data, in NetEndpoint to)
        => to.IsValid ? SendTo(fd, data, to) : Send(fd, data);

    internal static Result ShutdownWrite(int fd) => Shutdown(fd, write: true, read: false);

    internal static Result ShutdownRead(int fd) => Shutdown(fd, write: false, read: true);

    internal static Result ShutdownBoth(int fd) => Shutdown(fd, write: true, read: true);

    internal static Result Close(int fd)
    {
        if (OperatingSystem.IsWindows())
            return Winsock.Close(Handle(fd));
        if (OperatingSystem.IsMacOS())
            return DarwinSockets.Close(fd);
        if (OperatingSystem.IsLinux())
            return Sys.Close(fd);
        return Unsupported;
    }

    /// <summary>Wakes a thread blocked in a call on <paramref name="fd"/> (Windows: CancelIoEx; a blocking Winsock call
    /// is an overlapped one waited for inside ws2_32). Unix needs none: shutdown(2) wakes blocked calls there.</summary>
    internal static void CancelBlockingCalls(int fd)
    {
        if (OperatingSystem.IsWindows())
            Winsock.CancelIo(Handle(fd));
    }

    internal static Result SetNoDelay(int fd, bool enabled)
    {
        int on = enabled ? 1 : 0;
        if (OperatingSystem.IsWindows())
            return Winsock.SetSockOpt(Handle(fd), (int)WinC.IPPROTO_TCP, (int)WinC.TCP_NODELAY, on);
        if (OperatingSystem.IsMacOS())
            return DarwinSockets.SetSockOpt(fd, (int)DarwinC.IPPROTO_TCP, (int)DarwinC.TCP_NODELAY, on);
        if (OperatingSystem.IsLinux())
            return Sys.SetSockOpt(fd, (int)LinuxC.IPPROTO_TCP, (int)LinuxC.TCP_NODELAY, on);
        return Unsupported;
    }

    /// <summary>SO_REUSEADDR as asked (on Windows it also lets other sockets bind the port: listeners use
    /// SO_EXCLUSIVEADDRUSE instead).</summary>
    internal static Result SetReuseAddress(int fd, bool enabled)
        => SetSocketLevel(fd, Option.ReuseAddress, enabled ? 1 : 0);

    /// <summary>SO_REUSEPORT: several listeners share a port and the kernel spreads connections over them (Linux; macOS
    /// accepts it without balancing). Windows has no such option.</summary>
    internal static Result SetReusePort(int fd, bool enabled)
    {
        int on = enabled ? 1 : 0;
        if (OperatingSystem.IsMacOS())
            return DarwinSockets.SetSockOpt(fd, (int)DarwinC.SOL_SOCKET, (int)DarwinC.SO_REUSEPORT, on);
        if (OperatingSystem.IsLinux())
            return Sys.SetSockOpt(fd, (int)LinuxC.SOL_SOCKET, (int)LinuxC.SO_REUSEPORT, on);
        return Unsupported;
    }

    internal static Result SetSendBufferSize(int fd, int bytes)
        => SetSocketLevel(fd, Option.SendBuffer, bytes);

    internal static Result SetReceiveBufferSize(int fd, int bytes)
        => SetSocketLevel(fd, Option.ReceiveBuffer, bytes);

    /// <summary>SO_LINGER {1, 0}: the close then resets the connection instead of a FIN.</summary>
    internal static Result SetLingerZero(int fd)
    {
        if (OperatingSystem.IsWindows())
            return Winsock.SetLingerZero(Handle(fd));
        if (OperatingSystem.IsMacOS())
            return DarwinSockets.SetLingerZero(fd);
        if (OperatingSystem.IsLinux())
            return Sys.SetLingerZero(fd);
        return Unsupported;
    }

    internal static Result SetNonBlocking(int fd, bool nonBlocking)
    {
        if (OperatingSystem.IsWindows())
            return Winsock.SetNonBlocking(Handle(fd), nonBlocking);
        if (OperatingSystem.IsMacOS())
            return DarwinSocketOptions.SetNonBlocking(fd, nonBlocking);
        if (OperatingSystem.IsLinux())
            return Sys.SetNonBlocking(fd, nonBlocking);
        return Unsupported;
    }

    /// <summary>O_NONBLOCK. Windows cannot read FIONBIO back: <see cref="ErrorKind.NotSupported"/>.</summary>
    internal static Result<bool> IsNonBlocking(int fd)
    {
        if (OperatingSystem.IsMacOS())
            return DarwinSockets.IsNonBlocking(fd);
        if (OperatingSystem.IsLinux())
            return Sys.IsNonBlocking(fd);
        return Unsupported;
    }

    /// <summary>FD_CLOEXEC; on Windows, a clear HANDLE_FLAG_INHERIT (GetHandleInformation).</summary>
    internal static Result<bool> IsCloseOnExec(int fd)
    {
        if (OperatingSystem.IsWindows())
        {
            Result<bool> inheritable = Winsock.IsInheritable(Handle(fd));
            return inheritable.TryGetValue(out bool yes) ? !yes : inheritable.Error;
        }

        if (OperatingSystem.IsMacOS())
            return DarwinSockets.IsCloseOnExec(fd);
        if (OperatingSystem.IsLinux())
            return Sys.IsCloseOnExec(fd);
        return Unsupported;
    }

    /// <summary>SO_ERROR, classified with the OS's own table; clears it.</summary>
    internal static OsError GetPendingError(int fd)
    {
        if (OperatingSystem.IsWindows())
        {
            Result<int> w = Winsock.GetSockOpt(Handle(fd), (int)WinC.SOL_SOCKET, (int)WinC.SO_ERROR);
            return w.IsSuccess ? WinError.ToError(w.Value) : w.Error;
        }

        if (OperatingSystem.IsMacOS())
        {
            Result<int> d = DarwinSockets.GetSockOpt(fd, (int)DarwinC.SOL_SOCKET, (int)DarwinC.SO_ERROR);
            return d.IsSuccess ? DarwinErrno.ToError(d.Value) : d.Error;
        }

        if (OperatingSystem.IsLinux())
        {
            Result<int> l = Sys.GetSockOpt(fd, (int)LinuxC.SOL_SOCKET, (int)LinuxC.SO_ERROR);
            return l.IsSuccess ? LinuxErrno.ToError(l.Value) : l.Error;
        }

        return OsError.FromKind(ErrorKind.NotSupported);
    }

    internal static Result<NetEndpoint> GetLocalEndpoint(int fd)
    {
        if (OperatingSystem.IsWindows())
            return Winsock.GetSockName(Handle(fd));
        if (OperatingSystem.IsMacOS())
            return DarwinSockets.GetSockName(fd);
        if (OperatingSystem.IsLinux())
            return Sys.GetSockName(fd);
        return Unsupported;
    }

    internal static Result<NetEndpoint> GetRemoteEndpoint(int fd)
    {
        if (OperatingSystem.IsWindows())
            return Winsock.GetPeerName(Handle(fd));
        if (OperatingSystem.IsMacOS())
            return DarwinSockets.GetPeerName(fd);
        if (OperatingSystem.IsLinux())
            return Sys.GetPeerName(fd);
        return Unsupported;
    }

    /// <summary>The SOCKET a descriptor number stands for (zero-extended: handle values are 32-bit, see the summary).</summary>
    internal static nuint Handle(int fd) => (nuint)(uint)fd;

    private static OsError Unsupported => OsError.FromKind(ErrorKind.NotSupported);

    private static Result<int> ToInt(Result<nuint> s) => s.TryGetValue(out nuint v) ? (int)(uint)v : s.Error;

    private static Result Shutdown(int fd, bool write, bool read)
    {
        if (OperatingSystem.IsWindows())
            return Winsock.Shutdown(Handle(fd), read && write ? (int)WinC.SD_BOTH : write ? (int)WinC.SD_SEND : (int)WinC.SD_RECEIVE);
        if (OperatingSystem.IsMacOS())
            return DarwinSockets.Shutdown(fd, read && write ? (int)DarwinC.SHUT_RDWR : write ? (int)DarwinC.SHUT_WR : (int)DarwinC.SHUT_RD);
        if (OperatingSystem.IsLinux())
            return Sys.Shutdown(fd, (int)(read && write ? (int)LinuxC.SHUT_RDWR : write ? (int)LinuxC.SHUT_WR : (int)LinuxC.SHUT_RD));
        return Unsupported;
    }

    private static Result SetSocketLevel(int fd, Option option, int value)
    {
        if (OperatingSystem.IsWindows())
        {
            int name = option switch { Option.ReuseAddress => WinC.SO_REUSEADDR, Option.SendBuffer => WinC.SO_SNDBUF, _ => WinC.SO_RCVBUF };
            return Winsock.SetSockOpt(Handle(fd), (int)WinC.SOL_SOCKET, name, value);
        }

        if (OperatingSystem.IsMacOS())
        {
            int name = option switch { Option.ReuseAddress => DarwinC.SO_REUSEADDR, Option.SendBuffer => DarwinC.SO_SNDBUF, _ => DarwinC.SO_RCVBUF };
            return DarwinSockets.SetSockOpt(fd, (int)DarwinC.SOL_SOCKET, name, value);
        }

        if (OperatingSystem.IsLinux())
        {
            int name = option switch { Option.ReuseAddress => LinuxC.SO_REUSEADDR, Option.SendBuffer => LinuxC.SO_SNDBUF, _ => LinuxC.SO_RCVBUF };
            return Sys.SetSockOpt(fd, (int)LinuxC.SOL_SOCKET, name, value);
        }

        return Unsupported;
    }

    private enum Option
    {
        ReuseAddress,
        SendBuffer,
        ReceiveBuffer,
    }
}
