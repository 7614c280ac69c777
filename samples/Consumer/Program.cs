using System;
using System.Runtime.InteropServices;
using System.Text;
using Syscalls;
using Syscalls.Linux;
using static Syscalls.Linux.LibC;

// A Linux program: the project declares it (Consumer.csproj, SupportedOSPlatform), so CA1416 checks every call
// against Linux instead of warning on each one, and would still flag a Windows-only API used here.
Console.WriteLine($"Syscalls.Bindings: {typeof(LibC).Assembly.Location}");   // runtimes/<rid>/lib/net10.0 of the package
Console.WriteLine($"RID {RuntimeInformation.RuntimeIdentifier}");
return Sample.Run();

internal static unsafe class Sample
{
    public static int Run()
    {
        Console.WriteLine($"getpid() = {getpid()} (Environment.ProcessId = {Environment.ProcessId})");

        int fd = Check(socket(AF_INET, SOCK_STREAM, 0), "socket");
        var addr = new sockaddr_in { sin_family = AF_INET, sin_port = htons(0) };
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        Check(bind(fd, in addr), "bind");
        Check(listen(fd, 16), "listen");
        var bound = new sockaddr_in();
        Check(getsockname(fd, ref bound), "getsockname");
        byte* text = stackalloc byte[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &bound.sin_addr, text, INET_ADDRSTRLEN);
        string address = Encoding.UTF8.GetString(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(text));
        Console.WriteLine($"listening socket {fd} on {address}:{ntohs(bound.sin_port)}");

        // A second bind to the same address fails: the error is captured before anything else runs (the console
        // write below makes P/Invokes of its own that would overwrite Marshal.GetLastPInvokeError()).
        int other = Check(socket(AF_INET, SOCK_STREAM, 0), "socket");
        if (Errno.Failed(bind(other, in bound), out var inUse))
        {
            Console.WriteLine($"second bind: {inUse}");
        }
        Check(close(other), "close");

        int ep = Check(epoll_create1(EPOLL_CLOEXEC), "epoll_create1");
        var ev = new epoll_event { events = EPOLLIN };
        ev.data.u64 = 0x1122334455667788UL;
        Check(epoll_ctl(ep, EPOLL_CTL_ADD, fd, in ev), "epoll_ctl");
        Span<epoll_event> events = stackalloc epoll_event[8];
        int ready = Check(epoll_wait(ep, events, 0), "epoll_wait");
        Console.WriteLine($"epoll_wait(timeout 0): {ready} ready");
        Console.WriteLine($"sizeof(epoll_event) = {sizeof(epoll_event)}, offsetof(data) = {Marshal.OffsetOf<epoll_event>(nameof(epoll_event.data))}");

        Check(close(ep), "close");
        Check(close(fd), "close");
        _ = Errno.Failed(close(-1), out var badFd);
        Console.WriteLine($"close(-1): {badFd}");
        return 0;
    }

    private static int Check(int result, string call) =>
        Errno.Failed(result, out var error) ? throw new InvalidOperationException($"{call}: {error}") : result;
}
