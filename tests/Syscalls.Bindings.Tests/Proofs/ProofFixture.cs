using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using Syscalls.Generator.Tool.Proof;
using Xunit;

namespace Syscalls.Bindings.Tests.Proofs;

/// <summary>
/// Finds what a proof needs: the repository, each RID's built Syscalls.Bindings.dll and its facts, and runs the
/// proof, turning "cannot run here" into Assert.Skip with the reason (never a silent pass).
/// </summary>
internal static class ProofFixture
{
    public static readonly string[] Rids = ["linux-x64", "linux-arm64", "osx-x64", "osx-arm64", "win-x64"];

    public static string Root { get; } = Toolchain.FindRoot(AppContext.BaseDirectory);

    /// <summary>The configuration this test assembly was built in; the bindings are looked for in the same one first.</summary>
    private static string Configuration =>
        typeof(ProofFixture).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    /// <summary>
    /// The per-RID implementation assembly the bindings project built (bin/&lt;Config&gt;/.../&lt;rid&gt;/...), or
    /// the one named by SYSCALLS_BINDINGS_&lt;RID&gt; (dashes as underscores). Fails with the places searched.
    /// </summary>
    public static string BindingsAssembly(string rid)
    {
        string env = "SYSCALLS_BINDINGS_" + rid.Replace('-', '_').ToUpperInvariant();
        if (Environment.GetEnvironmentVariable(env) is { Length: > 0 } given)
        {
            Assert.True(File.Exists(given), $"{env}={given} does not exist");
            return given;
        }
        string bin = Path.Combine(Root, "bindings", "Syscalls.Bindings", "bin");
        // The RID's own build: bin/<config>/<rid>/net10.0. Publishing a test project for a RID also leaves builds of the
        // other RIDs' bindings under bin/<config>/<other>/net10.0/<rid>/, newer but not this RID's layout.
        string canonical = Path.Combine(bin, Configuration, rid, "net10.0", "Syscalls.Bindings.dll");
        if (File.Exists(canonical))
        {
            return canonical;
        }
        var candidates = Directory.Exists(bin)
            ? Directory.EnumerateFiles(bin, "Syscalls.Bindings.dll", SearchOption.AllDirectories)
                .Where(p => PathSegments(p).Contains(rid) && !PathSegments(p).Contains("ref"))
                .OrderByDescending(p => PathSegments(p).Contains(Configuration))
                .ThenByDescending(File.GetLastWriteTimeUtc)
                .ToList()
            : [];
        Assert.True(candidates.Count > 0,
            $"no Syscalls.Bindings.dll for {rid} under {bin}: build bindings/Syscalls.Bindings (it builds every RID) or set {env}");
        return candidates[0];
    }

    private static IReadOnlyList<string> PathSegments(string path) =>
        path.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);

    public static string Facts(string rid)
    {
        string path = Path.Combine(Root, "headers", "facts", rid + ".abi");
        Assert.True(File.Exists(path), $"no facts for {rid}: {path} (./build.sh regen writes them)");
        return path;
    }

    /// <summary>The items of <paramref name="rid"/> that Proofs/unverifiable.txt accepts as unverifiable.</summary>
    public static IReadOnlySet<string> AcceptedUnverifiable(string rid)
    {
        string path = Path.Combine(Root, "tests", "Syscalls.Bindings.Tests", "Proofs", "unverifiable.txt");
        return File.ReadAllLines(path)
            .Select(l => l.Split('#', 2)[0].Trim())
            .Where(l => l.StartsWith(rid + " ", StringComparison.Ordinal))
            .Select(l => l.Substring(rid.Length + 1).Trim())
            .ToHashSet(StringComparer.Ordinal);
    }

    public static string OutDir(string name) => Path.Combine(Root, "artifacts", "proof", name);

    /// <summary>Runs the proof; a missing compiler or a pinned header package gone from the mirror skips the test.</summary>
    public static ProofResult Prove(string rid, string outDir, Func<EmittedAssembly, EmittedAssembly>? tamper = null)
    {
        // The proofs drive Debian's cross compilers, zig and eng/headers.sh: they run on the Linux build host, not
        // inside the published win-x64 (Wine) or linux-arm64 (qemu) test runs.
        if (!OperatingSystem.IsLinux() || !System.Runtime.InteropServices.RuntimeInformation.OSArchitecture.Equals(System.Runtime.InteropServices.Architecture.X64))
        {
            Assert.Skip($"the {rid} proof runs on the linux-x64 build host only (this run: {System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier})");
        }
        string assembly = BindingsAssembly(rid);
        string facts = Facts(rid);
        try
        {
            var result = ProofPipeline.Prove(Root, rid, assembly, facts, outDir, tamper);
            string report = ProofReport.Format(result);
            File.WriteAllText(Path.Combine(outDir, rid + ".coverage.txt"), report);
            TestContext.Current.TestOutputHelper?.WriteLine(report);
            return result;
        }
        catch (ProofUnavailableException e)
        {
            Assert.Skip($"the {rid} proof cannot run on this machine: {e.Message}");
            throw;   // unreachable: Assert.Skip throws
        }
    }
}
