using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Syscalls.Generator.Facts;
using Syscalls.Generator.Tool.Proof;

namespace Syscalls.Generator.Tool.Commands;

/// <summary>
/// <c>proof --rid RID --assembly PATH [--facts FILE] [--out DIR] [--repo DIR] [--sysroot DIR]</c>: proves one RID's
/// built bindings against its real headers with an independent C compiler and prints the coverage.
/// Exit codes: 0 every emitted item verified, 1 C disagrees with an emitted item, 2 usage or input error, 3 compiler or pinned
/// headers unavailable, 4 nothing disagrees but some items could not be verified.
/// </summary>
public static class ProofCommand
{
    public const int Disagrees = 1, Usage = 2, Unavailable = 3, Incomplete = 4;

    public const string Help = """
        proof --rid RID --assembly PATH [--facts FILE] [--out DIR] [--repo DIR] [--sysroot DIR]
               compile a C file of _Static_asserts (size, alignment, offsets, constants, prototypes of everything
               the RID's Syscalls.Bindings.dll emits) with the target's own compiler against the pinned headers;
               print emitted vs verified per kind. Defaults: --facts headers/facts/RID.abi, --out artifacts/proof/RID
               exit codes: 0 all verified, 1 C disagrees, 2 usage/input error, 3 compiler/headers unavailable, 4 some unverified
        """;

    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter err)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (a is "-h" or "--help")
            {
                stdout.WriteLine(Help);
                return 0;
            }
            if (!a.StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Count
                || a is not ("--rid" or "--assembly" or "--facts" or "--out" or "--repo" or "--sysroot"))
            {
                err.WriteLine($"error: proof: unexpected argument '{a}'\n{Help}");
                return Usage;
            }
            values[a.Substring(2)] = args[++i];
        }
        if (!values.TryGetValue("rid", out var rid) || !values.TryGetValue("assembly", out var assembly))
        {
            err.WriteLine($"error: proof needs --rid and --assembly\n{Help}");
            return Usage;
        }
        if (!File.Exists(assembly))
        {
            err.WriteLine($"error: proof: {assembly} does not exist (build bindings/Syscalls.Bindings for {rid} first)");
            return Usage;
        }
        try
        {
            string root = values.TryGetValue("repo", out var repo) ? Path.GetFullPath(repo) : Toolchain.FindRoot();
            string outDir = values.TryGetValue("out", out var o) ? Path.GetFullPath(o) : Path.Combine(root, "artifacts", "proof", rid);
            var result = ProofPipeline.Prove(root, rid, Path.GetFullPath(assembly), values.GetValueOrDefault("facts"), outDir,
                sysroot: values.GetValueOrDefault("sysroot"));
            string report = ProofReport.Format(result);
            File.WriteAllText(Path.Combine(outDir, rid + ".coverage.txt"), report);
            stdout.Write(report);
            return result.Failed.Any() || result.GlobalError is not null ? Disagrees : result.AllVerified ? 0 : Incomplete;
        }
        catch (ProofUnavailableException e)
        {
            err.WriteLine($"error: proof {rid} cannot run here: {e.Message}");
            return Unavailable;
        }
        catch (Exception e) when (e is FileNotFoundException or ArgumentException or FactsFormatException or BadImageFormatException or InvalidOperationException)
        {
            err.WriteLine($"error: proof {rid}: {e.Message}");
            return Usage;
        }
    }
}
