using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;

namespace Syscalls.Generator.Tool.Proof;

/// <summary>The proof cannot run here: a compiler is not installed or a pinned header package is gone.</summary>
public sealed class ProofUnavailableException(string message) : Exception(message);

/// <summary>The output of one process run.</summary>
public sealed record ProcessResult(int ExitCode, string StdOut, string StdErr)
{
    public string Output => StdOut + StdErr;
}

/// <summary>
/// The C compiler that judges one target, independent of the scanner's libclang: gcc for linux-x64,
/// aarch64-linux-gnu-gcc for linux-arm64, x86_64-w64-mingw32-gcc for win-x64, zig cc (its own clang 16) for macOS.
/// It sees only the pinned sysroot: <c>-nostdinc</c>, the compiler's builtin headers, then the target's include dirs.
/// </summary>
public sealed record Toolchain(string Target, string Os, string Compiler, IReadOnlyList<string> Prefix, IReadOnlyList<string> Flags)
{
    /// <summary>Extra environment for the compiler (zig's cache folders).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    public bool IsClang => Os == "darwin";

    /// <summary>The command line that compiles <paramref name="source"/> to assembly (data probes are read from it).</summary>
    public IReadOnlyList<string> CommandFor(string source, string output) =>
        [.. Prefix, .. Flags, "-S", source, "-o", output];

    public string Describe() => string.Join(" ", new[] { Compiler }.Concat(Prefix).Concat(Flags));

    /// <summary>Builds the toolchain for <paramref name="target"/>, fetching the pinned sysroot through eng/headers.sh.</summary>
    public static Toolchain For(string root, string target, string? sysroot = null)
    {
        string targetFile = Path.Combine(root, "headers", "targets", target + ".target");
        if (!File.Exists(targetFile))
        {
            throw new ArgumentException($"unknown target '{target}': {targetFile} does not exist");
        }
        var lines = File.ReadAllLines(targetFile)
            .Select(l => l.Split('#')[0].Trim())
            .Where(l => l.Length > 0)
            .Select(l => l.Split(' ', 2, StringSplitOptions.TrimEntries))
            .ToList();
        string Value(string key) => lines.FirstOrDefault(l => l[0] == key)?.ElementAtOrDefault(1)
            ?? throw new FormatException($"{targetFile}: no '{key}' line");
        string os = Value("os"), arch = Value("arch");
        sysroot ??= HeadersScript(root, "fetch", target);
        var includes = lines.Where(l => l[0] == "include").Select(l => Path.Combine(sysroot, l[1])).ToList();
        var defines = lines.Where(l => l[0] == "define").Select(l => "-D" + l[1]).ToList();

        string compiler;
        List<string> prefix = [];
        string builtin;
        List<string> flags = ["-std=gnu11", "-w", "-g0"];
        if (os == "darwin")
        {
            string zig = Path.Combine(HeadersScript(root, "zig"), "package");
            compiler = Path.Combine(zig, "zig");
            builtin = Path.Combine(zig, "lib", "include");
            string triple = (arch == "arm64" ? "aarch64" : "x86_64") + "-macos.13.0";
            prefix = ["cc", "-target", triple];
            flags.Add("-ferror-limit=0");
        }
        else
        {
            compiler = (os, arch) switch
            {
                ("linux", "x64") => "gcc",
                ("linux", "arm64") => "aarch64-linux-gnu-gcc",
                ("windows", "x64") => "x86_64-w64-mingw32-gcc",
                _ => throw new ArgumentException($"no proof compiler is known for {os}/{arch}"),
            };
            var probe = Run(compiler, ["-print-file-name=include"], null, missingOk: true)
                ?? throw new ProofUnavailableException($"{compiler} is not installed (eng/setup.sh installs it)");
            builtin = probe.StdOut.Trim();
            if (!Directory.Exists(builtin))
            {
                throw new ProofUnavailableException($"{compiler} reports no builtin include folder ('{builtin}')");
            }
            flags.Add("-fmax-errors=0");
        }
        if (!File.Exists(compiler) && os == "darwin")
        {
            throw new ProofUnavailableException($"zig is not unpacked at {compiler}");
        }
        flags.Add("-nostdinc");
        flags.AddRange(new[] { builtin }.Concat(includes).SelectMany(d => new[] { "-isystem", d }));
        flags.AddRange(defines);
        var env = new Dictionary<string, string>();
        if (os == "darwin")
        {
            // zig caches per user by default; keep it beside the sysroots so CI and developers share one layout.
            string cache = Path.Combine(root, ".cache", "zig-cache");
            env["ZIG_GLOBAL_CACHE_DIR"] = cache;
            env["ZIG_LOCAL_CACHE_DIR"] = cache;
        }
        return new Toolchain(target, os, compiler, prefix, flags) { Environment = env };
    }

    /// <summary>Runs eng/headers.sh; exit 3 means a pinned package left the mirror, which the proof cannot fix.</summary>
    private static string HeadersScript(string root, params string[] args)
    {
        var r = Run(Path.Combine(root, "eng", "headers.sh"), args, root, missingOk: false)!;
        if (r.ExitCode == 3)
        {
            throw new ProofUnavailableException($"eng/headers.sh {string.Join(" ", args)}: {r.StdErr.Trim()}");
        }
        if (r.ExitCode != 0)
        {
            // Anything else is a fault of this repository or machine, not an absence: it must fail, not skip.
            throw new InvalidOperationException($"eng/headers.sh {string.Join(" ", args)} failed ({r.ExitCode}): {r.StdErr.Trim()}");
        }
        return r.StdOut.Trim().Split('\n').Last();
    }

    /// <summary>Runs a process to completion; null when the program does not exist and <paramref name="missingOk"/>.</summary>
    public static ProcessResult? Run(string program, IEnumerable<string> args, string? cwd, bool missingOk,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = cwd ?? System.Environment.CurrentDirectory,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        // Plain ASCII quotes in diagnostics, so the error parser does not depend on the locale.
        psi.Environment["LC_ALL"] = "C";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }
        Process p;
        try
        {
            p = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception) when (missingOk)
        {
            return null;
        }
        using (p)
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            // A proof file compiles in seconds; minutes mean a runaway (an exponentially expanding macro did once).
            if (!p.WaitForExit(TimeSpan.FromMinutes(5)))
            {
                p.Kill(entireProcessTree: true);
                throw new InvalidOperationException($"{program} {string.Join(" ", args)} did not finish in 5 minutes");
            }
            return new ProcessResult(p.ExitCode, stdout.Result, stderr.Result);
        }
    }

    /// <summary>The repository root: the nearest folder above <paramref name="start"/> holding eng/headers.sh.</summary>
    public static string FindRoot(string? start = null)
    {
        for (var d = new DirectoryInfo(start ?? System.Environment.CurrentDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "eng", "headers.sh")))
            {
                return d.FullName;
            }
        }
        throw new DirectoryNotFoundException($"no repository root (eng/headers.sh) above {start ?? System.Environment.CurrentDirectory}");
    }
}
