using System;
using System.Collections.Generic;
using System.Linq;
using Syscalls.Generator.Facts;

namespace Syscalls.Generator.Tool.Scanner;

/// <summary>
/// Facts of one target as they are gathered, family by family. The first family to produce an item keeps it,
/// except that a family that asked for an item by name takes it over from one that only depended on it
/// (FORMAT.md: <c>family=</c>).
/// </summary>
internal sealed class FactSet
{
    public Dictionary<string, (RecordFact Fact, bool Requested)> Records { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, (EnumFact Fact, bool Requested)> Enums { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, (TypedefFact Fact, bool Requested)> Typedefs { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, (FunctionFact Fact, bool Requested)> Functions { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, (ConstantFact Fact, bool Requested)> Constants { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, (GuidFact Fact, bool Requested)> Guids { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, SyscallFact> Syscalls { get; } = new(StringComparer.Ordinal);

    public static void Put<T>(Dictionary<string, (T Fact, bool Requested)> map, string name, T fact, bool requested)
    {
        if (!map.TryGetValue(name, out var old) || (requested && !old.Requested))
        {
            map[name] = (fact, requested);
        }
    }

    public void MergeFrom(FactSet other)
    {
        foreach (var (k, v) in other.Records) Put(Records, k, v.Fact, v.Requested);
        foreach (var (k, v) in other.Enums) Put(Enums, k, v.Fact, v.Requested);
        foreach (var (k, v) in other.Typedefs) Put(Typedefs, k, v.Fact, v.Requested);
        foreach (var (k, v) in other.Functions) Put(Functions, k, v.Fact, v.Requested);
        foreach (var (k, v) in other.Constants) Put(Constants, k, v.Fact, v.Requested);
        foreach (var (k, v) in other.Guids) Put(Guids, k, v.Fact, v.Requested);
        foreach (var (k, v) in other.Syscalls) Syscalls.TryAdd(k, v);
    }

    public AbiFacts ToFacts(Provenance provenance) => new(provenance)
    {
        Records = Records.Values.Select(v => v.Fact).ToList(),
        Enums = Enums.Values.Select(v => v.Fact).ToList(),
        Typedefs = Typedefs.Values.Select(v => v.Fact).ToList(),
        Functions = Functions.Values.Select(v => v.Fact).ToList(),
        Constants = Constants.Values.Select(v => v.Fact).ToList(),
        Guids = Guids.Values.Select(v => v.Fact).ToList(),
        Syscalls = Syscalls.Values.ToList(),
    };
}
