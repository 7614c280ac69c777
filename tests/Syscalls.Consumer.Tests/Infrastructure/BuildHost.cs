using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using Xunit;

namespace Syscalls.Consumer.Tests.Infrastructure;

/// <summary>The machine this project was built on, for the tests that run the .NET SDK (builds of consumer projects)
/// or read the repository's sources: they run there, and skip, saying so, under Wine and qemu.</summary>
public static class BuildHost
{
    /// <summary>The Syscalls.Bindings version this test assembly was built against (eng/consumer.sh packed
    /// it).</summary>
    public static string PackageVersion { get; } = Metadata("SyscallsPackageVersion");

    /// <summary>The repository: the first folder above this assembly with samples/RawEcho in it.</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>artifacts/packages: the feed the consumer projects restore Syscalls.Bindings from.</summary>
    public static string Feed => Path.Combine(RepoRoot, "artifacts", "packages");

    /// <summary>The private packages folder of the consumer projects (eng/consumer.sh clears its Syscalls.Bindings when
    /// it packs again).</summary>
    public static string PackagesFolder => Path.Combine(RepoRoot, "artifacts", "consumer", "packages");

    /// <summary>Skips unless this process runs natively on the machine it was built for, with the SDK and the sources
    /// at hand; <paramref name="what"/> says what the test does there.</summary>
    public static void Require(string what = "runs the .NET SDK")
    {
        string built = Metadata("BuildHostRid");
        Assert.SkipUnless(RuntimeInformation.RuntimeIdentifier == built
            && Environment.GetEnvironmentVariable("SYSCALLS_TEST_NO_CHILDREN") is null,
            $"{what} on the build host ({built}), not under an emulator ({RuntimeInformation.RuntimeIdentifier})");
    }

    /// <summary>Runs <c>dotnet</c> with <paramref name="args"/>; its exit code and its output (stdout, then stderr).
    /// <paramref name="environment"/> adds to the inherited environment.</summary>
    public static (int Exit, string Output) Dotnet(IEnumerable<string> args, string workingDirectory,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        foreach (string a in args)
            psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        // A build of a consumer must not read the version eng/consumer.sh exported for this project's own build.
        psi.Environment.Remove("SyscallsPackageVersion");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            psi.Environment[name] = value;
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }

    /// <summary>The "N Warning(s)" and "N Error(s)" counts of a build's summary; -1 for a count it does not
    /// print.</summary>
    public static (int Warnings, int Errors) Summary(string output)
    {
        static int Count(string output, string what)
        {
            var m = Regex.Matches(output, @"^\s*(\d+) " + what + @"\(s\)\s*$",
                RegexOptions.Multiline);
            return m.Count == 0 ? -1 : int.Parse(m[^1].Groups[1].Value, CultureInfo.InvariantCulture);
        }
        return (Count(output, "Warning"), Count(output, "Error"));
    }

    /// <summary>Which RID's build of Syscalls.Bindings a DLL is: its stubs for other OSes' functions say
    /// "... this is the RID build of Syscalls.Bindings." (UTF-16 string literals).</summary>
    public static IReadOnlySet<string> BindingsBuildOf(string dll)
    {
        string text = Encoding.Unicode.GetString(File.ReadAllBytes(dll));
        return Regex.Matches(text, @"this is the ([a-z0-9-]+) build of Syscalls\.Bindings")
            .Select(m => m.Groups[1].Value).ToHashSet();
    }

    private static string Metadata(string key) =>
        typeof(BuildHost).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == key)?.Value
        ?? throw new InvalidOperationException($"no AssemblyMetadata {key} (Syscalls.Consumer.Tests.csproj writes it)");

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (Directory.Exists(Path.Combine(dir.FullName, "samples", "RawEcho")))
                return dir.FullName;
        }
        return "";
    }
}
