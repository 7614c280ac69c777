using System;
using System.Runtime.InteropServices;

namespace Syscalls;

/// <summary>
/// An error number captured as a value: errno on Linux and macOS, <c>GetLastError</c>/<c>WSAGetLastError</c> on
/// Windows. Read it right after the failing call, before anything else runs: any later P/Invoke, including the ones
/// inside <c>Console.Error.WriteLine</c>, may overwrite the slot <see cref="Marshal.GetLastPInvokeError"/> reads.
/// <code>
/// if (Errno.Failed(bind(fd, (sockaddr*)&amp;addr, (uint)sizeof(sockaddr_in)), out var err))
/// {
///     Console.Error.WriteLine($"bind: {err}");   // bind: EADDRINUSE (98): Address already in use
/// }
/// </code>
/// </summary>
public readonly struct Errno : IEquatable<Errno>
{
    public Errno(int number) => Number = number;

    /// <summary>The number as the OS reports it (<c>EADDRINUSE</c>: 98 Linux, 48 macOS, 10048 Windows).</summary>
    public int Number { get; }

    /// <summary>
    /// The C name of the number on the running OS (<c>"EADDRINUSE"</c>, <c>"WSAEADDRINUSE"</c>), from the same facts
    /// as the bindings' constants; null for a number the family lists do not mark as an error (and for 0).
    /// </summary>
    public string? Name =>
        OperatingSystem.IsLinux() ? Linux.ErrorNames.Of(Number)
        : OperatingSystem.IsMacOS() ? Darwin.ErrorNames.Of(Number)
        : OperatingSystem.IsWindows() ? Windows.ErrorNames.Of(Number)
        : null;

    /// <summary>The OS text for the number: <c>strerror</c> (Linux, macOS), <c>FormatMessage</c> (Windows).</summary>
    public string Message => Marshal.GetPInvokeErrorMessage(Number);

    /// <summary>The error the last binding call left (its <c>SetLastError</c> stub filled the slot).</summary>
    public static Errno Last() => new(Marshal.GetLastPInvokeError());

    /// <summary>
    /// True, with the error captured, when <paramref name="result"/> is C's failure value -1 (<c>socket</c>,
    /// <c>bind</c>, <c>SOCKET_ERROR</c>); false, with <c>default</c>, otherwise.
    /// </summary>
    public static bool Failed(int result, out Errno error)
    {
        error = result == -1 ? Last() : default;
        return result == -1;
    }

    /// <summary>The same for <c>ssize_t</c> results (<c>read</c>, <c>recv</c>, <c>send</c>).</summary>
    public static bool Failed(nint result, out Errno error)
    {
        error = result == -1 ? Last() : default;
        return result == -1;
    }

    /// <summary>The same for <c>long</c> results (<c>syscall</c>).</summary>
    public static bool Failed(long result, out Errno error)
    {
        error = result == -1 ? Last() : default;
        return result == -1;
    }

    /// <summary>The same for Windows <c>SOCKET</c> results: <c>INVALID_SOCKET</c> is <c>~0</c>.</summary>
    public static bool Failed(nuint result, out Errno error)
    {
        error = result == nuint.MaxValue ? Last() : default;
        return result == nuint.MaxValue;
    }

    /// <summary><c>EADDRINUSE (98): Address already in use</c>; without a name, the number and the text.</summary>
    public override string ToString() => Name is { } name ? $"{name} ({Number}): {Message}" : $"{Number}: {Message}";

    public bool Equals(Errno other) => Number == other.Number;

    public override bool Equals(object? obj) => obj is Errno other && Equals(other);

    public override int GetHashCode() => Number;

    public static bool operator ==(Errno left, Errno right) => left.Equals(right);

    public static bool operator !=(Errno left, Errno right) => !left.Equals(right);
}
