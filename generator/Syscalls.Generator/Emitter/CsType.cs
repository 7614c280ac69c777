using System;
using System.Collections.Generic;
using System.Linq;

namespace Syscalls.Generator.Emitter;

/// <summary>
/// A C# type as the emitter writes it: a keyword or type name, a pointer, or an unmanaged function pointer.
/// Structural equality, so that the types two architectures give one member can be compared (and unified).
/// </summary>
internal abstract record CsType
{
    public static readonly CsNamed Void = new("void", 0);
    public static readonly CsNamed SByte = new("sbyte", 1);
    public static readonly CsNamed Byte = new("byte", 1);
    public static readonly CsNamed Short = new("short", 2);
    public static readonly CsNamed UShort = new("ushort", 2);
    public static readonly CsNamed Int = new("int", 4);
    public static readonly CsNamed UInt = new("uint", 4);
    public static readonly CsNamed Long = new("long", 8);
    public static readonly CsNamed ULong = new("ulong", 8);
    public static readonly CsNamed Float = new("float", 4);
    public static readonly CsNamed Double = new("double", 8);
    public static readonly CsNamed NInt = new("nint", 8);
    public static readonly CsNamed NUInt = new("nuint", 8);
    public static readonly CsNamed Char = new("char", 2);
    public static readonly CsNamed Int128 = new("global::System.Int128", 16);
    public static readonly CsNamed UInt128 = new("global::System.UInt128", 16);
    public static readonly CsNamed Guid = new("global::System.Guid", 16);

    /// <summary>The C# spelling.</summary>
    public abstract string Code { get; }

    public override string ToString() => Code;

    /// <summary>
    /// The one type two architectures agree on, or null. Plain C <c>char</c> is signed on x86 and unsigned on arm64
    /// Linux: a <c>sbyte</c>/<c>byte</c> disagreement (at any pointer depth) unifies to <c>byte</c>, as API.md says.
    /// </summary>
    public static CsType? Unify(CsType a, CsType b)
    {
        if (a.Equals(b))
        {
            return a;
        }
        switch (a, b)
        {
            case (CsNamed x, CsNamed y) when IsCharLike(x) && IsCharLike(y):
                return Byte;
            case (CsPointer x, CsPointer y):
                return Unify(x.Pointee, y.Pointee) is { } inner ? new CsPointer(inner) : null;
            case (CsFunctionPointer x, CsFunctionPointer y)
                when x.Parameters.Count == y.Parameters.Count && x.CallConv == y.CallConv:
            {
                var ret = Unify(x.Return, y.Return);
                var ps = x.Parameters.Zip(y.Parameters, Unify).ToList();
                return ret is null || ps.Any(p => p is null) ? null : new CsFunctionPointer(ret, ps!, x.CallConv);
            }
            default:
                return null;
        }
    }

    private static bool IsCharLike(CsNamed t) => t.Equals(SByte) || t.Equals(Byte);
}

/// <summary>A keyword (<c>int</c>), a record of the bindings (<c>epoll_event</c>), or a framework type (<c>Guid</c>).</summary>
/// <param name="Name">The C# spelling.</param>
/// <param name="Size">Bytes; 0 for void, -1 for records (their size is in the facts).</param>
internal sealed record CsNamed(string Name, int Size) : CsType
{
    public override string Code => Name;

    /// <summary>May be the element of a C# <c>fixed</c> buffer.</summary>
    public bool IsFixedBufferElement => Name is "bool" or "byte" or "short" or "int" or "long" or "char" or "sbyte"
        or "ushort" or "uint" or "ulong" or "float" or "double";

    public bool IsFloatingPoint => Name is "float" or "double";

    public bool IsRecord => Size < 0;

    public bool IsSignedInteger => Name is "sbyte" or "short" or "int" or "long" or "nint";

    public bool IsInteger => IsSignedInteger || Name is "byte" or "ushort" or "uint" or "ulong" or "nuint" or "char";
}

internal sealed record CsPointer(CsType Pointee) : CsType
{
    public override string Code => Pointee.Code + "*";
}

/// <summary><c>delegate* unmanaged[Stdcall]&lt;A, B, R&gt;</c>; <see cref="CallConv"/> is null for the platform default.</summary>
internal sealed record CsFunctionPointer(CsType Return, IReadOnlyList<CsType> Parameters, string? CallConv) : CsType
{
    public override string Code =>
        "delegate* unmanaged" + (CallConv is null ? "" : "[" + CallConv + "]") + "<"
        + string.Join(", ", Parameters.Select(p => p.Code).Concat([Return.Code])) + ">";

    public bool Equals(CsFunctionPointer? other) =>
        other is not null && Return.Equals(other.Return) && CallConv == other.CallConv
        && Parameters.SequenceEqual(other.Parameters);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Code);
}
