using System;
using Xunit;

namespace Syscalls.AspNetCore.Tests.Infrastructure;

/// <summary>Deterministic test bytes: byte i of stream <c>seed</c> is a hash of both, so a shifted, repeated, dropped or
/// foreign byte shows at its offset, and a receiver can verify a body of any size without holding a copy.</summary>
public static class Payload
{
    public static byte At(int seed, long index)
    {
        ulong x = unchecked(((ulong)index + 1) * 0x9E3779B97F4A7C15UL ^ ((ulong)seed + 1) * 0xBF58476D1CE4E5B9UL);
        x ^= x >> 31;
        x *= 0x94D049BB133111EBUL;
        return (byte)(x ^ (x >> 29));
    }

    public static byte[] Create(int seed, int length)
    {
        var bytes = new byte[length];
        Fill(seed, 0, bytes);
        return bytes;
    }

    /// <summary>Bytes [offset, offset + destination.Length) of stream <paramref name="seed"/>.</summary>
    public static void Fill(int seed, long offset, Span<byte> destination)
    {
        for (int i = 0; i < destination.Length; i++)
            destination[i] = At(seed, offset + i);
    }

    /// <summary>The index in <paramref name="data"/> of the first byte that is not byte offset + i of the stream, or -1.</summary>
    public static int FirstMismatch(int seed, long offset, ReadOnlySpan<byte> data)
    {
        for (int i = 0; i < data.Length; i++)
        {
            if (data[i] != At(seed, offset + i))
                return i;
        }

        return -1;
    }

    /// <summary>Asserts <paramref name="actual"/> is exactly <paramref name="expected"/>, naming the first wrong offset
    /// instead of printing megabytes.</summary>
    public static void Equal(byte[] expected, byte[] actual, string what)
    {
        int common = Math.Min(expected.Length, actual.Length);
        int at = expected.AsSpan(0, common).CommonPrefixLength(actual.AsSpan(0, common));
        if (at < common)
            Assert.Fail($"{what}: byte {at} is 0x{actual[at]:x2}, expected 0x{expected[at]:x2} ({actual.Length} bytes)");
        if (expected.Length != actual.Length)
            Assert.Fail($"{what}: {actual.Length} bytes, expected {expected.Length} (the first {common} match)");
    }
}
