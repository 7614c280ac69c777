using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;
using Xunit;
using static Syscalls.Linux.LibC;

namespace Syscalls.Bindings.Tests.Calls;

/// <summary>Helpers of the call tests: errno in messages, the skip for hosts these Linux calls cannot run on, and
/// small byte movers over descriptors.</summary>
// unsafe: the helpers pass pointers to pinned arrays that outlive each call.
internal static unsafe class Native
{
    public static void RequireLinux() => Assert.SkipUnless(OperatingSystem.IsLinux(), "these calls are Linux system calls");

    /// <summary>Asserts a call succeeded (returned 0 or more), naming errno when it did not.</summary>
    public static long Ok(long result, string call)
    {
        int errno = Marshal.GetLastPInvokeError();
        Assert.True(result >= 0, $"{call} returned {result}, errno {errno}");
        return result;
    }

    /// <summary>A file holding <paramref name="content"/>, opened read-only through the bindings' open(2); the path is
    /// unlinked at once, so the file goes away with the descriptor.</summary>
    [SupportedOSPlatform("linux")]
    public static int OpenTempFile(string content)
    {
        string path = Path.GetTempFileName();
        File.WriteAllText(path, content);
        try
        {
            fixed (byte* p = Encoding.UTF8.GetBytes(path + "\0"))
            {
                return (int)Ok(open(p, O_RDONLY | O_CLOEXEC), "open");
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Writes all of <paramref name="text"/> (ASCII) to <paramref name="fd"/> with one write(2).</summary>
    [SupportedOSPlatform("linux")]
    public static void WriteText(int fd, string text)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        fixed (byte* p = bytes)
        {
            Assert.Equal(bytes.Length, Ok(write(fd, p, (nuint)bytes.Length), "write"));
        }
    }

    /// <summary>One read(2) of at most <paramref name="max"/> bytes from <paramref name="fd"/>, as ASCII.</summary>
    [SupportedOSPlatform("linux")]
    public static string ReadText(int fd, int max = 256)
    {
        var buffer = new byte[max];
        fixed (byte* p = buffer)
        {
            long n = Ok(read(fd, p, (nuint)max), "read");
            return Encoding.ASCII.GetString(buffer, 0, (int)n);
        }
    }

    /// <summary>Network byte order of a 16-bit port or 32-bit address (htons/htonl) on this little-endian host.</summary>
    public static ushort Htons(ushort v) => BitConverter.IsLittleEndian ? (ushort)((v >> 8) | (v << 8)) : v;

    public static uint Htonl(uint v) => BitConverter.IsLittleEndian ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v) : v;
}
