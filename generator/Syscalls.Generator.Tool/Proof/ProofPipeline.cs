using System;
using System.IO;
using Syscalls.Generator.Facts;

namespace Syscalls.Generator.Tool.Proof;

/// <summary>The whole proof for one RID, from a built bindings assembly to a coverage report.</summary>
public static class ProofPipeline
{
    /// <summary>
    /// Reads <paramref name="assembly"/>, matches it with the facts of <paramref name="rid"/>, and compiles the claims
    /// with that target's compiler. <paramref name="tamper"/> lets a test change what the assembly is said to
    /// declare, to prove that a wrong expectation fails. Throws <see cref="ProofUnavailableException"/> when the
    /// compiler or the pinned headers are not there.
    /// </summary>
    public static ProofResult Prove(string root, string rid, string assembly, string? factsPath, string outDir,
        Func<EmittedAssembly, EmittedAssembly>? tamper = null, string? sysroot = null)
    {
        factsPath ??= Path.Combine(root, "headers", "facts", rid + ".abi");
        if (!File.Exists(factsPath))
        {
            throw new FileNotFoundException($"no facts for {rid}: {factsPath} does not exist (./build.sh regen writes it)");
        }
        var facts = FactsReader.ReadFile(factsPath);
        if (facts.Target != rid)
        {
            throw new ArgumentException($"{factsPath} is for {facts.Target}, not {rid}");
        }
        var emitted = AssemblyReader.Read(assembly);
        if (tamper is not null)
        {
            emitted = tamper(emitted);
        }
        // A RID's assembly declares every OS's public API; its ABI is what lives in its own OS's namespace.
        string ns = "Syscalls." + facts.Provenance.Os switch { "linux" => "Linux", "darwin" => "Darwin", _ => "Windows" };
        var scoped = emitted.In(ns);
        var plan = ProofRunner.Plan(scoped, facts, ProofRunner.FamilyHeaders(root, facts));
        var toolchain = Toolchain.For(root, rid, sysroot);
        return ProofRunner.Run(plan, toolchain, outDir) with { Scope = ns, OutOfScope = emitted.Count - scoped.Count };
    }
}
