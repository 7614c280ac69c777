using System;
using System.Collections.Generic;
using System.Linq;

namespace Syscalls.Generator.Tool.Proof;

public enum ItemKind
{
    Struct,
    Field,
    Constant,
    Function,
}

/// <summary>
/// One emitted item (a struct, a field, a constant, a P/Invoke) and the claims made about it. It is verified when it
/// has at least one claim, every claim held, and nothing made it unverifiable.
/// </summary>
public sealed class ProofItem(ItemKind kind, string name)
{
    private readonly List<string> _failures = [];

    public ItemKind Kind { get; } = kind;

    /// <summary>The C-side name: <c>struct epoll_event</c>, <c>epoll_event.data</c>, <c>EPOLLIN</c>, <c>epoll_wait</c>.</summary>
    public string Name { get; } = name;

    public List<ProofCheck> Checks { get; } = [];

    public List<ProbeCheck> Probes { get; } = [];

    /// <summary>Why the item cannot be checked at all (no fact, no C spelling, unreadable IL); null when it can.</summary>
    public string? Unverifiable { get; set; }

    public IReadOnlyList<string> Failures => _failures;

    public bool IsVerified => Unverifiable is null && _failures.Count == 0 && (Checks.Count + Probes.Count) > 0;

    public void Fail(string why) => _failures.Add(why);

    public override string ToString() => Kind == ItemKind.Struct
        ? (Name.StartsWith("struct ", StringComparison.Ordinal) || Name.StartsWith("union ", StringComparison.Ordinal) ? Name : "record " + Name)
        : $"{Kind.ToString().ToLowerInvariant()} {Name}";
}

/// <summary>
/// One <c>_Static_assert((Actual) == (Expected))</c>: <paramref name="Actual"/> is a C expression the compiler
/// evaluates against the real headers, <paramref name="Expected"/> a literal taken from <paramref name="Source"/>.
/// </summary>
public sealed record ProofCheck(ProofItem Item, string Property, string Actual, string Expected, string Source)
{
    /// <summary>When true, the failure can be explained by printing the C value (an integer expression).</summary>
    public bool Revealable { get; init; } = true;

    /// <summary>
    /// A declaration to compile instead of the assertion (a redeclaration of a function with the facts' prototype:
    /// the compiler rejects it, "conflicting types", exactly when the two types are not compatible).
    /// </summary>
    public string? Declaration { get; init; }

    public string Message => Revealable
        ? $"{Item.Name}: {Property} == {ExpectedDisplay} ({Source})"
        : $"{Item.Name}: {Property} ({Source})";

    /// <summary>The expected value without the C literal's suffix and parentheses.</summary>
    public string ExpectedDisplay => Expected.Trim('(', ')').Replace("ULL", "").Replace("LL", "");
}

/// <summary>
/// A claim the compiler cannot decide in a constant expression (bitfield bits, GUID bytes): a static object is
/// initialized in C and its bytes are read back from the assembly output. <see cref="Mask"/> selects the bytes and
/// bits that matter; <see cref="Expected"/> is what they must be.
/// </summary>
public sealed record ProbeCheck(ProofItem Item, string Property, string Symbol, string Declaration, byte[] Expected, byte[] Mask, string Source)
{
    /// <summary>Describe a mismatch as the bit ranges set (bitfields) rather than bytes (GUIDs).</summary>
    public bool AsBits { get; init; }

    public string Describe(byte[] actual) => AsBits
        ? $"{Item.Name}: {Property}: C sets bits {Bits(actual)} ({Source})"
        : $"{Item.Name}: {Property}: C has {Hex(actual)}, expected {Hex(Expected)} ({Source})";

    private static string Hex(byte[] bytes) => string.Join(" ", bytes.Select(b => b.ToString("x2")));

    private static string Bits(byte[] bytes)
    {
        var ranges = new List<string>();
        int total = bytes.Length * 8;
        for (int bit = 0; bit < total; bit++)
        {
            if ((bytes[bit / 8] & (1 << (bit % 8))) == 0)
            {
                continue;
            }
            int end = bit;
            while (end + 1 < total && (bytes[(end + 1) / 8] & (1 << ((end + 1) % 8))) != 0)
            {
                end++;
            }
            ranges.Add(end == bit ? $"{bit}" : $"{bit}..{end}");
            bit = end;
        }
        return ranges.Count == 0 ? "none" : string.Join(", ", ranges);
    }
}

/// <summary>Emitted vs verified for one kind of item.</summary>
public sealed record Coverage(ItemKind Kind, int Emitted, int Verified)
{
    public override string ToString() => $"{Kind.ToString().ToLowerInvariant() + "s",-10} {Verified,6} / {Emitted,-6} verified";
}

/// <summary>The outcome of a proof run for one target.</summary>
public sealed record ProofResult(string Target, IReadOnlyList<ProofItem> Items, string SourcePath, string CompilerCommand)
{
    public IReadOnlyList<Coverage> Coverage =>
        Enum.GetValues<ItemKind>()
            .Select(k => new Coverage(k, Items.Count(i => i.Kind == k), Items.Count(i => i.Kind == k && i.IsVerified)))
            .ToList();

    public IEnumerable<ProofItem> Failed => Items.Where(i => i.Failures.Count > 0);

    public IEnumerable<ProofItem> Unverified => Items.Where(i => i.Failures.Count == 0 && !i.IsVerified);

    public bool AllVerified => Items.All(i => i.IsVerified);

    /// <summary>The namespace whose items were proven (<c>Syscalls.Linux</c> for a Linux RID).</summary>
    public string Scope { get; init; } = "";

    /// <summary>Items the assembly declares in other OSes' namespaces: not this target's ABI, proven by their own RID.</summary>
    public int OutOfScope { get; init; }

    /// <summary>Compiler output that could not be tied to any item (a broken include, a compiler crash).</summary>
    public string? GlobalError { get; init; }
}
