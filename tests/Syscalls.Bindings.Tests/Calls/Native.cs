using System;
using System.Runtime.InteropServices;
using Xunit;

namespace Syscalls.Bindings.Tests.Calls;

/// <summary>Helpers of the call tests: errno in messages, and the skip for hosts these Linux calls cannot run on.</summary>
internal static class Native
{
    public static void RequireLinux() => Assert.SkipUnless(OperatingSystem.IsLinux(), "these calls are Linux system calls");

    /// <summary>Asserts a call succeeded (returned 0 or more), naming errno when it did not.</summary>
    public static long Ok(long result, string call)
    {
        int errno = Marshal.GetLastPInvokeError();
        Assert.True(result >= 0, $"{call} returned {result}, errno {errno}");
        return result;
    }

    /// <summary>Network byte order of a 16-bit port or 32-bit address (htons/htonl) on this little-endian host.</summary>
    public static ushort Htons(ushort v) => BitConverter.IsLittleEndian ? (ushort)((v >> 8) | (v << 8)) : v;

    public static uint Htonl(uint v) => BitConverter.IsLittleEndian ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v) : v;
}
