using System.Collections.Generic;
using System.Linq;

namespace Syscalls.Generator.Emitter;

/// <summary>
/// Prints the managed overload of a function whose family marks pointer parameters (<see cref="ParameterOverload"/>):
/// a thin wrapper over the raw signature that pins each span or reference with <c>fixed</c> for the call only, derives
/// the lengths, and calls the raw function. No allocation, no marshalling: the raw P/Invoke is all that crosses.
/// </summary>
internal static class OverloadWriter
{
    private sealed record Shape(string Return, string Name, string TypeParameters, string Constraints,
        IReadOnlyList<string> Parameters)
    {
        public string Declaration => $"{Return} {Name}{TypeParameters}({string.Join(", ", Parameters)}){Constraints}";
    }

    /// <summary>The overload's signature as the API surface and the manifest write it (no <c>global::</c>).</summary>
    public static string? Signature(FunctionModel f) =>
        ShapeOf(f)?.Declaration.Replace("global::System.", "");

    public static void Write(CodeWriter w, FunctionModel f, ReferencePage? page)
    {
        var s = ShapeOf(f)!;
        var byPointer = f.Overload.ToDictionary(o => o.Pointer);
        var lengths = f.Overload.Where(o => o.Length >= 0).ToDictionary(o => o.Length);
        var generic = GenericNames(f);
        string prototype = Identifiers.Xml(f.Prototype ?? f.Name);
        var parts = f.Overload.Select(o => Describe(f, o, generic)).ToList();
        w.Doc(f.Doc, $"A managed form of <c>{prototype}</c>: {string.Join("; ", parts)}. "
            + "Pins for the call only; allocates nothing.", page);
        w.Open("public static " + s.Declaration);
        // A length passed by pointer (accept's addr_len) starts as sizeof(T); what the call writes back is dropped.
        foreach (var o in f.Overload.Where(o => o.IsGeneric && f.Parameters[o.Length].Type is CsPointer))
        {
            var pointee = ((CsPointer)f.Parameters[o.Length].Type).Pointee;
            w.Line($"{pointee.Code} {Local(f, o.Length)} = unchecked(({pointee.Code})sizeof({generic[o.Pointer]}));");
        }
        foreach (var o in f.Overload)
        {
            string name = f.Parameters[o.Pointer].Name;
            string element = Element(f, o, generic);
            w.Line(o.Kind is OverloadKind.Span or OverloadKind.ReadOnlySpan
                ? $"fixed ({element}* {Local(f, o.Pointer)} = {name})"
                : $"fixed ({element}* {Local(f, o.Pointer)} = &{name})");
        }
        var args = f.Parameters.Select((p, i) =>
        {
            if (byPointer.TryGetValue(i, out var o))
            {
                return $"({p.Type.Code}){Local(f, i)}";
            }
            if (!lengths.TryGetValue(i, out var of))
            {
                return p.Name;
            }
            string span = f.Parameters[of.Pointer].Name;
            return !of.IsGeneric ? $"unchecked(({p.Type.Code}){span}.Length)"
                : p.Type is CsPointer ? "&" + Local(f, i)
                : $"unchecked(({p.Type.Code})sizeof({generic[of.Pointer]}))";
        });
        w.OpenBlock();
        string call = $"{Identifiers.Escape(f.Name)}({string.Join(", ", args)});";
        w.Line(f.Return.Equals(CsType.Void) ? call : "return " + call);
        w.Close();
        w.Close();
    }

    private static Shape? ShapeOf(FunctionModel f)
    {
        if (f.Overload.Count == 0)
        {
            return null;
        }
        var generic = GenericNames(f);
        var skip = new HashSet<int>(f.Overload.Where(o => o.Length >= 0).Select(o => o.Length));
        var byPointer = f.Overload.ToDictionary(o => o.Pointer);
        var ps = new List<string>();
        for (int i = 0; i < f.Parameters.Count; i++)
        {
            var p = f.Parameters[i];
            if (skip.Contains(i))
            {
                continue;
            }
            if (!byPointer.TryGetValue(i, out var o))
            {
                ps.Add(p.Type.Code + " " + p.Name);
                continue;
            }
            string element = Element(f, o, generic);
            ps.Add(o.Kind switch
            {
                OverloadKind.Span => $"global::System.Span<{element}> {p.Name}",
                OverloadKind.ReadOnlySpan => $"global::System.ReadOnlySpan<{element}> {p.Name}",
                OverloadKind.In => $"in {element} {p.Name}",
                _ => $"ref {element} {p.Name}",
            });
        }
        var names = generic.Values.ToList();
        string typeParameters = names.Count == 0 ? "" : "<" + string.Join(", ", names) + ">";
        return new Shape(f.Return.Code, Identifiers.Escape(f.Name), typeParameters,
            string.Concat(names.Select(n => $" where {n} : unmanaged")), ps);
    }

    /// <summary>A pinned pointer's type: the span's element (<c>byte</c> for <c>void*</c>), T, or the pointee.
    /// </summary>
    private static string Element(FunctionModel f, ParameterOverload o, IReadOnlyDictionary<int, string> generic)
    {
        if (o.IsGeneric)
        {
            return generic[o.Pointer];
        }
        var pointee = ((CsPointer)f.Parameters[o.Pointer].Type).Pointee;
        return pointee.Equals(CsType.Void) ? "byte" : pointee.Code;
    }

    /// <summary>The type parameter of each generic reference: <c>T</c> alone, <c>T1</c>, <c>T2</c> otherwise.</summary>
    private static IReadOnlyDictionary<int, string> GenericNames(FunctionModel f)
    {
        var generic = f.Overload.Where(o => o.IsGeneric).ToList();
        return generic.Select((o, i) => (o.Pointer, Name: generic.Count == 1 ? "T" : "T" + (i + 1)))
            .ToDictionary(x => x.Pointer, x => x.Name);
    }

    private static string Local(FunctionModel f, int parameter) => "__" + f.Parameters[parameter].Name.TrimStart('@');

    private static string Describe(FunctionModel f, ParameterOverload o, IReadOnlyDictionary<int, string> generic)
    {
        string p = $"<c>{f.Parameters[o.Pointer].Name.TrimStart('@')}</c>";
        string? len = o.Length < 0 ? null : $"<c>{f.Parameters[o.Length].Name.TrimStart('@')}</c>";
        return o.Kind switch
        {
            OverloadKind.Span or OverloadKind.ReadOnlySpan => $"{p} and {len} as one span ({len} is its length)",
            _ when o.IsGeneric => $"{p} as a reference to any unmanaged {generic[o.Pointer]} "
                + $"({len} is <c>sizeof({generic[o.Pointer]})</c>"
                + (f.Parameters[o.Length].Type is CsPointer
                    ? ", and the length the call writes back is not returned)"
                    : ")"),
            _ => $"{p} as a reference",
        };
    }
}
