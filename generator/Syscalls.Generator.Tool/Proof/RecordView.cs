using System;
using System.Collections.Generic;
using System.Linq;
using Syscalls.Generator.Facts;

namespace Syscalls.Generator.Tool.Proof;

/// <summary>
/// How C reaches a record and its members. A named record is <c>struct NAME</c> (or the typedef it was asked for
/// by); a record that is the type of a named field of an unnamed type is <c>__typeof__(parent-&gt;field)</c>; an
/// anonymous member has no type name at all, so its members are reached through the record that holds it (C
/// flattens their names) and their offsets are taken relative to where the member starts.
/// </summary>
internal sealed class RecordView
{
    private readonly RecordView? _host;
    private readonly long _base;

    private RecordView(RecordFact fact, string? typeExpr, RecordView? host, long @base)
    {
        Fact = fact;
        TypeExpr = typeExpr;
        _host = host;
        _base = @base;
    }

    public RecordFact Fact { get; }

    /// <summary>A C type name for the record, or null for an anonymous member.</summary>
    public string? TypeExpr { get; }

    public bool IsAnonymous => TypeExpr is null;

    /// <summary>Offset of this anonymous member inside its host (0 for a record with a type name).</summary>
    public long Base => _base;

    public RecordView? Host => _host;

    /// <summary>An lvalue expression of the member (never evaluated: used under sizeof/typeof/_Generic).</summary>
    public string Member(string designator) =>
        TypeExpr is not null ? $"((({TypeExpr} *)0)->{designator})" : _host!.Member(designator);

    /// <summary>The member's offset relative to the start of this record.</summary>
    public string Offset(string designator) =>
        TypeExpr is not null ? $"offsetof({TypeExpr}, {designator})" : $"({_host!.Offset(designator)} - {_base})";

    /// <summary>The C-visible name: <c>struct sockaddr</c>, <c>OVERLAPPED</c>, or the synthesized name.</summary>
    public string Display => TypeExpr is not null && !TypeExpr.StartsWith("__typeof__", StringComparison.Ordinal) ? TypeExpr : Fact.Name;

    /// <summary>
    /// Builds the view of <paramref name="fact"/>; <paramref name="typedefName"/> is the name the C# struct carries
    /// when it is a typedef. Null (with <paramref name="why"/>) when C cannot reach the record.
    /// </summary>
    public static RecordView? Of(AbiFacts facts, RecordFact fact, string? typedefName, out string? why) =>
        new Builder(facts).Build(fact, typedefName, 0, out why);

    private sealed class Builder(AbiFacts facts)
    {
        public RecordView? Build(RecordFact fact, string? typedefName, int depth, out string? why)
        {
            why = null;
            if (depth > 16)
            {
                why = $"{fact.Name}: unnamed records nested too deep to follow";
                return null;
            }
            if (typedefName is not null)
            {
                return new RecordView(fact, typedefName, null, 0);
            }
            // A typedef of the record's own name is valid C whatever the tag is: glibc's fd_set is
            // `typedef struct { ... } fd_set;`, which has no `struct fd_set` at all.
            if (facts.FindTypedef(fact.Name) is { Type: RecordRefType self } && self.Name == fact.Name)
            {
                return new RecordView(fact, fact.Name, null, 0);
            }
            if (!fact.IsUnnamed)
            {
                return new RecordView(fact, fact.CName, null, 0);
            }
            // typedef struct { ... } NAME;
            var alias = facts.Typedefs.FirstOrDefault(t => t.Type is RecordRefType r && r.Name == fact.Name);
            if (alias is not null)
            {
                return new RecordView(fact, alias.Name, null, 0);
            }
            // A named field whose type is this unnamed record (possibly an array of it).
            foreach (var parent in facts.Records)
            {
                foreach (var f in parent.Fields)
                {
                    if (f.Type.Innermost is RecordRefType r && r.Name == fact.Name && !f.IsBitField)
                    {
                        var pv = Build(parent, null, depth + 1, out why);
                        if (pv is null)
                        {
                            return null;
                        }
                        string member = pv.Member(f.Name) + string.Concat(Enumerable.Repeat("[0]", CSpelling.ArrayDepth(f.Type)));
                        return new RecordView(fact, $"__typeof__({member})", null, 0);
                    }
                }
            }
            // An anonymous member: its fields appear in the holder with via= naming it first.
            foreach (var holder in facts.Records)
            {
                var through = holder.Fields.FirstOrDefault(f => f.Via.Count > 0 && f.Via[0] == fact.Name);
                if (through is null)
                {
                    continue;
                }
                var own = fact.Fields.FirstOrDefault(f => f.Name == through.Name);
                if (own is null)
                {
                    why = $"{fact.Name}: {holder.Name}.{through.Name} comes through it but it has no such field";
                    return null;
                }
                // A bitfield's offset is its storage unit's; its bit offset says exactly where the member starts.
                long @base = own.BitOffset is { } ownBits && through.BitOffset is { } throughBits
                    ? (throughBits - ownBits) / 8
                    : through.Offset - own.Offset;
                var hv = Build(holder, null, depth + 1, out why);
                return hv is null ? null : new RecordView(fact, null, hv, @base);
            }
            why = $"{fact.Name} is unnamed and no record, field or typedef of the facts reaches it";
            return null;
        }
    }
}
