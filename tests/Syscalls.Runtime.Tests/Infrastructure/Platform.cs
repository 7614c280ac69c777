using System;
using Xunit;

namespace Syscalls.Runtime.Tests.Infrastructure;

/// <summary>Skips, with the reason stated, the tests that exercise something only Linux has.</summary>
public static class Platform
{
    /// <summary>Skips on every OS but Linux; <paramref name="why"/> names the Linux-only mechanism.</summary>
    public static void RequireLinux(string why)
    {
        if (!OperatingSystem.IsLinux())
            Assert.Skip("Linux only: " + why);
    }

    /// <summary>True under Wine (ntdll exports wine_get_version), where connection counts are scaled down to keep the
    /// suite inside its time budget: Wine's socket calls each cost a wineserver round trip.</summary>
    public static bool IsWine { get; } = OperatingSystem.IsWindows() && DetectWine();

    private static bool DetectWine()
    {
        if (!System.Runtime.InteropServices.NativeLibrary.TryLoad("ntdll.dll", out nint ntdll))
            return false;
        return System.Runtime.InteropServices.NativeLibrary.TryGetExport(ntdll, "wine_get_version", out _);
    }
}
