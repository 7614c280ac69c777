using System;
using System.Collections.Generic;
using System.Linq;

namespace Syscalls.Generator.Facts;

/// <summary>
/// Everything the scanner read from one target's headers: the in-memory form of <c>headers/facts/&lt;target&gt;.abi</c>.
/// Immutable once built; <see cref="FactsReader"/> and the scanner build it, <see cref="FactsWriter"/> prints it.
/// Lists keep the order they were given in; the writer sorts.
/// </summary>
public sealed class AbiFacts
{
    private Dictionary<string, RecordFact>? _records;
    private Dictionary<string, EnumFact>? _enums;
    private Dictionary<string, TypedefFact>? _typedefs;
    private Dictionary<string, FunctionFact>? _functions;
    private Dictionary<string, ConstantFact>? _constants;
    private Dictionary<string, (EnumFact, EnumeratorFact)>? _enumerators;

    public AbiFacts(Provenance provenance) => Provenance = provenance;

    public Provenance Provenance { get; }

    /// <summary>Structs and unions (C tags share one namespace, so names are unique across both).</summary>
    public IReadOnlyList<RecordFact> Records { get; init; } = [];

    public IReadOnlyList<EnumFact> Enums { get; init; } = [];
    public IReadOnlyList<TypedefFact> Typedefs { get; init; } = [];
    public IReadOnlyList<FunctionFact> Functions { get; init; } = [];
    public IReadOnlyList<ConstantFact> Constants { get; init; } = [];
    public IReadOnlyList<GuidFact> Guids { get; init; } = [];
    public IReadOnlyList<SyscallFact> Syscalls { get; init; } = [];

    public string Target => Provenance.Target;

    /// <summary>Number of fact lines (records, fields, enums, enumerators, typedefs, funcs, consts, guids, syscalls; not docs).</summary>
    public int Count =>
        Records.Count + Records.Sum(r => r.Fields.Count) + Enums.Count + Enums.Sum(e => e.Enumerators.Count)
        + Typedefs.Count + Functions.Count + Constants.Count + Guids.Count + Syscalls.Count;

    public RecordFact? FindRecord(string name) => Find(ref _records, Records, r => r.Name, name);
    public EnumFact? FindEnum(string name) => Find(ref _enums, Enums, e => e.Name, name);
    public TypedefFact? FindTypedef(string name) => Find(ref _typedefs, Typedefs, t => t.Name, name);
    public FunctionFact? FindFunction(string name) => Find(ref _functions, Functions, f => f.Name, name);
    public ConstantFact? FindConstant(string name) => Find(ref _constants, Constants, c => c.Name, name);

    /// <summary>The record a <see cref="RecordRefType"/> names.</summary>
    public RecordFact? Resolve(RecordRefType type) => FindRecord(type.Name);

    public EnumFact? Resolve(EnumRefType type) => FindEnum(type.Name);

    /// <summary>Finds an enumerator by its C name (<c>IORING_OP_NOP</c>) together with its enum.</summary>
    public bool TryFindEnumerator(string name, out EnumFact? owner, out EnumeratorFact? enumerator)
    {
        _enumerators ??= Enums.SelectMany(e => e.Enumerators.Select(x => (e, x)))
            .GroupBy(p => p.x.Name, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        bool found = _enumerators.TryGetValue(name, out var hit);
        (owner, enumerator) = found ? (hit.Item1, hit.Item2) : (null, null);
        return found;
    }

    private static T? Find<T>(ref Dictionary<string, T>? cache, IReadOnlyList<T> items, Func<T, string> key, string name)
        where T : class
    {
        cache ??= items.GroupBy(key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        return cache.TryGetValue(name, out var hit) ? hit : null;
    }
}
