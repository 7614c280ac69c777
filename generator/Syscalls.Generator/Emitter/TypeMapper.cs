using System;
using System.Collections.Generic;
using System.Linq;
using Syscalls.Generator.Facts;
using P = Syscalls.Generator.Facts.Primitive;

namespace Syscalls.Generator.Emitter;

/// <summary>
/// Maps a facts type (typedefs resolved) plus its C spelling, when known, to the C# type API.md prescribes, for one
/// target. The spelling decides the cases the resolved type cannot: <c>size_t</c> is <c>nuint</c> while
/// <c>unsigned long</c> is <c>ulong</c>; plain <c>char</c> is <c>byte</c>; <c>HANDLE</c> is <c>nint</c>, not <c>void*</c>.
/// </summary>
internal sealed class TypeMapper(AbiFacts facts, Func<string, string?> recordName)
{
    private enum AliasKind { NUInt, NInt, Handle, WChar }

    // The C names API.md maps to a C# type of its own, whatever the typedef resolves to on the target.
    private static readonly Dictionary<string, AliasKind> Aliases = new(StringComparer.Ordinal)
    {
        ["size_t"] = AliasKind.NUInt, ["uintptr_t"] = AliasKind.NUInt, ["rsize_t"] = AliasKind.NUInt,
        ["__kernel_size_t"] = AliasKind.NUInt, ["__darwin_size_t"] = AliasKind.NUInt, ["__size_t"] = AliasKind.NUInt,
        ["SIZE_T"] = AliasKind.NUInt, ["ULONG_PTR"] = AliasKind.NUInt, ["UINT_PTR"] = AliasKind.NUInt,
        ["DWORD_PTR"] = AliasKind.NUInt, ["SOCKET"] = AliasKind.NUInt, ["__uintptr_t"] = AliasKind.NUInt,
        ["ssize_t"] = AliasKind.NInt, ["intptr_t"] = AliasKind.NInt, ["ptrdiff_t"] = AliasKind.NInt,
        ["__kernel_ssize_t"] = AliasKind.NInt, ["__darwin_ssize_t"] = AliasKind.NInt, ["__ssize_t"] = AliasKind.NInt,
        ["__kernel_ptrdiff_t"] = AliasKind.NInt, ["__darwin_ptrdiff_t"] = AliasKind.NInt, ["__intptr_t"] = AliasKind.NInt,
        ["SSIZE_T"] = AliasKind.NInt, ["LONG_PTR"] = AliasKind.NInt, ["INT_PTR"] = AliasKind.NInt,
        ["HANDLE"] = AliasKind.Handle,
        ["WCHAR"] = AliasKind.WChar, ["wchar_t"] = AliasKind.WChar,
    };

    /// <summary>Record names that are <see cref="System.Guid"/> in C#.</summary>
    public static bool IsGuidRecord(string name) => name is "_GUID" or "GUID";

    public AbiFacts Facts => facts;

    /// <summary>Maps a type in a position that is not an array (field scalar, parameter, return, pointee).</summary>
    public CsType Map(CType type, CDecl? spell, string where, int depth = 0)
    {
        if (depth > 32)
        {
            throw new EmitterException($"{facts.Target}: {where}: typedef chain too deep");
        }
        if (spell is { IsPlain: true })
        {
            if (AliasFor(spell.Base, type) is { } alias)
            {
                return alias;
            }
            // Windows names pointers to an alias P<ALIAS>/LP<ALIAS>; mingw declares `typedef unsigned __int64
            // ULONG_PTR, *PULONG_PTR;`, so PULONG_PTR's own spelling never says ULONG_PTR.
            if (type is PointerType { Pointee: var pointee } && PointerAlias(spell.Base, pointee) is { } pointed)
            {
                return new CsPointer(pointed);
            }
            // Follow the typedef to its own spelling: `socklen_t` -> `__socklen_t` -> `unsigned int`, or
            // `LPWSABUF` -> `struct _WSABUF *`, or `CHAR` -> `char`; not `fd_set` -> `struct fd_set` (same name).
            if (facts.FindTypedef(spell.Base) is { } td && CSpelling.Parse(td.CSpelling) is { } next && next != spell)
            {
                return Map(type, next, where, depth + 1);
            }
        }
        switch (type)
        {
            case PrimitiveType p:
                return Primitive(p, spell is { IsPlain: true, Base: "char" }, where);
            case PointerType { Pointee: FunctionType fn }:
                return FunctionPointer(fn, where);
            case PointerType p:
                return new CsPointer(MapPointee(p.Pointee, spell?.PeelPointer(), where, depth));
            case ArrayType a:
                // Arrays in parameter position decay to pointers, as in C.
                return new CsPointer(Map(a.Element, spell?.PeelArray(), where, depth));
            case RecordRefType r:
                return Record(r, where) ?? throw new EmitterException(
                    $"{facts.Target}: {where}: {r} is used by value but the facts do not define it");
            case EnumRefType e:
                var en = facts.Resolve(e) ?? throw new EmitterException($"{facts.Target}: {where}: no enum fact for {e}");
                return Primitive(en.Underlying, false, where);
            default:
                throw new EmitterException($"{facts.Target}: {where}: a function type is only valid behind a pointer ({type})");
        }
    }

    private CsType MapPointee(CType pointee, CDecl? spell, string where, int depth)
    {
        // A pointer to a record the facts only declare (opaque, such as glibc's `struct __dirstream`) is void*.
        if (pointee is RecordRefType r && Record(r, where) is null)
        {
            return CsType.Void;
        }
        return Map(pointee, spell, where, depth + 1);
    }

    /// <summary>
    /// glibc's <c>__SOCKADDR_ARG</c>/<c>__CONST_SOCKADDR_ARG</c> are <c>__attribute__((transparent_union))</c>: a
    /// parameter of that type is passed as its first member (<c>struct sockaddr *</c>), which is also what the
    /// prototype is without GNU C. A by-value union parameter of pointers only is read that way.
    /// </summary>
    public CType ParameterType(CType type) =>
        type is RecordRefType { Kind: RecordKind.Union } r && facts.Resolve(r) is { } u && u.Fields.Count > 0
            && u.Size == 8 && u.Fields.All(f => f.Type is PointerType && f.Via.Count == 0)
            ? u.Fields[0].Type
            : type;

    /// <summary>The C# record a record reference names, or null for an opaque one.</summary>
    public CsNamed? Record(RecordRefType r, string where)
    {
        if (IsGuidRecord(r.Name))
        {
            return CsType.Guid;
        }
        if (facts.Resolve(r) is null)
        {
            return null;
        }
        string? name = recordName(r.Name);
        return name is null ? null : new CsNamed(name, -1);
    }

    /// <summary>
    /// The C type of an enumeration constant: <c>int</c> when its value fits (C11 6.4.4.3, 6.7.2.2), whatever the
    /// enum's underlying type; otherwise (a GNU C extension, <c>EPOLLET = 1u &lt;&lt; 31</c>) the enum's own type.
    /// That is why C passes <c>SOCK_STREAM | SOCK_NONBLOCK</c> to an <c>int</c> parameter without a cast.
    /// </summary>
    public static CsNamed EnumeratorType(EnumFact e, System.Numerics.BigInteger value) =>
        value >= int.MinValue && value <= int.MaxValue ? CsType.Int : Primitive(e.Underlying, false, "enum " + e.Name);

    public static CsNamed Primitive(PrimitiveType p, bool plainChar, string where) => p.Kind switch
    {
        P.Void => CsType.Void,
        P.Bool => CsType.Byte, // C _Bool: API.md keeps managed bool out of the bindings
        P.I8 => plainChar ? CsType.Byte : CsType.SByte,
        P.U8 => CsType.Byte,
        P.I16 => CsType.Short,
        P.U16 => CsType.UShort,
        P.I32 => CsType.Int,
        P.U32 => CsType.UInt,
        P.I64 => CsType.Long,
        P.U64 => CsType.ULong,
        P.I128 => CsType.Int128,
        P.U128 => CsType.UInt128,
        P.F32 => CsType.Float,
        P.F64 => CsType.Double,
        _ => throw new EmitterException($"{where}: {p} has no C# equivalent"),
    };

    /// <summary>
    /// A function-pointer typedef's type with its parameters mapped through their C spellings (<c>SOCKET</c> ->
    /// <c>nuint</c>), as a function's are: <paramref name="spelling"/> is the typedef's, <c>R (*)(A, B)</c>.
    /// </summary>
    public CsType FunctionPointerTypedef(FunctionType fn, string spelling, string where)
    {
        if (fn.IsVariadic || CSpelling.SplitFunctionPointer(spelling, fn.Parameters.Count) is not { } split)
        {
            return FunctionPointer(fn, where);
        }
        var ps = fn.Parameters.Select((p, i) => Map(p, CSpelling.Parse(split.Parameters[i]), where + " parameter " + (i + 1))).ToList();
        return new CsFunctionPointer(Map(fn.Return, CSpelling.Parse(split.Return), where + " return"), ps, null);
    }

    private CsType FunctionPointer(FunctionType fn, string where)
    {
        if (fn.IsVariadic)
        {
            // C# function pointers cannot be variadic; callers cast to a fixed-arity delegate* themselves.
            return new CsPointer(CsType.Void);
        }
        var ps = fn.Parameters.Select((p, i) => Map(p, null, where + " parameter " + (i + 1))).ToList();
        return new CsFunctionPointer(Map(fn.Return, null, where + " return"), ps, null);
    }

    /// <summary>
    /// The C# type of a macro whose body casts to a native-sized alias (<c>(SOCKET)(~0)</c>, <c>((HANDLE)(LONG_PTR)-1)</c>):
    /// the compiler evaluated it as a 64-bit integer (or pointer), API.md types it <c>nuint</c>/<c>nint</c>.
    /// </summary>
    public static CsNamed? MacroCastType(string body, PrimitiveType type)
    {
        if (type.ByteSize != 8 || !type.IsInteger)
        {
            return null;
        }
        foreach (var pair in Aliases)
        {
            int at = body.IndexOf(pair.Key, StringComparison.Ordinal);
            while (at > 0)
            {
                int before = at - 1, after = at + pair.Key.Length;
                while (before >= 0 && body[before] == ' ')
                {
                    before--;
                }
                while (after < body.Length && body[after] == ' ')
                {
                    after++;
                }
                if (before >= 0 && body[before] == '(' && after < body.Length && body[after] == ')')
                {
                    return pair.Value switch
                    {
                        AliasKind.NUInt => CsType.NUInt,
                        AliasKind.NInt or AliasKind.Handle => CsType.NInt,
                        _ => null,
                    };
                }
                at = body.IndexOf(pair.Key, at + 1, StringComparison.Ordinal);
            }
        }
        return null;
    }

    private static CsType? PointerAlias(string name, CType pointee)
    {
        string? rest = name.StartsWith("LP", StringComparison.Ordinal) ? name.Substring(2)
            : name.StartsWith("P", StringComparison.Ordinal) ? name.Substring(1) : null;
        return rest is { Length: > 0 } && char.IsUpper(rest[0]) ? AliasFor(rest, pointee) : null;
    }

    private static CsType? AliasFor(string name, CType type)
    {
        if (!Aliases.TryGetValue(name, out var kind))
        {
            return null;
        }
        // An alias applies only when the resolved type has the shape the alias promises on this target.
        return (kind, type) switch
        {
            (AliasKind.NUInt, PrimitiveType { Kind: P.U64 or P.I64 }) => CsType.NUInt,
            (AliasKind.NInt, PrimitiveType { Kind: P.I64 or P.U64 }) => CsType.NInt,
            (AliasKind.Handle, PointerType) => CsType.NInt,
            (AliasKind.WChar, PrimitiveType { Kind: P.U16 or P.I16 }) => CsType.Char,
            _ => null,
        };
    }
}
