using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Syscalls.Generator.Facts;

namespace Syscalls.Generator.Tool.Scanner;

/// <summary>The repository's header inputs: targets, family lists, pins, and eng/headers.sh.</summary>
internal sealed class Repo(string root)
{
    // eng/headers.sh shares one download folder: never run two of it at once, even from two Repo objects.
    private static readonly object ScriptLock = new();

    // Sysroot paths are cached for the process: fetching is idempotent and costs a bash run (~1 s) each time.
    private static readonly Dictionary<string, string> Fetched = new(StringComparer.Ordinal);

    public string Root { get; } = root;
    public string HeadersDir => Path.Combine(Root, "headers");
    public string FactsDir => Path.Combine(HeadersDir, "facts");
    /// <summary>headers/families, unless a command overrides it (<c>--families</c>).</summary>
    public string FamiliesDir { get; set; } = Path.Combine(root, "headers", "families");
    public string TargetsDir => Path.Combine(HeadersDir, "targets");

    /// <summary>Walks up from <paramref name="start"/> to the folder holding Interop.sln or headers/.</summary>
    public static Repo Find(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Interop.sln"))
                || (Directory.Exists(Path.Combine(dir.FullName, "headers", "targets")) && File.Exists(Path.Combine(dir.FullName, "eng", "headers.sh"))))
            {
                return new Repo(dir.FullName);
            }
        }
        throw new ScanException($"no repository root (a folder with Interop.sln or headers/) above {start}", ScanException.Usage);
    }

    public IReadOnlyList<string> KnownTargets =>
        Directory.Exists(TargetsDir)
            ? Directory.GetFiles(TargetsDir, "*.target").Select(f => Path.GetFileNameWithoutExtension(f)!).OrderBy(t => t, StringComparer.Ordinal).ToList()
            : [];

    public TargetConfig Target(string name)
    {
        string path = Path.Combine(TargetsDir, name + ".target");
        if (!File.Exists(path))
        {
            throw new ScanException($"unknown target '{name}' (known: {string.Join(" ", KnownTargets)})", ScanException.Usage);
        }
        return TargetConfig.Read(path);
    }

    /// <summary>Every headers/families/*.api, sorted by family name; a malformed file is an input error.</summary>
    public IReadOnlyList<ApiFamily> Families()
    {
        if (!Directory.Exists(FamiliesDir))
        {
            return [];
        }
        var known = KnownTargets;
        try
        {
            return Directory.GetFiles(FamiliesDir, "*.api")
                .Select(f => ApiFamilyReader.Read(File.ReadAllText(f), Relative(f), known))
                .OrderBy(f => f.Name, StringComparer.Ordinal)
                .ToList();
        }
        catch (FactsFormatException e)
        {
            throw new ScanException(e.Message);
        }
    }

    /// <summary>The default kernel-header version from headers/pins.txt.</summary>
    public string DefaultKernel =>
        File.ReadLines(Path.Combine(HeadersDir, "pins.txt"))
            .Select(l => l.Split([' '], StringSplitOptions.RemoveEmptyEntries))
            .FirstOrDefault(w => w.Length == 2 && w[0] == "default-kernel")?[1]
        ?? throw new ScanException("headers/pins.txt has no default-kernel line");

    /// <summary>A path relative to the repository root when it is inside it (so messages are short and stable).</summary>
    public string Relative(string path)
    {
        string full = Path.GetFullPath(Path.Combine(Root, path));
        return full.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal) ? full.Substring(Root.Length + 1) : full;
    }

    /// <summary>The unpacked sysroot of a target (<c>eng/headers.sh fetch</c>).</summary>
    public string Sysroot(string target, string? kernel)
    {
        string key = Root + "|" + target + "|" + kernel;
        lock (Fetched)
        {
            if (!Fetched.TryGetValue(key, out var path))
            {
                var args = new List<string> { "fetch", target };
                if (kernel is not null)
                {
                    args.Add("--kernel");
                    args.Add(kernel);
                }
                Fetched[key] = path = HeadersScript(args);
            }
            return path;
        }
    }

    /// <summary>clang's builtin include folder matching the libclang version (<c>eng/headers.sh clang</c>).</summary>
    public string ClangInclude()
    {
        lock (Fetched)
        {
            string key = Root + "|clang";
            if (!Fetched.TryGetValue(key, out var path))
            {
                Fetched[key] = path = HeadersScript(["clang"]);
            }
            return path;
        }
    }

    public void MovePins(string kernel)
    {
        HeadersScript(["pin", "--kernel", kernel]);
        lock (Fetched)
        {
            Fetched.Clear(); // the pins moved: what was fetched before may be stale
        }
    }

    /// <summary>Runs eng/headers.sh; its exit code 3 (pin gone) and 2 (usage) pass through with its message.</summary>
    private string HeadersScript(IReadOnlyList<string> args)
    {
        lock (ScriptLock)
        {
            return RunScript(args);
        }
    }

    private string RunScript(IReadOnlyList<string> args)
    {
        var psi = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Root,
        };
        psi.ArgumentList.Add(Path.Combine(Root, "eng", "headers.sh"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var process = Process.Start(psi) ?? throw new ScanException("could not start bash for eng/headers.sh");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        string err = stderr.Result.Trim();
        if (process.ExitCode != 0)
        {
            int code = process.ExitCode switch { 3 => ScanException.PinGone, 2 => ScanException.Usage, _ => ScanException.InputError };
            throw new ScanException($"eng/headers.sh {string.Join(" ", args)} failed (exit {process.ExitCode}): {(err.Length > 0 ? err : "no message")}", code);
        }
        string last = stdout.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.Length > 0) ?? "";
        return last;
    }
}
