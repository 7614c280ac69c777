using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Syscalls.Generator.Tool.Cli;
using Xunit;

namespace Syscalls.Generator.Tests.Scanner;

/// <summary>Runs the scanner's command line in-process against this repository.</summary>
internal static class ToolHarness
{
    public static string RepoRoot { get; } = FindRoot();

    public static string FixturesDir => Path.Combine(RepoRoot, "tests", "Syscalls.Generator.Tests", "Fixtures", "Scanner");

    public static bool UpdateGolden => Environment.GetEnvironmentVariable("SYSCALLS_UPDATE_GOLDEN") == "1";

    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
    }

    public static Result Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.Run([.. args, "--repo", RepoRoot], stdout, stderr);
        var result = new Result(code, stdout.ToString(), stderr.ToString());
        SkipIfPinGone(result);
        return result;
    }

    /// <summary>A pinned header package that the mirror no longer serves is not a scanner failure: skip, saying so.</summary>
    public static void SkipIfPinGone(Result result)
    {
        if (result.ExitCode == 3)
        {
            Assert.Skip("eng/headers.sh exit 3, a pinned header package is no longer served: " + result.Stderr.Trim());
        }
    }

    /// <summary>
    /// A throw-away repository with the linux-x64 target, one family, <paramref name="pins"/> as headers/pins.txt and
    /// <paramref name="headersScript"/> standing in for eng/headers.sh (to see how the tool calls it, or make it fail).
    /// </summary>
    public static string ThrowawayRepo(string pins, string headersScript)
    {
        string repo = TempDir();
        Directory.CreateDirectory(Path.Combine(repo, "eng"));
        Directory.CreateDirectory(Path.Combine(repo, "headers", "targets"));
        Directory.CreateDirectory(Path.Combine(repo, "headers", "families"));
        File.Copy(Path.Combine(RepoRoot, "headers", "targets", "linux-x64.target"), Path.Combine(repo, "headers", "targets", "linux-x64.target"));
        File.WriteAllText(Path.Combine(repo, "headers", "pins.txt"), pins);
        File.WriteAllText(Path.Combine(repo, "headers", "families", "x.api"), "family x\nheader sys/socket.h\nfunc socket\n");
        File.WriteAllText(Path.Combine(repo, "eng", "headers.sh"), headersScript);
        return repo;
    }

    public static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "syscalls-scan-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (Directory.Exists(Path.Combine(dir.FullName, "headers", "targets")) && File.Exists(Path.Combine(dir.FullName, "eng", "headers.sh")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("the tests run from inside the repository");
    }

    /// <summary>The options of a fixture header's first line: <c>// scan: --target linux-x64 ...</c>.</summary>
    public static IReadOnlyList<string> FixtureTargets(string header)
    {
        string first = File.ReadLines(header).First();
        const string marker = "// scan:";
        if (!first.StartsWith(marker, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{header}: the first line must be '{marker} --target T ...'");
        }
        var words = first.Substring(marker.Length).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return words.Select((w, i) => (w, i)).Where(p => p.w == "--target" && p.i + 1 < words.Length).Select(p => words[p.i + 1]).ToList();
    }

    /// <summary>Facts text without the <c>@package</c> lines, which move with the header pins, not with the scanner.</summary>
    public static string WithoutPackages(string facts) =>
        string.Join("\n", facts.Split('\n').Where(l => !l.StartsWith("@package ", StringComparison.Ordinal)));
}
