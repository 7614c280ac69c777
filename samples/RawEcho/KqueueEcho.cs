using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Syscalls;
using Syscalls.Darwin;
using static Syscalls.Darwin.LibC;

namespace RawEcho;

/// <summary>
/// <see cref="EpollEcho"/>'s twin for macOS: the same server on kqueue(2), with kevent's span overload for the change
/// and event lists. A knote per filter: EVFILT_READ while a client is read, EVFILT_WRITE (read disabled) while the
/// bytes its socket did not take wait; an EVFILT_USER knote is the wake-up. Compiled for every RID; it runs only on
/// macOS, which the project's machines do not have.
/// </summary>
[SupportedOSPlatform("macos")]
public static unsafe class KqueueEcho
{
    /// <summary>ident of the EVFILT_USER wake-up knote (user idents are apart from descriptors).</summary>
    private const nuint WakeIdent = 1;

    /// <summary>The program: listens on 127.0.0.1:<paramref name="port"/>, says where, and serves until SIGINT or
    /// SIGTERM, which end the loop through its wake-up (the server closes what it opened), not the
    /// process.</summary>
    public static int Run(ushort port)
    {
        int listener = Listen(port, out var error);
        if (listener < 0)
        {
            Console.Error.WriteLine($"listen on 127.0.0.1:{port}: {error}");
            return 1;
        }
        int kq = CreateWake();
        Action<PosixSignalContext> stop = context =>
        {
            context.Cancel = true;
            Wake(kq);
        };
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, stop);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, stop);
        Console.WriteLine($"kqueue echo on 127.0.0.1:{LocalPort(listener)}");
        return Serve(listener, kq);
    }

    /// <summary>A non-blocking listening socket on 127.0.0.1:<paramref name="port"/> (0: the kernel picks), or -1
    /// and the error.</summary>
    public static int Listen(ushort port, out Errno error)
    {
        int fd = socket(AF_INET, SOCK_STREAM, 0);   // macOS has no SOCK_NONBLOCK / SOCK_CLOEXEC: fcntl below
        if (Errno.Failed(fd, out error))
            return -1;
        NonBlocking(fd);
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
        // sin_len may stay 0: bind(2) sets the kernel's copy from its length argument.
        var addr = new sockaddr_in { sin_family = AF_INET, sin_port = htons(port) };
        fixed (byte* text = "127.0.0.1"u8)
            inet_pton(AF_INET, text, &addr.sin_addr);
        if (Errno.Failed(bind(fd, in addr), out error) || Errno.Failed(listen(fd, SOMAXCONN), out error))
        {
            close(fd);
            return -1;
        }
        return fd;
    }

    /// <summary>The port a socket is bound to.</summary>
    public static ushort LocalPort(int fd)
    {
        var addr = new sockaddr_in();
        getsockname(fd, ref addr);
        return ntohs(addr.sin_port);
    }

    /// <summary>The kqueue <see cref="Serve"/> waits on, with its EVFILT_USER wake-up knote registered; -1 on
    /// error.</summary>
    public static int CreateWake()
    {
        int kq = kqueue();
        if (kq < 0)
            return -1;
        fcntl(kq, F_SETFD, FD_CLOEXEC);
        var ev = new kevent { ident = WakeIdent, filter = EVFILT_USER, flags = EV_ADD | EV_CLEAR };
        LibC.kevent(kq, new ReadOnlySpan<kevent>(in ev), default, null);
        return kq;
    }

    /// <summary>Makes <see cref="Serve"/> return (from any thread).</summary>
    public static void Wake(int kq)
    {
        var ev = new kevent { ident = WakeIdent, filter = EVFILT_USER, fflags = NOTE_TRIGGER };
        LibC.kevent(kq, new ReadOnlySpan<kevent>(in ev), default, null);
    }

    /// <summary>Echoes every connection of <paramref name="listener"/> on the kqueue <paramref name="kq"/> (from
    /// <see cref="CreateWake"/>) until <see cref="Wake"/>, then closes everything, the listener and the queue
    /// included. 0 when woken, 1 after an error (printed).</summary>
    public static int Serve(int listener, int kq)
    {
        Change(kq, listener, EVFILT_READ, EV_ADD);
        var clients = new HashSet<int>();
        var unsent = new Dictionary<int, byte[]>();   // per client: the bytes its socket did not take yet
        Span<kevent> events = stackalloc kevent[64];
        Span<byte> buf = stackalloc byte[4096];
        var peer = new sockaddr_in();
        int status = -1;
        while (status < 0)
        {
            int n = LibC.kevent(kq, default, events, null);
            if (Errno.Failed(n, out var err))
            {
                if (err.Number == EINTR)
                    continue;
                Console.Error.WriteLine($"kevent: {err}");
                status = 1;
                break;
            }
            for (int i = 0; i < n; i++)
            {
                if (events[i].filter == EVFILT_USER)
                {
                    status = 0;
                    continue;
                }
                // ident is C's uintptr_t, which takes a descriptor implicitly in C; here a checked conversion.
                int fd = int.CreateChecked(events[i].ident);
                if (fd == listener)
                {
                    while (true)
                    {
                        int client = accept(listener, ref peer);
                        if (Errno.Failed(client, out err))
                        {
                            if (err.Number != EAGAIN)
                                Console.Error.WriteLine($"accept: {err}");
                            break;
                        }
                        NonBlocking(client);
                        setsockopt(client, SOL_SOCKET, SO_NOSIGPIPE, 1);   // macOS' MSG_NOSIGNAL, per socket
                        Change(kq, client, EVFILT_READ, EV_ADD);
                        clients.Add(client);
                    }
                }
                else if (events[i].filter == EVFILT_WRITE)
                {
                    Flush(kq, fd, clients, unsent);
                }
                else
                {
                    nint got = recv(fd, buf, 0);
                    if (Errno.Failed(got, out err) && err.Number == EAGAIN)
                        continue;
                    if (got <= 0)   // 0: the peer's FIN (EV_EOF); -1: ECONNRESET and the like
                    {
                        Drop(fd, clients, unsent);
                        continue;
                    }
                    Send(kq, fd, buf[..int.CreateChecked(got)], clients, unsent);
                }
            }
        }
        foreach (int fd in clients)
            close(fd);
        close(listener);
        close(kq);
        return status;
    }

    private static void Send(int kq, int fd, ReadOnlySpan<byte> data, HashSet<int> clients,
        Dictionary<int, byte[]> unsent)
    {
        nint sent = send(fd, data, 0);
        if (Errno.Failed(sent, out var err))
        {
            if (err.Number != EAGAIN)
            {
                Drop(fd, clients, unsent);
                return;
            }
            sent = 0;
        }
        if (sent == data.Length)
            return;
        unsent[fd] = data[int.CreateChecked(sent)..].ToArray();
        Change(kq, fd, EVFILT_READ, EV_DISABLE);
        Change(kq, fd, EVFILT_WRITE, EV_ADD);
    }

    private static void Flush(int kq, int fd, HashSet<int> clients, Dictionary<int, byte[]> unsent)
    {
        byte[] rest = unsent[fd];
        nint sent = send(fd, rest, 0);
        if (Errno.Failed(sent, out var err))
        {
            if (err.Number != EAGAIN)
                Drop(fd, clients, unsent);
            return;
        }
        if (sent < rest.Length)
        {
            unsent[fd] = rest[int.CreateChecked(sent)..];
            return;
        }
        unsent.Remove(fd);
        Change(kq, fd, EVFILT_WRITE, EV_DELETE);
        Change(kq, fd, EVFILT_READ, EV_ENABLE);
    }

    /// <summary>Closing a descriptor also removes its knotes.</summary>
    private static void Drop(int fd, HashSet<int> clients, Dictionary<int, byte[]> unsent)
    {
        close(fd);
        clients.Remove(fd);
        unsent.Remove(fd);
    }

    /// <summary>EV_SET(&amp;ev, fd, filter, flags, 0, 0, NULL); kevent(kq, &amp;ev, 1, NULL, 0, NULL).</summary>
    private static void Change(int kq, int fd, short filter, ushort flags)
    {
        var ev = new kevent { ident = nuint.CreateChecked(fd), filter = filter, flags = flags };
        LibC.kevent(kq, new ReadOnlySpan<kevent>(in ev), default, null);
    }

    private static void NonBlocking(int fd)
    {
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
}
