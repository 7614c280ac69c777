using System;
using System.Collections.Generic;
using System.Linq;

namespace Syscalls.Generator.Emitter;

/// <summary>
/// The targets of one OS, checked to describe one public API: the same records with the same members, the same
/// functions with the same signatures, the same constants. Types are unified (plain <c>char</c>: <c>sbyte</c> on x64,
/// <c>byte</c> on arm64 -> <c>byte</c>) and written back into every target's model, so any of them prints the same API;
/// a constant whose value differs is marked <see cref="ConstantModel.IsArchDependent"/>. Anything else that differs is
/// an error: it would make a const, a fixed-buffer length or a member silently different between RIDs.
/// </summary>
internal sealed class OsModel
{
    private OsModel(Platform platform, IReadOnlyList<TargetModel> targets)
    {
        Platform = platform;
        Targets = targets;
    }

    public Platform Platform { get; }

    /// <summary>Ordered by <see cref="Platform.ArchOrder"/>: x64 first.</summary>
    public IReadOnlyList<TargetModel> Targets { get; }

    /// <summary>The target of <paramref name="arch"/>, or the first one (x64) when the OS has no such architecture.</summary>
    public TargetModel LayoutFor(string? arch) => Targets.FirstOrDefault(t => t.Arch == arch) ?? Targets[0];

    public static OsModel Unify(Platform platform, List<TargetModel> targets, List<string> errors)
    {
        targets.Sort((a, b) => Platform.ArchOrder(a.Arch).CompareTo(Platform.ArchOrder(b.Arch)));
        var u = new Unifier(targets, errors);
        u.Records();
        u.Functions();
        u.Constants();
        u.Guids();
        u.FunctionPointerTypes();
        return new OsModel(platform, targets);
    }

    private sealed class Unifier(List<TargetModel> targets, List<string> errors)
    {
        private string Os => targets[0].Platform.Os;

        /// <summary>
        /// Pairs the items of every target by key; reports items some targets lack. Returns, per key present
        /// everywhere, the index of the item in each target's list.
        /// </summary>
        private List<(string Key, int[] Index)> Pair<T>(string what, Func<TargetModel, List<T>> items, Func<T, string> key)
        {
            var maps = targets.Select(t => items(t).Select((x, i) => (K: key(x), I: i))
                .ToDictionary(p => p.K, p => p.I, StringComparer.Ordinal)).ToList();
            var all = maps.SelectMany(m => m.Keys).Distinct(StringComparer.Ordinal).OrderBy(k => k, StringComparer.Ordinal);
            var result = new List<(string, int[])>();
            foreach (var k in all)
            {
                var missing = targets.Where((t, i) => !maps[i].ContainsKey(k)).Select(t => t.Target).ToList();
                if (missing.Count > 0)
                {
                    var present = targets.Where((t, i) => maps[i].ContainsKey(k)).Select(t => t.Target);
                    errors.Add($"{Os}: {what} {k} exists on {string.Join(", ", present)} but not on {string.Join(", ", missing)}:"
                        + " the public API of the RIDs would differ (narrow it to one OS or target in its family file)");
                    continue;
                }
                result.Add((k, maps.Select(m => m[k]).ToArray()));
            }
            return result;
        }

        private string Disagree(string what, Func<int, string> describe) =>
            $"{Os}: {what} differs between architectures: "
            + string.Join(" vs ", targets.Select((t, i) => $"{describe(i)} on {t.Target}"));

        private CsType? UnifyAll(IEnumerable<CsType> types)
        {
            CsType? acc = null;
            foreach (var t in types)
            {
                acc = acc is null ? t : CsType.Unify(acc, t);
                if (acc is null)
                {
                    return null;
                }
            }
            return acc;
        }

        public void Records()
        {
            foreach (var (name, index) in Pair("struct", t => t.Records, r => r.CsName))
            {
                var records = targets.Select((t, i) => t.Records[index[i]]).ToList();
                var counts = records.Select(r => r.Members.Count).Distinct().Count();
                if (counts != 1 || records.Any(r => r.Fact.Kind != records[0].Fact.Kind))
                {
                    errors.Add(Disagree($"struct {name}", i => $"{records[i].Fact.Kind} of {records[i].Members.Count} members "
                        + $"({string.Join(", ", records[i].Members.Select(m => m.CName))})"));
                    continue;
                }
                for (int m = 0; m < records[0].Members.Count; m++)
                {
                    var members = records.Select(r => r.Members[m]).ToList();
                    var unified = UnifyMember(members);
                    if (unified is null)
                    {
                        errors.Add(Disagree($"{name}.{members[0].CName}", i => "'" + members[i].Shape + "'"));
                        continue;
                    }
                    for (int i = 0; i < records.Count; i++)
                    {
                        records[i].Members[m] = unified[i];
                    }
                }
            }
        }

        /// <summary>The members with one unified type each, or null when their shapes cannot agree.</summary>
        private List<MemberModel>? UnifyMember(List<MemberModel> ms)
        {
            if (ms.Any(m => m.GetType() != ms[0].GetType() || m.Name != ms[0].Name))
            {
                return null;
            }
            switch (ms[0])
            {
                case FieldMember:
                {
                    var t = UnifyAll(ms.Cast<FieldMember>().Select(m => m.Type));
                    return t is null ? null : ms.Cast<FieldMember>().Select(m => (MemberModel)(m with { Type = t })).ToList();
                }
                case FixedBufferMember:
                {
                    var t = UnifyAll(ms.Cast<FixedBufferMember>().Select(m => m.Element)) as CsNamed;
                    bool sameLength = ms.Cast<FixedBufferMember>().Select(m => m.Length).Distinct().Count() == 1;
                    return t is null || !sameLength ? null
                        : ms.Cast<FixedBufferMember>().Select(m => (MemberModel)(m with { Element = t })).ToList();
                }
                case InlineArrayMember:
                {
                    var t = UnifyAll(ms.Cast<InlineArrayMember>().Select(m => m.Element));
                    bool sameLength = ms.Cast<InlineArrayMember>().Select(m => m.Length).Distinct().Count() == 1;
                    return t is null || !sameLength ? null
                        : ms.Cast<InlineArrayMember>().Select(m => (MemberModel)(m with { Element = t })).ToList();
                }
                case BitfieldMember:
                {
                    var t = UnifyAll(ms.Cast<BitfieldMember>().Select(m => m.Type)) as CsNamed;
                    return t is null ? null : ms.Cast<BitfieldMember>().Select(m => (MemberModel)(m with { Type = t })).ToList();
                }
                case FlexMember:
                {
                    var t = UnifyAll(ms.Cast<FlexMember>().Select(m => m.Element));
                    return t is null ? null : ms.Cast<FlexMember>().Select(m => (MemberModel)(m with { Element = t })).ToList();
                }
                default:
                    return null;
            }
        }

        public void Functions()
        {
            foreach (var (name, index) in Pair("function", t => t.Functions, f => f.Class + "." + f.Name))
            {
                var fs = targets.Select((t, i) => t.Functions[index[i]]).ToList();
                var f0 = fs[0];
                bool sameShape = fs.All(f => f.Parameters.Count == f0.Parameters.Count && f.IsVariadic == f0.IsVariadic
                    && f.MaxVariadic == f0.MaxVariadic && f.Kind == f0.Kind && f.EntryPoint == f0.EntryPoint
                    && f.Parameters.Select(p => p.Name).SequenceEqual(f0.Parameters.Select(p => p.Name))
                    && f.Overload.SequenceEqual(f0.Overload));
                var ret = UnifyAll(fs.Select(f => f.Return));
                var ps = Enumerable.Range(0, f0.Parameters.Count)
                    .Select(p => sameShape ? UnifyAll(fs.Select(f => f.Parameters[p].Type)) : null).ToList();
                if (!sameShape || ret is null || ps.Any(p => p is null))
                {
                    errors.Add(Disagree($"function {name}", i => "'" + fs[i].Signature + "'"));
                    continue;
                }
                for (int i = 0; i < fs.Count; i++)
                {
                    targets[i].Functions[index[i]] = fs[i] with
                    {
                        Return = ret,
                        Parameters = fs[i].Parameters.Select((p, k) => p with { Type = ps[k]! }).ToList(),
                    };
                }
            }
        }

        public void Constants()
        {
            AddMissingConstants();
            foreach (var (name, index) in Pair("constant", t => t.Constants, c => c.Class + "." + c.Name))
            {
                var cs = targets.Select((t, i) => t.Constants[index[i]]).ToList();
                if (UnifyAll(cs.Select(c => c.Type)) is not CsNamed type)
                {
                    errors.Add(Disagree($"constant {name}", i => cs[i].Type.Code));
                    continue;
                }
                // A const would be baked into the consumer's IL from the reference assembly: wrong on the other arch.
                bool archDependent = cs.Any(c => c.IsMissing) || cs.Select(c => c.Value).Distinct().Count() > 1;
                for (int i = 0; i < cs.Count; i++)
                {
                    targets[i].Constants[index[i]] = cs[i] with { Type = type, IsArchDependent = archDependent };
                }
            }
        }

        /// <summary>
        /// A macro some architectures of the OS do not define (<c>MAP_32BIT</c> is x86-64 only, <c>PROT_BTI</c> arm64
        /// only) still gets one public member: a static property that throws on the architectures without it.
        /// </summary>
        private void AddMissingConstants()
        {
            var all = targets.SelectMany(t => t.Constants).GroupBy(c => c.Class + "." + c.Name, StringComparer.Ordinal)
                .Where(g => g.Count() < targets.Count).ToList();
            foreach (var g in all)
            {
                var present = g.First();
                foreach (var t in targets.Where(t => !t.Constants.Any(c => c.Class == present.Class && c.Name == present.Name)))
                {
                    t.Constants.Add(present with { Value = 0, IsMissing = true });
                }
            }
            foreach (var t in targets)
            {
                t.Constants.Sort((a, b) =>
                {
                    int c = string.CompareOrdinal(a.Class, b.Class);
                    return c != 0 ? c : string.CompareOrdinal(a.Name, b.Name);
                });
            }
        }

        public void Guids() => Pair("GUID", t => t.Guids, g => g.Class + "." + g.Name);

        public void FunctionPointerTypes()
        {
            foreach (var (name, index) in Pair("function-pointer type", t => t.FunctionPointerTypes, f => f.Name))
            {
                if (UnifyAll(targets.Select((t, i) => (CsType)t.FunctionPointerTypes[index[i]].Pointer)) is not CsFunctionPointer unified)
                {
                    errors.Add(Disagree($"function-pointer type {name}", i => targets[i].FunctionPointerTypes[index[i]].Pointer.Code));
                    continue;
                }
                for (int i = 0; i < targets.Count; i++)
                {
                    targets[i].FunctionPointerTypes[index[i]] = targets[i].FunctionPointerTypes[index[i]] with { Pointer = unified };
                }
            }
        }
    }
}
