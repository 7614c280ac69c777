using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;

namespace Syscalls.Runtime.Tests.Infrastructure;

/// <summary>How many descriptors (Unix) or handles (Windows) this process holds: the measure of the leak checks.</summary>
public static partial class Descriptors
{
    /// <summary>True where <see cref="Count"/> works: Linux (/proc/self/fd), macOS (/dev/fd), Windows
    /// (GetProcessHandleCount), but not under Wine 8 (see <see cref="Unavailable"/>).</summary>
    public static bool Available => Unavailable is null;

    /// <summary>Why there is no count here, or null. Wine 8 implements ProcessHandleCount, which
    /// GetProcessHandleCount reads, as a stub that reports 0 handles.</summary>
    public static string? Unavailable { get; } = Probe();

    /// <summary>Open descriptors or handles now (including the one the count itself opens on Unix, a constant).</summary>
    public static int Count()
    {
        if (OperatingSystem.IsWindows())
            return GetProcessHandleCount(GetCurrentProcess(), out uint count) ? (int)count : -1;
        string dir = OperatingSystem.IsLinux() ? "/proc/self/fd" : "/dev/fd";
        return Directory.EnumerateFileSystemEntries(dir).Count();
    }

    /// <summary>Runs <paramref name="action"/> <paramref name="times"/> times after one warm-up run (which may open
    /// what the runtime keeps open for good: a socket engine, an eventfd of its own) and returns how many more
    /// descriptors the process holds afterwards: the least growth of up to three such rounds. A leak grows every
    /// round; a descriptor that another part of the process opens meanwhile (the runtime, a finalizer, an earlier
    /// test's connection still closing) shows in one round, not in three (CI saw one such +1 once).</summary>
    public static int GrowthOver(int times, Action action)
    {
        action();
        int least = int.MaxValue;
        for (int round = 0; round < 3 && least > 0; round++)
        {
            int before = Count();
            for (int i = 0; i < times; i++)
                action();
            least = Math.Min(least, Count() - before);
        }

        return least;
    }

    private static string? Probe()
    {
        try
        {
            if (Count() > 0)
                return null;
            return Platform.IsWine
                ? "Wine 8's GetProcessHandleCount is a stub that reports 0 handles"
                : "the descriptor count of this OS reads 0";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DllNotFoundException or EntryPointNotFoundException)
        {
            return "no descriptor count on this OS: " + e.Message;
        }
    }

    [DllImport("kernel32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static extern bool GetProcessHandleCount(nint process, out uint count);

    [DllImport("kernel32.dll")]
    private static extern nint GetCurrentProcess();
}
