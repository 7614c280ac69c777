// The generated API is internal to this assembly, in CustomSelection.Native.Linux (SyscallsNamespace in the .csproj).
using System;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using CustomSelection.Native.Linux;

if (!OperatingSystem.IsLinux())
{
    Console.WriteLine("This sample calls epoll: run it on Linux.");
    return 0;
}
return Demo.Run();

[SupportedOSPlatform("linux")] // the generated API says so too: CA1416 checks the OperatingSystem.IsLinux() guard above
internal static unsafe class Demo
{
    public static int Run()
    {
        Console.WriteLine($"sizeof(epoll_event) = {sizeof(epoll_event)} on {RuntimeInformation.RuntimeIdentifier}");

        int* fds = stackalloc int[2];
        Check(LibC.pipe(fds), "pipe");
        int ep = Check(LibC.epoll_create1(LibC.EPOLL_CLOEXEC), "epoll_create1");

        var interest = new epoll_event { events = LibC.EPOLLIN };
        interest.data.fd = fds[0];
        Check(LibC.epoll_ctl(ep, LibC.EPOLL_CTL_ADD, fds[0], &interest), "epoll_ctl");

        byte* message = stackalloc byte[] { (byte)'h', (byte)'e', (byte)'l', (byte)'l', (byte)'o' };
        Check((int)LibC.write(fds[1], message, 5), "write");

        epoll_event ready;
        int n = Check(LibC.epoll_wait(ep, &ready, 1, 1000), "epoll_wait");
        byte* buffer = stackalloc byte[16];
        int got = Check((int)LibC.read(ready.data.fd, buffer, 16), "read");
        Console.WriteLine($"epoll_wait: {n} ready, events=0x{ready.events:x}, fd={ready.data.fd} (pipe read end {fds[0]}), "
            + $"read {got} bytes: \"{System.Text.Encoding.ASCII.GetString(buffer, got)}\"");

        // The generated stub captures errno like [LibraryImport(SetLastError = true)]: EBADF (9) here.
        int bad = LibC.close(-1);
        Console.WriteLine($"close(-1) = {bad}, errno = {Marshal.GetLastPInvokeError()} ({Marshal.GetLastPInvokeErrorMessage()})");

        LibC.close(ep);
        LibC.close(fds[0]);
        LibC.close(fds[1]);
        return 0;
    }

    private static int Check(int result, string what)
    {
        if (result < 0)
        {
            throw new InvalidOperationException($"{what} failed: errno {Marshal.GetLastPInvokeError()}");
        }
        return result;
    }
}
