using System;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Xunit;
using Linux = Syscalls.Linux;
using Windows = Syscalls.Windows;

namespace Syscalls.Bindings.Tests.Calls;

/// <summary>
/// inet_pton/inet_ntop through the bindings (the C library's functions, bound from the family lists): IPv4 and IPv6
/// text to address bytes and back, text that is no address, an unknown family, a buffer too small. Linux natively and
/// under qemu; on Windows (Wine) inet_pton/inet_ntop and InetPtonW/InetNtopW of ws2_32.dll.
/// </summary>
// unsafe: every pointer is to a local, a stackalloc buffer or a fixed string that outlives the call.
public sealed unsafe class AddressTextTests
{
    public static TheoryData<string> V6 => new("::1", "2001:db8::8:800:200c:417a", "fe80::1", "::ffff:192.0.2.128", "::");

    public static TheoryData<string> NotAnAddress => new("256.0.0.1", "1.2.3", "", "127.0.0.1 ", "::g", "1::2::3", "localhost");

    [Fact]
    [SupportedOSPlatform("linux")]
    public void InetPton_V4Loopback_IsInaddrLoopbackAndNtopGivesItBack()
    {
        Native.RequireLinux();
        Linux.in_addr a;
        fixed (byte* text = "127.0.0.1"u8)
        {
            Assert.Equal(1, Linux.LibC.inet_pton(Linux.LibC.AF_INET, text, &a));
        }
        Assert.Equal(Linux.LibC.htonl(Linux.LibC.INADDR_LOOPBACK), a.s_addr);
        byte* buf = stackalloc byte[Linux.LibC.INET_ADDRSTRLEN];
        Assert.True(Linux.LibC.inet_ntop(Linux.LibC.AF_INET, &a, buf, Linux.LibC.INET_ADDRSTRLEN) == buf);
        Assert.Equal("127.0.0.1", Marshal.PtrToStringUTF8((nint)buf));
    }

    [Theory]
    [MemberData(nameof(V6))]
    [SupportedOSPlatform("linux")]
    public void InetPtonNtop_V6_RoundTripsAndMatchesTheManagedParser(string text)
    {
        Native.RequireLinux();
        Linux.in6_addr a;
        Assert.Equal(1, Pton(Linux.LibC.AF_INET6, text, &a));
        Assert.Equal(System.Net.IPAddress.Parse(text).GetAddressBytes(), new ReadOnlySpan<byte>(&a, 16).ToArray());
        byte* buf = stackalloc byte[Linux.LibC.INET6_ADDRSTRLEN];
        Assert.True(Linux.LibC.inet_ntop(Linux.LibC.AF_INET6, &a, buf, Linux.LibC.INET6_ADDRSTRLEN) == buf);
        Assert.Equal(text, Marshal.PtrToStringUTF8((nint)buf));
    }

    [Theory]
    [MemberData(nameof(NotAnAddress))]
    [SupportedOSPlatform("linux")]
    public void InetPton_NotAnAddress_ReturnsZero(string text)
    {
        Native.RequireLinux();
        Linux.in6_addr a;
        int family = text.Contains(':') ? Linux.LibC.AF_INET6 : Linux.LibC.AF_INET;
        Assert.Equal(0, Pton(family, text, &a));
    }

    [Fact]
    [SupportedOSPlatform("linux")]
    public void InetPtonNtop_BadFamilyOrSmallBuffer_FailWithErrno()
    {
        Native.RequireLinux();
        Linux.in_addr a;
        Assert.True(Errno.Failed(Pton(12345, "127.0.0.1", &a), out var family));
        Assert.Equal(Linux.LibC.EAFNOSUPPORT, family.Number);
        a.s_addr = Linux.LibC.htonl(Linux.LibC.INADDR_LOOPBACK);
        byte* small = stackalloc byte[4];
        Assert.True(Linux.LibC.inet_ntop(Linux.LibC.AF_INET, &a, small, 4) == null);
        Assert.Equal("ENOSPC", Errno.Last().Name);
    }

    [Fact]
    [SupportedOSPlatform("windows")]
    public void InetPtonNtop_Windows_AnsiAndWideFormsRoundTrip()
    {
        Assert.SkipUnless(OperatingSystem.IsWindows(), "Winsock calls run on Windows (or Wine)");
        Windows.WSADATA data;
        Assert.Equal(0, Windows.Ws2_32.WSAStartup(0x0202, &data));
        try
        {
            Windows.in_addr v4;
            fixed (byte* text = "127.0.0.1"u8)
            {
                Assert.Equal(1, Windows.Ws2_32.inet_pton(Windows.Ws2_32.AF_INET, text, &v4));
            }
            Assert.Equal(Windows.Ws2_32.htonl(0x7F000001), v4.S_un.S_addr);
            byte* ansi = stackalloc byte[Windows.Ws2_32.INET_ADDRSTRLEN];
            Assert.True(Windows.Ws2_32.inet_ntop(Windows.Ws2_32.AF_INET, &v4, ansi, Windows.Ws2_32.INET_ADDRSTRLEN) == ansi);
            Assert.Equal("127.0.0.1", Marshal.PtrToStringUTF8((nint)ansi));

            Windows.in6_addr v6;
            fixed (char* text = "2001:db8::1\0")
            {
                Assert.Equal(1, Windows.Ws2_32.InetPtonW(Windows.Ws2_32.AF_INET6, text, &v6));
            }
            Assert.Equal(System.Net.IPAddress.Parse("2001:db8::1").GetAddressBytes(), new ReadOnlySpan<byte>(&v6, 16).ToArray());
            char* wide = stackalloc char[Windows.Ws2_32.INET6_ADDRSTRLEN];
            Assert.True(Windows.Ws2_32.InetNtopW(Windows.Ws2_32.AF_INET6, &v6, wide, Windows.Ws2_32.INET6_ADDRSTRLEN) == wide);
            Assert.Equal("2001:db8::1", new string(wide));

            fixed (char* text = "256.0.0.1\0")
            {
                Assert.Equal(0, Windows.Ws2_32.InetPtonW(Windows.Ws2_32.AF_INET, text, &v4));
            }
        }
        finally
        {
            Windows.Ws2_32.WSACleanup();
        }
    }

    /// <summary>inet_pton over a NUL-terminated UTF-8 copy of <paramref name="text"/>.</summary>
    [SupportedOSPlatform("linux")]
    private static int Pton(int family, string text, void* dst)
    {
        byte[] z = new byte[System.Text.Encoding.UTF8.GetByteCount(text) + 1];
        System.Text.Encoding.UTF8.GetBytes(text, z);
        fixed (byte* p = z)
        {
            return Linux.LibC.inet_pton(family, p, dst);
        }
    }
}
