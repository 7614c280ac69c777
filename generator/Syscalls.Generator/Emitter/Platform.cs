using System;
using System.Collections.Generic;

namespace Syscalls.Generator.Emitter;

/// <summary>What the bindings call an OS: its namespace, <c>[SupportedOSPlatform]</c> name and native libraries.</summary>
internal sealed class Platform
{
    private static readonly Dictionary<string, string> ClassNames = new(StringComparer.Ordinal)
    {
        ["libc"] = "LibC",
        ["ws2_32"] = "Ws2_32",
        ["kernel32"] = "Kernel32",
        ["mswsock"] = "Mswsock",
        ["ntdll"] = "Ntdll",
    };

    private Platform(string os, string ns, string platformName, string defaultLib, Func<string, string> dll)
    {
        Os = os;
        NamespaceSuffix = ns;
        PlatformName = platformName;
        DefaultLib = defaultLib;
        _dll = dll;
    }

    private readonly Func<string, string> _dll;

    /// <summary>The facts' <c>@os</c>: linux, darwin, windows.</summary>
    public string Os { get; }

    /// <summary><c>Linux</c> in <c>Syscalls.Linux</c>.</summary>
    public string NamespaceSuffix { get; }

    /// <summary>The name <c>[SupportedOSPlatform]</c> and <c>OperatingSystem.IsOSPlatform</c> know.</summary>
    public string PlatformName { get; }

    /// <summary>The OS as people write it, for messages: Linux, macOS, Windows.</summary>
    public string DisplayName => PlatformName == "macos" ? "macOS" : NamespaceSuffix;

    /// <summary>The library of a family without a <c>lib</c> line.</summary>
    public string DefaultLib { get; }

    public static Platform For(string os) => os switch
    {
        "linux" => new Platform(os, "Linux", "linux", "libc", lib => lib == "libc" ? "libc.so.6" : "lib" + lib + ".so"),
        "darwin" => new Platform(os, "Darwin", "macos", "libc",
            lib => lib == "libc" ? "/usr/lib/libSystem.B.dylib" : "/usr/lib/lib" + lib + ".dylib"),
        "windows" => new Platform(os, "Windows", "windows", "ws2_32", lib => lib + ".dll"),
        _ => throw new EmitterException($"unknown OS '{os}' in the facts (known: linux darwin windows)"),
    };

    /// <summary>The static class a library's functions and constants live in: <c>libc</c> -> <c>LibC</c>.</summary>
    public static string ClassFor(string lib, IReadOnlyDictionary<string, string>? overrides)
    {
        if (overrides is not null && overrides.TryGetValue(lib, out var name))
        {
            return name;
        }
        return ClassNames.TryGetValue(lib, out var known) ? known : char.ToUpperInvariant(lib[0]) + lib.Substring(1);
    }

    /// <summary>The library name handed to <c>[LibraryImport]</c>.</summary>
    public string DllFor(string lib) => _dll(lib);

    /// <summary>Orders the architectures of one OS: x64 first, so that "the first target" is stable.</summary>
    public static int ArchOrder(string arch) => arch switch
    {
        "x64" => 0,
        "arm64" => 1,
        _ => 2,
    };
}
