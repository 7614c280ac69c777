using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Numerics;
using System.Text.RegularExpressions;
using Syscalls.Generator.Facts;

namespace Syscalls.Generator.Tool.Proof;

/// <summary>Every claim about one target's emitted items, ready to be compiled.</summary>
public sealed record ProofPlan(string Target, IReadOnlyList<ProofItem> Items, IReadOnlyList<string> Headers);

/// <summary>
/// Plans the claims for one target and has its compiler judge them. A claim the compiler rejects is removed and the
/// file compiled again until it compiles, so one wrong item never hides the verdict on the others; the rejected
/// claims are then compiled once more in a file that makes the compiler print their C values.
/// </summary>
public static partial class ProofRunner
{
    [GeneratedRegex(@"^(?<file>.+?):(?<line>\d+):(?:\d+:)? (?<sev>fatal error|error|warning|note): (?<msg>.*)$")]
    private static partial Regex Diagnostic();

    [GeneratedRegex(@"char \(\*\)\[(?<n>\d+)\](?:\[(?<neg>\d+)\])?")]
    private static partial Regex RevealedType();

    /// <summary>The claims for every item of <paramref name="emitted"/>, matched to <paramref name="facts"/> by name.</summary>
    public static ProofPlan Plan(EmittedAssembly emitted, AbiFacts facts, IReadOnlyList<string> headers)
    {
        var constants = new ConstantClaims(facts, emitted);
        var items = new RecordClaims(facts, emitted).Build()
            .Concat(constants.Build())
            .Concat(new FunctionClaims(facts, emitted).Build())
            .Concat(new FunctionPointerTypeClaims(facts, emitted).Build())
            .ToList();
        var allHeaders = headers.ToList();
        if (constants.NeedsSyscallHeader && !allHeaders.Contains("sys/syscall.h"))
        {
            allHeaders.Add("sys/syscall.h");
        }
        return new ProofPlan(facts.Target, items, allHeaders);
    }

    /// <summary>The headers of every API family the facts were scanned with, for this target, in family order.</summary>
    public static IReadOnlyList<string> FamilyHeaders(string root, AbiFacts facts)
    {
        var headers = new List<string>();
        foreach (var name in facts.Provenance.Families)
        {
            string path = Path.Combine(root, "headers", "families", name + ".api");
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"the facts name family '{name}' but {path} does not exist");
            }
            var family = ApiFamilyReader.ReadFile(path);
            foreach (var h in family.HeadersFor(facts.Target, facts.Provenance.Os))
            {
                if (!headers.Contains(h))
                {
                    headers.Add(h);
                }
            }
        }
        return headers;
    }

    /// <summary>Compiles the plan with <paramref name="toolchain"/>, writing the C file and its assembly to <paramref name="outDir"/>.</summary>
    public static ProofResult Run(ProofPlan plan, Toolchain toolchain, string outDir)
    {
        Directory.CreateDirectory(outDir);
        string source = Path.Combine(outDir, plan.Target + ".proof.c");
        string asm = Path.Combine(outDir, plan.Target + ".proof.s");
        string preamble = ProofSource.Preamble(plan.Target, plan.Headers);
        var dropped = new HashSet<object>();
        var rejected = new List<ProofCheck>();
        string? globalError = null;
        for (int round = 0; ; round++)
        {
            var src = ProofSource.Render(preamble, plan.Items, dropped);
            File.WriteAllText(source, src.Text);
            File.Delete(asm);
            var r = Compile(toolchain, source, asm);
            if (r.ExitCode == 0)
            {
                ReadProbes(src, File.ReadAllText(asm), toolchain.Target.EndsWith("arm64", StringComparison.Ordinal));
                break;
            }
            int before = dropped.Count;
            foreach (var (line, message) in Errors(r.Output, source))
            {
                if (src.CheckLines.TryGetValue(line, out var check) && dropped.Add(check))
                {
                    // gcc: "static assertion failed: ..."; clang: "static assertion failed due to requirement ...".
                    if (message.StartsWith("static assertion failed", StringComparison.Ordinal))
                    {
                        rejected.Add(check);
                    }
                    else
                    {
                        check.Item.Fail($"{check.Item.Name}: {check.Property}: the compiler rejects the claim: {message} ({check.Source})");
                    }
                }
                else if (src.ProbeLines.TryGetValue(line, out var probe) && dropped.Add(probe))
                {
                    probe.Item.Fail($"{probe.Item.Name}: {probe.Property}: the compiler rejects the probe: {message} ({probe.Source})");
                }
            }
            if (dropped.Count == before || round > 50)
            {
                // Nothing the compiler said points at a claim: the headers themselves do not compile here.
                globalError = r.Output.Trim();
                foreach (var item in plan.Items.Where(i => i.Unverifiable is null))
                {
                    item.Unverifiable = "the proof file does not compile for a reason no claim explains (see the compiler output)";
                }
                break;
            }
        }
        Explain(rejected, preamble, toolchain, outDir);
        return new ProofResult(plan.Target, plan.Items, source, toolchain.Describe()) { GlobalError = globalError };
    }

    private static ProcessResult Compile(Toolchain toolchain, string source, string output) =>
        Toolchain.Run(toolchain.Compiler, toolchain.CommandFor(source, output), Path.GetDirectoryName(source), missingOk: true, toolchain.Environment)
        ?? throw new ProofUnavailableException($"{toolchain.Compiler} is not installed (eng/setup.sh installs it)");

    /// <summary>Each error with the first line of <paramref name="source"/> it (or one of its notes) points at.</summary>
    private static IEnumerable<(int Line, string Message)> Errors(string output, string source)
    {
        string name = Path.GetFileName(source);
        string? message = null;
        int? line = null;
        foreach (var raw in output.Split('\n'))
        {
            var m = Diagnostic().Match(raw.TrimEnd('\r'));
            if (!m.Success)
            {
                continue;
            }
            bool inProof = Path.GetFileName(m.Groups["file"].Value) == name;
            if (m.Groups["sev"].Value is "error" or "fatal error")
            {
                if (message is not null && line is not null)
                {
                    yield return (line.Value, message);
                }
                message = m.Groups["msg"].Value;
                line = inProof ? int.Parse(m.Groups["line"].Value, CultureInfo.InvariantCulture) : null;
            }
            else if (m.Groups["sev"].Value == "note" && message is not null && line is null && inProof)
            {
                line = int.Parse(m.Groups["line"].Value, CultureInfo.InvariantCulture);   // "in expansion of macro" at our line
            }
        }
        if (message is not null && line is not null)
        {
            yield return (line.Value, message);
        }
    }

    private static void ReadProbes(ProofSource src, string asm, bool arm64)
    {
        foreach (var probe in src.ProbeLines.Values)
        {
            var bytes = AssemblyData.Read(asm, probe.Symbol, probe.Expected.Length, arm64);
            if (bytes is null)
            {
                probe.Item.Fail($"{probe.Item.Name}: {probe.Property}: {probe.Symbol} has fewer than {probe.Expected.Length} bytes in the assembly (the C object has another size)");
                continue;
            }
            bool same = bytes.Select((b, i) => (b & probe.Mask[i]) == (probe.Expected[i] & probe.Mask[i])).All(x => x);
            if (!same)
            {
                probe.Item.Fail(probe.Describe(bytes));
            }
        }
    }

    /// <summary>Turns each failed static assertion into "C has X, expected Y" by making the compiler print X.</summary>
    private static void Explain(List<ProofCheck> rejected, string preamble, Toolchain toolchain, string outDir)
    {
        var revealable = rejected.Where(c => c.Revealable).ToList();
        var values = new Dictionary<ProofCheck, string>();
        if (revealable.Count > 0)
        {
            var (text, lines) = ProofSource.Reveal(preamble, revealable);
            string file = Path.Combine(outDir, toolchain.Target + ".reveal.c");
            File.WriteAllText(file, text);
            var r = Compile(toolchain, file, Path.Combine(outDir, toolchain.Target + ".reveal.s"));
            var high = new Dictionary<ProofCheck, (BigInteger Value, bool Negative)>();
            var low = new Dictionary<ProofCheck, BigInteger>();
            foreach (var (line, message) in Errors(r.Output, file))
            {
                var m = RevealedType().Match(message);
                if (m.Success && lines.TryGetValue(line, out var at))
                {
                    var n = BigInteger.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture) - 1;
                    if (at.High)
                    {
                        high[at.Check] = (n, m.Groups["neg"].Value == "2");
                    }
                    else
                    {
                        low[at.Check] = n;
                    }
                }
            }
            foreach (var (check, (hi, negative)) in high)
            {
                if (low.TryGetValue(check, out var lo))
                {
                    var abs = hi * (BigInteger.One << 32) + lo;
                    values[check] = (negative ? -abs : abs).ToString(CultureInfo.InvariantCulture);
                }
            }
        }
        foreach (var c in rejected)
        {
            c.Item.Fail(values.TryGetValue(c, out var actual)
                ? $"{c.Item.Name}: {c.Property}: C has {actual}, expected {c.ExpectedDisplay} ({c.Source})"
                : $"{c.Item.Name}: {c.Property}: false in C ({c.Source})");
        }
    }
}
