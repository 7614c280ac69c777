using System;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Syscalls.Linux;
using static Syscalls.Linux.LibC;

// Which implementation the package resolved to: runtimes/<rid>/lib/net10.0 on a supported RID.
Console.WriteLine($"Syscalls.Bindings: {typeof(LibC).Assembly.Location}");
Console.WriteLine($"RID {RuntimeInformation.RuntimeIdentifier}");
if (!OperatingSystem.IsLinux())
{
    Console.WriteLine("This sample makes Linux calls; nothing more to show on this OS.");
    return 0;
}
return Sample.Run();

[SupportedOSPlatform("linux")]
internal static unsafe class Sample
{
    public static int Run()
    {
        Console.WriteLine($"getpid() = {getpid()} (Environment.ProcessId = {Environment.ProcessId})");

        int fd = Check(socket(AF_INET, (int)SOCK_STREAM, 0), "socket");
        var addr = new sockaddr_in { sin_family = AF_INET, sin_port = 0 };
        addr.sin_addr.s_addr = BitConverter.IsLittleEndian ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(INADDR_LOOPBACK) : INADDR_LOOPBACK;
        Check(bind(fd, (sockaddr*)&addr, (uint)sizeof(sockaddr_in)), "bind");
        Check(listen(fd, 16), "listen");
        sockaddr_in bound;
        uint len = (uint)sizeof(sockaddr_in);
        Check(getsockname(fd, (sockaddr*)&bound, &len), "getsockname");
        int port = (ushort)((bound.sin_port >> 8) | (bound.sin_port << 8));
        Console.WriteLine($"listening socket {fd} on 127.0.0.1:{port}");

        int ep = Check(epoll_create1(EPOLL_CLOEXEC), "epoll_create1");
        var ev = new epoll_event { events = EPOLLIN };
        ev.data.u64 = 0x1122334455667788UL;
        Check(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), "epoll_ctl");
        var events = stackalloc epoll_event[8];
        int ready = Check(epoll_wait(ep, events, 8, 0), "epoll_wait");
        Console.WriteLine($"epoll_wait(timeout 0): {ready} ready");
        Console.WriteLine($"sizeof(epoll_event) = {sizeof(epoll_event)}, offsetof(data) = {Marshal.OffsetOf<epoll_event>(nameof(epoll_event.data))}");

        Check(close(ep), "close");
        Check(close(fd), "close");
        Console.WriteLine($"close(-1) = {close(-1)}, errno {Marshal.GetLastPInvokeError()} (EBADF = {EBADF})");
        return 0;
    }

    private static int Check(int result, string call)
    {
        if (result < 0)
        {
            throw new InvalidOperationException($"{call} failed: errno {Marshal.GetLastPInvokeError()}");
        }
        return result;
    }
}
