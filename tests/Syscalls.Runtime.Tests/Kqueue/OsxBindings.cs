using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using Xunit;

namespace Syscalls.Runtime.Tests.Kqueue;

/// <summary>Finds the repository, the macOS toolchain (zig cc) and the osx-x64/osx-arm64 builds of Syscalls.Bindings
/// (bindings/Syscalls.Bindings/bin/CONFIG/RID/net10.0/), building a missing one once per run.</summary>
internal static class OsxBindings
{
    internal static readonly string[] Rids = ["osx-x64", "osx-arm64"];

    private static readonly ConcurrentDictionary<string, Lazy<(string? Path, string Error)>> s_built = new();

    /// <summary>The repository root (the folder holding headers/families), or a skip.</summary>
    internal static string RepoRoot
    {
        get
        {
            for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
            {
                if (File.Exists(Path.Combine(dir, "headers", "families", "kqueue.api")))
                    return dir;
            }

            Assert.Skip($"not run from inside the repository ({AppContext.BaseDirectory}): the kqueue proofs read its files");
            return null!;
        }
    }

    /// <summary>The configuration this test assembly was built in (the bindings are built to match).</summary>
    internal static string Configuration
        => typeof(OsxBindings).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    /// <summary>zig 0.11 from the npm cache eng/setup.sh fills (it carries the macOS 13 SDK headers), or a skip.</summary>
    internal static string Zig
    {
        get
        {
            string cache = Environment.GetEnvironmentVariable("SYSCALLS_CACHE") ?? Path.Combine(RepoRoot, ".cache");
            string npm = Path.Combine(cache, "npm");
            string? zig = Directory.Exists(npm)
                ? Directory.GetDirectories(npm, "zig-linux-x64-*").Select(d => Path.Combine(d, "package", "zig")).FirstOrDefault(File.Exists)
                : null;
            if (zig is null)
                Assert.Skip($"zig (macOS SDK headers) not unpacked under {npm}: run eng/setup.sh or eng/headers.sh zig");
            return zig!;
        }
    }

    /// <summary>The bindings assembly of <paramref name="rid"/>; built (dotnet build -p:SyscallsRid=RID) when missing.</summary>
    internal static string Assembly(string rid)
    {
        string root = RepoRoot;
        string? found = Find(root, rid);
        if (found is not null)
            return found;
        var (path, error) = s_built.GetOrAdd(rid, r => new Lazy<(string?, string)>(() => Build(root, r))).Value;
        Assert.True(path is not null, $"the {rid} bindings could not be built: {error}");
        return path!;
    }

    private static string? Find(string root, string rid)
    {
        string bin = Path.Combine(root, "bindings", "Syscalls.Bindings", "bin");
        string preferred = Path.Combine(bin, Configuration, rid, "net10.0", "Syscalls.Bindings.dll");
        if (File.Exists(preferred))
            return preferred;
        return Directory.Exists(bin)
            ? Directory.GetFiles(bin, "Syscalls.Bindings.dll", SearchOption.AllDirectories)
                .Where(p => Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(p))) == rid)
                .OrderByDescending(File.GetLastWriteTimeUtc)
                .FirstOrDefault()
            : null;
    }

    private static (string?, string) Build(string root, string rid)
    {
        Infrastructure.ChildServer.SkipIfNoChildren();
        string project = Path.Combine(root, "bindings", "Syscalls.Bindings", "Syscalls.Bindings.csproj");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var psi = new ProcessStartInfo(dotnet, ["build", project, "-c", Configuration, $"-p:SyscallsRid={rid}", "-nologo", "-v", "q"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        try
        {
            using Process p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            string stdout = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0)
                return (null, $"dotnet build exited {p.ExitCode}:\n{stdout}\n{stderr.Result}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (null, "dotnet not found: " + e.Message);
        }

        string? built = Find(root, rid);
        return built is not null ? (built, "") : (null, $"dotnet build succeeded but left no {rid} assembly under bin/");
    }

    /// <summary>Runs a tool; returns (exit code, stdout + stderr).</summary>
    internal static (int ExitCode, string Output) Run(string file, params string[] args)
    {
        Infrastructure.ChildServer.SkipIfNoChildren();
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using Process p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout + stderr.Result);
    }
}
