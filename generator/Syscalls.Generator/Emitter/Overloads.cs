using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Syscalls.Generator.Facts;

namespace Syscalls.Generator.Emitter;

/// <summary>How an overload takes one pointer parameter of the raw signature.</summary>
internal enum OverloadKind
{
    /// <summary><c>Span&lt;T&gt;</c> in place of the pointer and its element count.</summary>
    Span,

    /// <summary><c>ReadOnlySpan&lt;T&gt;</c> in place of the pointer and its element count.</summary>
    ReadOnlySpan,

    /// <summary><c>in T</c>: one object the call reads.</summary>
    In,

    /// <summary><c>ref T</c>: one object the call writes.</summary>
    Ref,
}

/// <summary>
/// One pointer parameter (0-based <see cref="Pointer"/>) an overload takes as a span or a reference, and the parameter
/// that carries its length (<see cref="Length"/>, -1 for none), which the overload derives: the span's length, or
/// <c>sizeof(T)</c> (through a local when the length is passed by pointer, as <c>accept</c>'s <c>addr_len</c>).
/// </summary>
internal sealed record ParameterOverload(OverloadKind Kind, int Pointer, int Length)
{
    /// <summary>With a length, an <c>in</c>/<c>ref</c> parameter is generic: the caller's type is the size.</summary>
    public bool IsGeneric => Kind is OverloadKind.In or OverloadKind.Ref && Length >= 0;
}

/// <summary>
/// Reads a function's <c>span</c>, <c>inspan</c>, <c>in</c> and <c>ref</c> items (headers/FORMAT.md "Overloads") into
/// <see cref="ParameterOverload"/>s, checking them against the C# signature: every mistake names the family line.
/// </summary>
internal static class OverloadBuilder
{
    public static IReadOnlyList<ParameterOverload> Build(FunctionFact f, IReadOnlyList<ParameterModel> ps,
        IReadOnlyList<ApiItem> items, string target)
    {
        var result = new List<ParameterOverload>();
        var used = new HashSet<int>();
        foreach (var item in items)
        {
            string Where() => $"{item.File}:{item.Line}: {Key(item.Kind)} {item.Name}: {target}";
            var parts = item.Name.Substring(item.Name.IndexOf(':') + 1).Split('/');
            int pointer = Resolve(parts[0], f, ps, Where);
            int length = parts.Length > 1 ? Resolve(parts[1], f, ps, Where) : -1;
            var kind = item.Kind switch
            {
                ApiItemKind.Span => OverloadKind.Span,
                ApiItemKind.InSpan => OverloadKind.ReadOnlySpan,
                ApiItemKind.In => OverloadKind.In,
                _ => OverloadKind.Ref,
            };
            if (f.IsVariadic)
            {
                throw new EmitterException(
                    $"{Where()}: a variadic function has no overloads (its fixed-arity forms are overloads already)");
            }
            foreach (int p in length >= 0 ? [pointer, length] : new[] { pointer })
            {
                if (!used.Add(p))
                {
                    throw new EmitterException(
                        $"{Where()}: parameter {p + 1} ({ps[p].Name}) is taken twice by the overload items");
                }
            }
            if (ps[pointer].Type is not CsPointer { Pointee: var pointee })
            {
                throw new EmitterException(
                    $"{Where()}: parameter {pointer + 1} ({ps[pointer].Name}) is {ps[pointer].Type.Code}, "
                    + "not a pointer");
            }
            bool span = kind is OverloadKind.Span or OverloadKind.ReadOnlySpan;
            if (span && pointee is not CsNamed)
            {
                throw new EmitterException(
                    $"{Where()}: a span of {pointee.Code} is not C# (pointers are not generic arguments)");
            }
            if (!span && length < 0 && pointee.Equals(CsType.Void))
            {
                throw new EmitterException($"{Where()}: {ps[pointer].Name} is void*: give its length parameter "
                    + "(FUNC:PTR/LEN) so the overload takes any unmanaged type and passes its size");
            }
            if (length >= 0 && !IsLength(ps[length].Type, allowPointer: !span))
            {
                throw new EmitterException($"{Where()}: length parameter {length + 1} ({ps[length].Name}) is "
                    + $"{ps[length].Type.Code}, " + (span ? "not an integer" : "not an integer or a pointer to one"));
            }
            result.Add(new ParameterOverload(kind, pointer, length));
        }
        return result.OrderBy(p => p.Pointer).ToList();
    }

    private static string Key(ApiItemKind kind) => kind switch
    {
        ApiItemKind.Span => "span",
        ApiItemKind.InSpan => "inspan",
        ApiItemKind.In => "in",
        _ => "ref",
    };

    private static bool IsLength(CsType t, bool allowPointer) =>
        t is CsNamed { IsInteger: true } || (allowPointer && t is CsPointer { Pointee: CsNamed { IsInteger: true } });

    /// <summary>
    /// A 1-based position, or a parameter's name as the facts give it (<c>__buf</c>) or as C# has it (<c>buf</c>).
    /// </summary>
    private static int Resolve(string token, FunctionFact f, IReadOnlyList<ParameterModel> ps, Func<string> where)
    {
        if (int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out int n))
        {
            return n >= 1 && n <= ps.Count ? n - 1
                : throw new EmitterException($"{where()}: no parameter {n} (it takes {ps.Count})");
        }
        for (int i = 0; i < ps.Count; i++)
        {
            if (f.Parameters[i].Name == token || ps[i].Name.TrimStart('@') == token)
            {
                return i;
            }
        }
        throw new EmitterException(
            $"{where()}: no parameter named {token} ({string.Join(", ", ps.Select(p => p.Name))})");
    }
}
