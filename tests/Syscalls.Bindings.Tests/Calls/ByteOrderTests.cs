using System;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Xunit;
using Darwin = Syscalls.Darwin;
using Linux = Syscalls.Linux;
using Windows = Syscalls.Windows;

namespace Syscalls.Bindings.Tests.Calls;

/// <summary>
/// htons/htonl/ntohs/ntohl (the hand-written part of the bindings, managed) give C's answers: the same big-endian
/// bytes under every OS's class, the C library's own exports where it has them (glibc on linux-x64 natively and on
/// linux-arm64 under qemu, ws2_32.dll on win-x64 under Wine; macOS has only macros), and a port a real socket got.
/// </summary>
// unsafe: bind/getsockname take pointers to locals that outlive the calls.
public sealed unsafe partial class ByteOrderTests
{
    private static readonly ushort[] Shorts = [0, 1, 0x00FF, 0x0100, 0x1234, 0x8000, 0xFFFF, 8080];
    private static readonly uint[] Longs = [0, 1, 0x7F000001, 0x12345678, 0x80000000, 0xFFFFFFFF, 0x00010203];

    // The three classes are compared on whatever host runs the test: the helpers are managed and run anywhere, while
    // CA1416 (rightly, for everything else on those classes) reads them as OS-specific.
#pragma warning disable CA1416
    [Fact]
    public void ByteOrder_EveryOsClass_WritesBigEndianAndRoundTrips()
    {
        Span<byte> bytes = stackalloc byte[4];
        foreach (ushort v in Shorts)
        {
            ushort n = Linux.LibC.htons(v);
            MemoryMarshal.Write(bytes, in n);
            Assert.Equal(v, BinaryPrimitives.ReadUInt16BigEndian(bytes));
            Assert.Equal(n, Darwin.LibC.htons(v));
            Assert.Equal(n, Windows.Ws2_32.htons(v));
            Assert.Equal(v, Linux.LibC.ntohs(n));
            Assert.Equal(v, Darwin.LibC.ntohs(n));
            Assert.Equal(v, Windows.Ws2_32.ntohs(n));
        }
        foreach (uint v in Longs)
        {
            uint n = Linux.LibC.htonl(v);
            MemoryMarshal.Write(bytes, in n);
            Assert.Equal(v, BinaryPrimitives.ReadUInt32BigEndian(bytes));
            Assert.Equal(n, Darwin.LibC.htonl(v));
            Assert.Equal(n, Windows.Ws2_32.htonl(v));
            Assert.Equal(v, Linux.LibC.ntohl(n));
            Assert.Equal(v, Darwin.LibC.ntohl(n));
            Assert.Equal(v, Windows.Ws2_32.ntohl(n));
        }
    }
#pragma warning restore CA1416

    [Fact]
    public void ByteOrder_HostCLibrary_AgreesWithItsExports()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() || OperatingSystem.IsWindows(),
            "glibc and ws2_32.dll export the four functions; macOS has only macros");
        foreach (ushort v in Shorts)
        {
            Assert.Equal(OperatingSystem.IsLinux() ? Glibc.htons(v) : Ws2.htons(v), Swap16(v, htons: true));
            Assert.Equal(OperatingSystem.IsLinux() ? Glibc.ntohs(v) : Ws2.ntohs(v), Swap16(v, htons: false));
        }
        foreach (uint v in Longs)
        {
            Assert.Equal(OperatingSystem.IsLinux() ? Glibc.htonl(v) : Ws2.htonl(v), Swap32(v, htonl: true));
            Assert.Equal(OperatingSystem.IsLinux() ? Glibc.ntohl(v) : Ws2.ntohl(v), Swap32(v, htonl: false));
        }
    }

    [Fact]
    [SupportedOSPlatform("linux")]
    public void Ntohs_PortOfABoundSocket_IsThePortAClientConnectsTo()
    {
        Native.RequireLinux();
        int fd = (int)Native.Ok(Linux.LibC.socket(Linux.LibC.AF_INET, (int)Linux.LibC.SOCK_STREAM, 0), "socket");
        try
        {
            var addr = new Linux.sockaddr_in { sin_family = Linux.LibC.AF_INET, sin_port = 0 };
            addr.sin_addr.s_addr = Linux.LibC.htonl(Linux.LibC.INADDR_LOOPBACK);
            Native.Ok(Linux.LibC.bind(fd, (Linux.sockaddr*)&addr, (uint)sizeof(Linux.sockaddr_in)), "bind");
            Native.Ok(Linux.LibC.listen(fd, 1), "listen");
            Linux.sockaddr_in bound;
            uint len = (uint)sizeof(Linux.sockaddr_in);
            Native.Ok(Linux.LibC.getsockname(fd, (Linux.sockaddr*)&bound, &len), "getsockname");

            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            client.Connect(new IPEndPoint(IPAddress.Loopback, Linux.LibC.ntohs(bound.sin_port)));
            Assert.True(client.Connected);
        }
        finally
        {
            Linux.LibC.close(fd);
        }
    }

    private static ushort Swap16(ushort v, bool htons) =>
        OperatingSystem.IsLinux() ? (htons ? Linux.LibC.htons(v) : Linux.LibC.ntohs(v))
        : OperatingSystem.IsWindows() ? (htons ? Windows.Ws2_32.htons(v) : Windows.Ws2_32.ntohs(v))
        : throw new PlatformNotSupportedException();

    private static uint Swap32(uint v, bool htonl) =>
        OperatingSystem.IsLinux() ? (htonl ? Linux.LibC.htonl(v) : Linux.LibC.ntohl(v))
        : OperatingSystem.IsWindows() ? (htonl ? Windows.Ws2_32.htonl(v) : Windows.Ws2_32.ntohl(v))
        : throw new PlatformNotSupportedException();

    /// <summary>The oracle on Linux: glibc's exported functions (its header makes them inline swaps).</summary>
    private static partial class Glibc
    {
        [LibraryImport("libc.so.6")] public static partial ushort htons(ushort v);
        [LibraryImport("libc.so.6")] public static partial uint htonl(uint v);
        [LibraryImport("libc.so.6")] public static partial ushort ntohs(ushort v);
        [LibraryImport("libc.so.6")] public static partial uint ntohl(uint v);
    }

    /// <summary>The oracle on Windows: ws2_32.dll's exports.</summary>
    private static partial class Ws2
    {
        [LibraryImport("ws2_32.dll")] public static partial ushort htons(ushort v);
        [LibraryImport("ws2_32.dll")] public static partial uint htonl(uint v);
        [LibraryImport("ws2_32.dll")] public static partial ushort ntohs(ushort v);
        [LibraryImport("ws2_32.dll")] public static partial uint ntohl(uint v);
    }
}
