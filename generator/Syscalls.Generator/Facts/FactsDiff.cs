using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace Syscalls.Generator.Facts;

public enum ChangeKind
{
    Added,
    Removed,
    Changed,
}

/// <summary>One difference: <see cref="Kind"/> is the fact kind (<c>const</c>, <c>enumerator</c>, <c>struct</c>, ...).</summary>
public sealed record FactChange(string Kind, string Name, ChangeKind Change, string Detail)
{
    public override string ToString() =>
        (Change switch { ChangeKind.Added => "+ ", ChangeKind.Removed => "- ", _ => "~ " }) + Name + (Detail.Length > 0 ? ": " + Detail : "");
}

/// <summary>
/// What changed between two fact sets of one target (a kernel-header upgrade, a pin move): constants,
/// enumerators (new IORING_OP_* opcodes), functions, records whose size/alignment/field offsets moved, syscalls.
/// Docs and <c>file=</c>/<c>family=</c> moves are ignored: they do not change the ABI.
/// </summary>
public sealed class FactsDiff
{
    private static readonly string[] KindOrder = ["struct", "union", "enum", "enumerator", "typedef", "func", "const", "guid", "syscall"];

    private FactsDiff(AbiFacts before, AbiFacts after, List<FactChange> changes)
    {
        Before = before;
        After = after;
        Changes = changes;
    }

    public AbiFacts Before { get; }
    public AbiFacts After { get; }

    /// <summary>Grouped by kind (file order of FORMAT.md), then by name.</summary>
    public IReadOnlyList<FactChange> Changes { get; }

    public bool IsEmpty => Changes.Count == 0;

    public static FactsDiff Compare(AbiFacts before, AbiFacts after)
    {
        var changes = new List<FactChange>();
        Keyed(changes, before.Records, after.Records, r => r.Name, r => r.IsUnion ? "union" : "struct", DescribeRecord, RecordChange);
        Keyed(changes, before.Enums, after.Enums, e => e.Name, _ => "enum", e => $"underlying {e.Underlying}, {e.Enumerators.Count} enumerators",
            (a, b) => a.Underlying.Equals(b.Underlying) ? null : $"underlying {a.Underlying} -> {b.Underlying}");
        Keyed(changes, Enumerators(before), Enumerators(after), x => x.Name, _ => "enumerator", x => "= " + x.Value,
            (a, b) => a.Value == b.Value ? null : $"{a.Value} -> {b.Value}");
        Keyed(changes, before.Typedefs, after.Typedefs, t => t.Name, _ => "typedef", t => t.Type.ToString(),
            (a, b) => a.Type.Equals(b.Type) ? null : $"{a.Type} -> {b.Type}");
        Keyed(changes, before.Functions, after.Functions, f => f.Name, _ => "func", Signature,
            (a, b) => Signature(a) == Signature(b) ? null : $"{Signature(a)} -> {Signature(b)}");
        Keyed(changes, before.Constants, after.Constants, c => c.Name, _ => "const", c => $"= {c.Value} ({c.DeclaredType})",
            (a, b) => a.Value == b.Value && a.DeclaredType.Equals(b.DeclaredType) ? null : $"{a.Value} ({a.DeclaredType}) -> {b.Value} ({b.DeclaredType})");
        Keyed(changes, before.Guids, after.Guids, g => g.Name, _ => "guid", g => g.Value.ToString("D"),
            (a, b) => a.Value == b.Value ? null : $"{a.Value:D} -> {b.Value:D}");
        Keyed(changes, before.Syscalls, after.Syscalls, s => s.Name, _ => "syscall", s => "= " + s.Number.ToString(CultureInfo.InvariantCulture),
            (a, b) => a.Number == b.Number ? null : $"{a.Number} -> {b.Number}");
        var ordered = changes.OrderBy(c => Array.IndexOf(KindOrder, c.Kind)).ThenBy(c => c.Name, StringComparer.Ordinal).ToList();
        return new FactsDiff(before, after, ordered);
    }

    /// <summary>A readable per-target summary: provenance moves, then counts and items per kind.</summary>
    public override string ToString()
    {
        var s = new StringBuilder();
        var a = Before.Provenance;
        var b = After.Provenance;
        s.Append(b.Target);
        if (a.Target != b.Target)
        {
            s.Append(" (was ").Append(a.Target).Append(')');
        }
        if (a.Kernel != b.Kernel)
        {
            s.Append(": kernel headers ").Append(a.Kernel ?? "-").Append(" -> ").Append(b.Kernel ?? "-");
        }
        s.Append('\n');
        foreach (var p in a.Packages.Except(b.Packages))
        {
            s.Append("  package - ").Append(p).Append('\n');
        }
        foreach (var p in b.Packages.Except(a.Packages))
        {
            s.Append("  package + ").Append(p).Append('\n');
        }
        if (a.LibclangVersion != b.LibclangVersion)
        {
            s.Append("  libclang ").Append(a.LibclangVersion).Append(" -> ").Append(b.LibclangVersion).Append('\n');
        }
        if (IsEmpty)
        {
            return s.Append("  no ABI changes\n").ToString();
        }
        foreach (var group in Changes.GroupBy(c => c.Kind))
        {
            int added = group.Count(c => c.Change == ChangeKind.Added);
            int removed = group.Count(c => c.Change == ChangeKind.Removed);
            int changed = group.Count(c => c.Change == ChangeKind.Changed);
            s.Append("  ").Append(group.Key).Append(": ").Append(added).Append(" added, ").Append(removed).Append(" removed, ")
                .Append(changed).Append(" changed\n");
            foreach (var c in group)
            {
                s.Append("    ").Append(c).Append('\n');
            }
        }
        return s.ToString();
    }

    private static void Keyed<T>(List<FactChange> into, IEnumerable<T> before, IEnumerable<T> after, Func<T, string> name,
        Func<T, string> kind, Func<T, string> describe, Func<T, T, string?> compare)
    {
        var old = before.GroupBy(name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var now = after.GroupBy(name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        foreach (var pair in old)
        {
            string key = pair.Key;
            var a = pair.Value;
            if (!now.TryGetValue(key, out var b))
            {
                into.Add(new FactChange(kind(a), key, ChangeKind.Removed, describe(a)));
            }
            else if (compare(a, b) is { } detail)
            {
                into.Add(new FactChange(kind(b), key, ChangeKind.Changed, detail));
            }
        }
        foreach (var pair in now.Where(n => !old.ContainsKey(n.Key)))
        {
            into.Add(new FactChange(kind(pair.Value), pair.Key, ChangeKind.Added, describe(pair.Value)));
        }
    }

    private static IEnumerable<EnumeratorFact> Enumerators(AbiFacts facts) =>
        facts.Enums.SelectMany(e => e.Enumerators.Select(x => x with { Name = e.Name + "." + x.Name }));

    private static string DescribeRecord(RecordFact r) => $"size {r.Size}, align {r.Align}{(r.IsPacked ? ", packed" : "")}, {r.Fields.Count} fields";

    private static string? RecordChange(RecordFact a, RecordFact b)
    {
        var parts = new List<string>();
        if (a.Size != b.Size)
        {
            parts.Add($"size {a.Size} -> {b.Size}");
        }
        if (a.Align != b.Align)
        {
            parts.Add($"align {a.Align} -> {b.Align}");
        }
        if (a.IsPacked != b.IsPacked)
        {
            parts.Add(b.IsPacked ? "now packed" : "no longer packed");
        }
        var old = a.Fields.GroupBy(f => f.Name).ToDictionary(g => g.Key, g => g.First());
        var now = b.Fields.GroupBy(f => f.Name).ToDictionary(g => g.Key, g => g.First());
        foreach (var f in b.Fields.Where(f => !old.ContainsKey(f.Name)))
        {
            parts.Add($"field + {f.Name} {Where(f)}");
        }
        foreach (var f in a.Fields.Where(f => !now.ContainsKey(f.Name)))
        {
            parts.Add($"field - {f.Name} {Where(f)}");
        }
        foreach (var f in b.Fields.Where(f => old.ContainsKey(f.Name)))
        {
            var o = old[f.Name];
            if (Where(o) != Where(f))
            {
                parts.Add($"field {f.Name} {Where(o)} -> {Where(f)}");
            }
        }
        return parts.Count == 0 ? null : string.Join("; ", parts);
    }

    private static string Where(FieldFact f) =>
        $"{f.Type}@{f.Offset}" + (f.BitWidth is { } w ? $" bits {f.BitOffset}:{w}" : "") + (f.Size > 0 || f.IsFlexible ? $" size {f.Size}" : "");

    private static string Signature(FunctionFact f) =>
        $"{f.Return} ({string.Join(", ", f.Parameters.Select(p => p.Type.ToString()))}{(f.IsVariadic ? ", ..." : "")})"
        + (f.CallConv == CallConv.C ? "" : " " + FactsWriter.CallConvName(f.CallConv));
}
