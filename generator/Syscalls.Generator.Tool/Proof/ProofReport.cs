using System;
using System.Linq;
using System.Text;

namespace Syscalls.Generator.Tool.Proof;

/// <summary>Prints a <see cref="ProofResult"/>: coverage per kind, then every failure and every unverified item.</summary>
public static class ProofReport
{
    public static string Format(ProofResult result)
    {
        var s = new StringBuilder();
        s.Append("proof ").Append(result.Target).Append(": ").Append(result.SourcePath).Append('\n');
        s.Append("  compiler: ").Append(result.CompilerCommand).Append('\n');
        if (result.Scope.Length > 0)
        {
            s.Append("  scope: ").Append(result.Scope).Append($" ({result.OutOfScope} items of other OSes' namespaces are proven by their own RIDs)\n");
        }
        foreach (var c in result.Coverage)
        {
            s.Append("  ").Append(c).Append(c.Emitted == c.Verified ? "" : $"   ({c.Emitted - c.Verified} not)").Append('\n');
        }
        int emitted = result.Items.Count, verified = result.Items.Count(i => i.IsVerified);
        s.Append($"  {"total",-10} {verified,6} / {emitted,-6} verified\n");
        var failed = result.Failed.ToList();
        if (failed.Count > 0)
        {
            s.Append($"FAILED ({failed.Count} items: C disagrees with what was emitted)\n");
            foreach (var f in failed.SelectMany(i => i.Failures))
            {
                s.Append("  ").Append(f).Append('\n');
            }
        }
        var unverified = result.Unverified.ToList();
        if (unverified.Count > 0)
        {
            s.Append($"UNVERIFIED ({unverified.Count} items: emitted, but no claim could be put to the compiler)\n");
            foreach (var u in unverified)
            {
                s.Append("  ").Append(u).Append(": ").Append(u.Unverifiable ?? "no claim").Append('\n');
            }
        }
        if (result.GlobalError is not null)
        {
            s.Append("COMPILER OUTPUT (not tied to any claim)\n").Append(result.GlobalError).Append('\n');
        }
        if (failed.Count == 0 && unverified.Count == 0 && result.GlobalError is null)
        {
            s.Append("OK: every emitted item verified\n");
        }
        return s.ToString();
    }
}
