using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Syscalls;
using Syscalls.Windows;
using static Syscalls.Windows.Ws2_32;

namespace RawEcho;

/// <summary>
/// <see cref="EpollEcho"/>'s twin for Windows: the same server on Winsock with WSAPoll's span overload over one
/// array of WSAPOLLFD (the wake-up socket, the listener, the clients). The sockets stay blocking and are called only
/// when WSAPoll reports them readable, so accept and recv return at once; send can wait while a client does not read
/// (Winsock's non-blocking switch, <c>ioctlsocket(s, FIONBIO, &amp;on)</c>, takes the command as C's <c>long</c> and
/// FIONBIO is C's <c>u_long</c>: in C# that is a cast, which this program does without).
/// </summary>
[SupportedOSPlatform("windows")]
public static unsafe class WinsockEcho
{
    /// <summary>listen(2)'s backlog: winsock2.h's SOMAXCONN is not in the bindings' winsock family list.</summary>
    private const int Backlog = 512;

    /// <summary>The program: listens on 127.0.0.1:<paramref name="port"/>, says where, and serves until SIGINT or
    /// SIGTERM, which end the loop through its wake-up (the server closes what it opened), not the
    /// process.</summary>
    public static int Run(ushort port)
    {
        if (!Startup(out var error))
        {
            Console.Error.WriteLine($"WSAStartup: {error}");
            return 1;
        }
        nuint listener = Listen(port, out error);
        if (listener == INVALID_SOCKET)
        {
            Console.Error.WriteLine($"listen on 127.0.0.1:{port}: {error}");
            return 1;
        }
        nuint wake = CreateWake();
        Action<PosixSignalContext> stop = context =>
        {
            context.Cancel = true;
            Wake(wake);
        };
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, stop);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, stop);
        Console.WriteLine($"WSAPoll echo on 127.0.0.1:{LocalPort(listener)}");
        return Serve(listener, wake);
    }

    /// <summary>WSAStartup for Winsock 2.2; it returns its error instead of setting WSAGetLastError.</summary>
    public static bool Startup(out Errno error)
    {
        WSADATA wsa;
        int rc = WSAStartup(0x0202, &wsa);   // MAKEWORD(2, 2)
        error = new Errno(rc);
        return rc == 0;
    }

    /// <summary>A listening socket on 127.0.0.1:<paramref name="port"/> (0: the system picks), or INVALID_SOCKET and
    /// the error.</summary>
    public static nuint Listen(ushort port, out Errno error)
    {
        nuint s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
        if (Errno.Failed(s, out error))
            return INVALID_SOCKET;
        // Windows' SO_REUSEADDR would let another socket take the port while we listen; this keeps it ours.
        setsockopt(s, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, 1);
        var addr = Loopback(port);
        if (Errno.Failed(bind(s, in addr), out error) || Errno.Failed(listen(s, Backlog), out error))
        {
            closesocket(s);
            return INVALID_SOCKET;
        }
        return s;
    }

    /// <summary>The port a socket is bound to.</summary>
    public static ushort LocalPort(nuint s)
    {
        var addr = new sockaddr_in();
        getsockname(s, ref addr);
        return ntohs(addr.sin_port);
    }

    /// <summary>What <see cref="Serve"/> watches to know when to stop: a UDP socket on 127.0.0.1 (Windows has no
    /// pipe or eventfd that WSAPoll takes); INVALID_SOCKET on error.</summary>
    public static nuint CreateWake()
    {
        nuint s = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
        if (s == INVALID_SOCKET)
            return INVALID_SOCKET;
        var addr = Loopback(0);
        if (Errno.Failed(bind(s, in addr), out _))
        {
            closesocket(s);
            return INVALID_SOCKET;
        }
        return s;
    }

    /// <summary>127.0.0.1:<paramref name="port"/>, for bind.</summary>
    private static sockaddr_in Loopback(ushort port)
    {
        var addr = new sockaddr_in { sin_family = AF_INET, sin_port = htons(port) };
        fixed (byte* text = "127.0.0.1"u8)
            inet_pton(AF_INET, text, &addr.sin_addr);
        return addr;
    }

    /// <summary>Makes <see cref="Serve"/> return (from any thread): a datagram from the wake-up socket to
    /// itself.</summary>
    public static void Wake(nuint wake)
    {
        var self = new sockaddr_in();
        getsockname(wake, ref self);
        sendto(wake, "w"u8, 0, in self);
    }

    /// <summary>Echoes every connection of <paramref name="listener"/> until <paramref name="wake"/> is signalled,
    /// then closes everything, the listener and the wake-up included. 0 when woken, 1 after an error
    /// (printed).</summary>
    public static int Serve(nuint listener, nuint wake)
    {
        var set = new List<WSAPOLLFD>
        {
            new() { fd = wake, events = POLLRDNORM },
            new() { fd = listener, events = POLLRDNORM },
        };
        Span<byte> buf = stackalloc byte[4096];
        var peer = new sockaddr_in();
        int status = -1;
        while (status < 0)
        {
            int n = WSAPoll(CollectionsMarshal.AsSpan(set), -1);
            if (Errno.Failed(n, out var err))
            {
                Console.Error.WriteLine($"WSAPoll: {err}");
                status = 1;
                break;
            }
            // Clients from the last, so that removing one leaves the entries still to visit where they were.
            for (int i = set.Count - 1; i >= 2; i--)
            {
                if ((set[i].revents & (POLLRDNORM | POLLHUP | POLLERR)) == 0)
                    continue;
                nuint s = set[i].fd;
                int got = recv(s, buf, 0);
                // 0: the peer's FIN; SOCKET_ERROR: WSAECONNRESET and the like, or a failed send.
                if (got <= 0 || Errno.Failed(send(s, buf[..got], 0), out _))
                {
                    closesocket(s);
                    set.RemoveAt(i);
                }
            }
            if ((set[1].revents & POLLRDNORM) != 0)
            {
                nuint client = accept(listener, ref peer);
                if (Errno.Failed(client, out err))
                    Console.Error.WriteLine($"accept: {err}");
                else
                    set.Add(new WSAPOLLFD { fd = client, events = POLLRDNORM });
            }
            if (set[0].revents != 0)
                status = 0;
        }
        for (int i = 2; i < set.Count; i++)
            closesocket(set[i].fd);
        closesocket(listener);
        closesocket(wake);
        return status;
    }
}
