using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Syscalls;
using Syscalls.Linux;
using static Syscalls.Linux.LibC;

namespace RawEcho;

/// <summary>
/// The seed's level-triggered epoll echo server on <c>Syscalls.Bindings</c> alone, as C writes it: C's constants as
/// they are (<c>SOCK_STREAM | SOCK_NONBLOCK</c>), the span, <c>in</c> and <c>ref</c> overloads where C passes a
/// buffer and its length or one struct and its size, and every error captured with <see cref="Errno"/> the moment
/// a call fails. What a client's socket does not take is kept, and that client is not read until it is sent.
/// </summary>
[SupportedOSPlatform("linux")]
public static unsafe class EpollEcho
{
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
        int wake = CreateWake();
        Action<PosixSignalContext> stop = context =>
        {
            context.Cancel = true;
            Wake(wake);
        };
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, stop);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, stop);
        Console.WriteLine($"epoll echo on 127.0.0.1:{LocalPort(listener)}");
        return Serve(listener, wake);
    }

    /// <summary>A non-blocking listening socket on 127.0.0.1:<paramref name="port"/> (0: the kernel picks), or -1
    /// and the error.</summary>
    public static int Listen(ushort port, out Errno error)
    {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (Errno.Failed(fd, out error))
            return -1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
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

    /// <summary>What <see cref="Serve"/> watches to know when to stop: an eventfd.</summary>
    public static int CreateWake() => eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

    /// <summary>Makes <see cref="Serve"/> return (from any thread).</summary>
    public static void Wake(int wake)
    {
        ulong one = 1;
        write(wake, &one, sizeof(ulong));
    }

    /// <summary>Echoes every connection of <paramref name="listener"/> until <paramref name="wake"/> is signalled,
    /// then closes everything, the listener and the wake-up included. 0 when woken, 1 after an error
    /// (printed).</summary>
    public static int Serve(int listener, int wake)
    {
        int ep = epoll_create1(EPOLL_CLOEXEC);
        if (Errno.Failed(ep, out var err))
        {
            Console.Error.WriteLine($"epoll_create1: {err}");
            return 1;
        }
        var ev = new epoll_event { events = EPOLLIN };
        ev.data.fd = listener;
        epoll_ctl(ep, EPOLL_CTL_ADD, listener, in ev);
        ev.data.fd = wake;
        epoll_ctl(ep, EPOLL_CTL_ADD, wake, in ev);

        var clients = new HashSet<int>();
        var unsent = new Dictionary<int, byte[]>();   // per client: the bytes its socket did not take yet
        Span<epoll_event> events = stackalloc epoll_event[64];
        Span<byte> buf = stackalloc byte[4096];
        var peer = new sockaddr_in();
        int status = -1;
        while (status < 0)
        {
            int n = epoll_wait(ep, events, -1);
            if (Errno.Failed(n, out err))
            {
                if (err.Number == EINTR)
                    continue;
                Console.Error.WriteLine($"epoll_wait: {err}");
                status = 1;
                break;
            }
            for (int i = 0; i < n; i++)
            {
                int fd = events[i].data.fd;
                if (fd == wake)
                {
                    status = 0;
                }
                else if (fd == listener)
                {
                    // Level-triggered: take what is queued now; anything left wakes the next epoll_wait again.
                    while (true)
                    {
                        int client = accept4(listener, ref peer, SOCK_NONBLOCK | SOCK_CLOEXEC);
                        if (Errno.Failed(client, out err))
                        {
                            // EMFILE and the like: the listener stays readable, so this repeats until a descriptor
                            // is free (a real server keeps a spare one to accept and close the excess).
                            if (err.Number != EAGAIN)
                                Console.Error.WriteLine($"accept4: {err}");
                            break;
                        }
                        ev.events = EPOLLIN;
                        ev.data.fd = client;
                        epoll_ctl(ep, EPOLL_CTL_ADD, client, in ev);
                        clients.Add(client);
                    }
                }
                else if ((events[i].events & EPOLLOUT) != 0)
                {
                    Flush(ep, fd, clients, unsent);
                }
                else
                {
                    nint got = recv(fd, buf, 0);
                    if (Errno.Failed(got, out err) && err.Number == EAGAIN)
                        continue;
                    if (got <= 0)   // 0: the peer's FIN; -1: ECONNRESET and the like
                    {
                        Drop(fd, clients, unsent);
                        continue;
                    }
                    // ssize_t to a span length: C converts silently, C# on request; checked, as it never exceeds 4096.
                    Send(ep, fd, buf[..int.CreateChecked(got)], clients, unsent);
                }
            }
        }
        foreach (int fd in clients)
            close(fd);
        close(ep);
        close(listener);
        close(wake);
        return status;
    }

    /// <summary>Sends what it can; the rest waits for EPOLLOUT, and the client is not read meanwhile.</summary>
    private static void Send(int ep, int fd, ReadOnlySpan<byte> data, HashSet<int> clients,
        Dictionary<int, byte[]> unsent)
    {
        nint sent = send(fd, data, MSG_NOSIGNAL);
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
        var ev = new epoll_event { events = EPOLLOUT };
        ev.data.fd = fd;
        epoll_ctl(ep, EPOLL_CTL_MOD, fd, in ev);
    }

    /// <summary>The socket takes more: send the rest, and read again once it is all gone.</summary>
    private static void Flush(int ep, int fd, HashSet<int> clients, Dictionary<int, byte[]> unsent)
    {
        byte[] rest = unsent[fd];
        nint sent = send(fd, rest, MSG_NOSIGNAL);
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
        var ev = new epoll_event { events = EPOLLIN };
        ev.data.fd = fd;
        epoll_ctl(ep, EPOLL_CTL_MOD, fd, in ev);
    }

    /// <summary>Closing a descriptor also takes it out of the epoll set.</summary>
    private static void Drop(int fd, HashSet<int> clients, Dictionary<int, byte[]> unsent)
    {
        close(fd);
        clients.Remove(fd);
        unsent.Remove(fd);
    }
}
