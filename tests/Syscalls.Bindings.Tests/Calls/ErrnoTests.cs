using System;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Xunit;
using Linux = Syscalls.Linux;
using Windows = Syscalls.Windows;

namespace Syscalls.Bindings.Tests.Calls;

/// <summary>
/// Errno: the error of a real failing call (a bind to a port another socket holds), captured before a console write
/// and a later successful call move the slot on, named and described as the OS does. Linux natively and under qemu
/// (names checked against glibc's strerrorname_np, texts against strerror), Windows under Wine (WSAEADDRINUSE).
/// </summary>
// unsafe: socket addresses are locals that outlive the calls.
public sealed unsafe partial class ErrnoTests
{
    [Fact]
    [SupportedOSPlatform("linux")]
    public void Errno_BindToAPortInUse_CapturedBeforeAConsoleWriteNamesEaddrinuse()
    {
        Native.RequireLinux();
        int holder = (int)Native.Ok(Linux.LibC.socket(Linux.LibC.AF_INET, (int)Linux.LibC.SOCK_STREAM, 0), "socket");
        int second = (int)Native.Ok(Linux.LibC.socket(Linux.LibC.AF_INET, (int)Linux.LibC.SOCK_STREAM, 0), "socket");
        try
        {
            var addr = new Linux.sockaddr_in { sin_family = Linux.LibC.AF_INET };
            addr.sin_addr.s_addr = Linux.LibC.htonl(Linux.LibC.INADDR_LOOPBACK);
            uint len = (uint)sizeof(Linux.sockaddr_in);
            Native.Ok(Linux.LibC.bind(holder, (Linux.sockaddr*)&addr, len), "bind");
            Native.Ok(Linux.LibC.getsockname(holder, (Linux.sockaddr*)&addr, &len), "getsockname");

            bool failed = Errno.Failed(Linux.LibC.bind(second, (Linux.sockaddr*)&addr, len), out var err);
            Console.Error.WriteLine($"bind to port {Linux.LibC.ntohs(addr.sin_port)} failed as expected: {err}");
            Native.Ok(Linux.LibC.getsockname(holder, (Linux.sockaddr*)&addr, &len), "getsockname");

            Assert.True(failed);
            Assert.NotEqual(Linux.LibC.EADDRINUSE, Marshal.GetLastPInvokeError());   // the slot moved on ...
            Assert.Equal(Linux.LibC.EADDRINUSE, err.Number);                          // ... the captured value did not
            Assert.Equal("EADDRINUSE", err.Name);
            string text = Marshal.PtrToStringUTF8((nint)Glibc.strerror(Linux.LibC.EADDRINUSE))!;
            Assert.Equal(text, err.Message);
            Assert.Equal($"EADDRINUSE ({Linux.LibC.EADDRINUSE}): {text}", err.ToString());
        }
        finally
        {
            Linux.LibC.close(second);
            Linux.LibC.close(holder);
        }
    }

    [Fact]
    public void ErrnoName_EveryNumberOnLinux_IsGlibcsStrerrorname()
    {
        Native.RequireLinux();
        Assert.Null(new Errno(0).Name);   // success has no name (glibc answers "0")
        for (int n = 1; n < 200; n++)
        {
            string? glibc = Marshal.PtrToStringUTF8((nint)Glibc.strerrorname_np(n));
            Assert.True(glibc == new Errno(n).Name, $"errno {n}: glibc names it {glibc ?? "(nothing)"}, Errno {new Errno(n).Name ?? "(nothing)"}");
        }
    }

    [Fact]
    public void Errno_NoNameOrSuccess_ShowsTheNumberAndTheText()
    {
        var unknown = new Errno(99999);
        Assert.Null(unknown.Name);
        Assert.Equal($"99999: {Marshal.GetPInvokeErrorMessage(99999)}", unknown.ToString());
        Assert.False(Errno.Failed(0, out var none));
        Assert.Equal(default, none);
        Assert.False(Errno.Failed((nint)5, out _));
        Assert.Equal(new Errno(7), new Errno(7));
        Assert.True(new Errno(7) != new Errno(8));
    }

    [Fact]
    [SupportedOSPlatform("windows")]
    public void Errno_WinsockBindToAPortInUse_NamesWsaeaddrinuse()
    {
        Assert.SkipUnless(OperatingSystem.IsWindows(), "Winsock calls run on Windows (or Wine)");
        Windows.WSADATA data;
        Assert.Equal(0, Windows.Ws2_32.WSAStartup(0x0202, &data));
        nuint holder = Windows.Ws2_32.socket(Windows.Ws2_32.AF_INET, Windows.Ws2_32.SOCK_STREAM, Windows.Ws2_32.IPPROTO_TCP);
        nuint second = Windows.Ws2_32.socket(Windows.Ws2_32.AF_INET, Windows.Ws2_32.SOCK_STREAM, Windows.Ws2_32.IPPROTO_TCP);
        try
        {
            Assert.False(Errno.Failed(holder, out var e1), e1.ToString());
            Assert.False(Errno.Failed(second, out var e2), e2.ToString());
            var addr = new Windows.sockaddr_in { sin_family = Windows.Ws2_32.AF_INET };
            addr.sin_addr.S_un.S_addr = Windows.Ws2_32.htonl(0x7F000001);
            int len = sizeof(Windows.sockaddr_in);
            Assert.False(Errno.Failed(Windows.Ws2_32.bind(holder, (Windows.sockaddr*)&addr, len), out var e3), e3.ToString());
            Assert.False(Errno.Failed(Windows.Ws2_32.getsockname(holder, (Windows.sockaddr*)&addr, &len), out var e4), e4.ToString());

            bool failed = Errno.Failed(Windows.Ws2_32.bind(second, (Windows.sockaddr*)&addr, len), out var err);
            Console.Error.WriteLine($"bind to port {Windows.Ws2_32.ntohs(addr.sin_port)} failed as expected: {err}");

            Assert.True(failed);
            Assert.Equal(Windows.Ws2_32.WSAEADDRINUSE, err.Number);
            Assert.Equal("WSAEADDRINUSE", err.Name);
            Assert.False(string.IsNullOrWhiteSpace(err.Message));
            Assert.StartsWith($"WSAEADDRINUSE ({Windows.Ws2_32.WSAEADDRINUSE}): ", err.ToString());
        }
        finally
        {
            Windows.Ws2_32.closesocket(second);
            Windows.Ws2_32.closesocket(holder);
            Windows.Ws2_32.WSACleanup();
        }
    }

    /// <summary>The oracles: glibc's own names (2.32 and later) and texts.</summary>
    private static partial class Glibc
    {
        [LibraryImport("libc.so.6")] public static partial byte* strerrorname_np(int errnum);
        [LibraryImport("libc.so.6")] public static partial byte* strerror(int errnum);
    }
}
