using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using Syscalls.Generator.Facts;

namespace Syscalls.Generator.Emitter;

// The C# view of one target's facts, before text: what the writers print and what the architectures of one OS are
// compared on. A member's "shape" is everything about it that is public API (kind, name, C# type, buffer length);
// offsets and sizes are layout, free to differ between architectures.

/// <summary>Everything one target contributes, already mapped to C#.</summary>
internal sealed class TargetModel(AbiFacts facts, Platform platform)
{
    public AbiFacts Facts { get; } = facts;
    public Platform Platform { get; } = platform;
    public string Target => Facts.Target;
    public string Arch => Facts.Provenance.Arch;

    /// <summary>Sorted by C# name.</summary>
    public List<RecordModel> Records { get; } = [];

    /// <summary>Macros, enumerators and syscall numbers, sorted by class then name.</summary>
    public List<ConstantModel> Constants { get; } = [];

    /// <summary>Sorted by class then name.</summary>
    public List<FunctionModel> Functions { get; } = [];

    public List<GuidModel> Guids { get; } = [];

    /// <summary>Typedefs of function pointers a family lists on a <c>type</c> line, sorted by name.</summary>
    public List<FunctionPointerTypeModel> FunctionPointerTypes { get; } = [];

    /// <summary>What the facts hold but C# cannot express, with why: listed in the manifest, never dropped silently.</summary>
    public List<(string Name, string Reason)> Omitted { get; } = [];

    /// <summary>The <c>[InlineArray]</c> helper structs the records use, by name.</summary>
    public IEnumerable<InlineArrayMember> InlineArrays =>
        Records.SelectMany(r => r.Members).OfType<InlineArrayMember>()
            .GroupBy(m => m.TypeName).Select(g => g.First()).OrderBy(m => m.TypeName, System.StringComparer.Ordinal);

    /// <summary>The library classes that have at least one member, sorted.</summary>
    public IEnumerable<string> Classes =>
        Constants.Select(c => c.Class).Concat(Functions.Select(f => f.Class)).Concat(Guids.Select(g => g.Class))
            .Distinct().OrderBy(c => c, System.StringComparer.Ordinal);
}

internal sealed class RecordModel(RecordFact fact, string csName)
{
    public RecordFact Fact { get; } = fact;
    public string CsName { get; } = csName;
    public List<MemberModel> Members { get; } = [];
    public string? Doc { get; set; }
}

internal abstract record MemberModel(string Name, string CName)
{
    public string? Doc { get; init; }

    /// <summary>The public-API description of the member (no offsets): equal shapes on every architecture.</summary>
    public abstract string Shape { get; }
}

/// <summary>A plain field: scalar, pointer, function pointer, record.</summary>
internal sealed record FieldMember(string Name, string CName, CsType Type, long Offset, long Size) : MemberModel(Name, CName)
{
    public override string Shape => $"field {Type.Code} {Name}";
}

/// <summary>An array of a <c>fixed</c>-able scalar: <c>fixed byte sun_path[108]</c>. Multi-dimensional arrays flatten.</summary>
internal sealed record FixedBufferMember(string Name, string CName, CsNamed Element, long Length, long Offset, long Size)
    : MemberModel(Name, CName)
{
    public override string Shape => $"fixed {Element.Code} {Name}[{Length}]";
}

/// <summary>An array of records, pointers or native-sized integers: a field of an <c>[InlineArray]</c> helper struct.</summary>
internal sealed record InlineArrayMember(string Name, string CName, CsType Element, long Length, long Offset, long Size)
    : MemberModel(Name, CName)
{
    public string TypeName => "__" + Identifiers.Sanitize(Element.Code) + "_" + Length;

    public override string Shape => $"field {TypeName} {Name}";
}

/// <summary>A bitfield: a get/set property over a private storage field chosen to cover its bits.</summary>
internal sealed record BitfieldMember(string Name, string CName, CsNamed Type, long BitOffset, int BitWidth)
    : MemberModel(Name, CName)
{
    public string StorageName { get; init; } = "";
    public long StorageOffset { get; init; }
    public CsNamed StorageType { get; init; } = CsType.Byte;

    /// <summary>Bit position inside the storage field.</summary>
    public int Shift => (int)(BitOffset - StorageOffset * 8);

    public override string Shape => $"property {Type.Code} {Name}";
}

/// <summary>A flexible (or zero-length) array member: a method returning a pointer to its first element.</summary>
internal sealed record FlexMember(string Name, string CName, CsType Element, long Offset) : MemberModel(Name, CName)
{
    public override string Shape => $"method {Element.Code}* {Name}()";
}

internal enum ConstantKind
{
    Macro,
    Enumerator,
    Syscall,
}

internal sealed record ConstantModel(string Name, CsNamed Type, BigInteger Value, string Class, ConstantKind Kind)
{
    public string? Doc { get; init; }

    /// <summary>Where the value comes from in C: the macro body, <c>enum X</c>, or <c>__NR_x</c>.</summary>
    public string? Source { get; init; }

    /// <summary>The value differs between the architectures of the OS: a static property, not a const.</summary>
    public bool IsArchDependent { get; init; }

    /// <summary>This target does not define the macro, other architectures of its OS do: the property throws here.</summary>
    public bool IsMissing { get; init; }

    /// <summary>
    /// A static property rather than a const: the value differs by architecture, or C# cannot write it as a const
    /// (a native-sized integer outside the 32-bit range, such as <c>INVALID_SOCKET</c>).
    /// </summary>
    public bool IsProperty => IsArchDependent || !FitsConst;

    private bool FitsConst =>
        Type.Name switch
        {
            "nint" => Value >= int.MinValue && Value <= int.MaxValue,
            "nuint" => Value.Sign >= 0 && Value <= uint.MaxValue,
            _ => true,
        };

    /// <summary>C# text of the value as an expression of <see cref="Type"/>.</summary>
    public string Literal
    {
        get
        {
            string digits = Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Type.Name switch
            {
                "nint" when !FitsConst => $"unchecked((nint){digits}L)",
                "nuint" when !FitsConst => $"unchecked((nuint){digits}UL)",
                _ => digits,
            };
        }
    }
}

/// <summary>
/// A typedef of a function pointer (<c>LPFN_ACCEPTEX</c>): C# cannot alias a function-pointer type, so it becomes a
/// one-field struct holding the pointer, the size of a pointer, that casts to and from the raw address.
/// </summary>
internal sealed record FunctionPointerTypeModel(string Name, CsFunctionPointer Pointer, string CSpelling)
{
    public string? Doc { get; init; }
    public string? File { get; init; }
}

internal sealed record GuidModel(string Name, System.Guid Value, string Class);

internal sealed record ParameterModel(string Name, CsType Type);

internal enum FunctionKind
{
    /// <summary>A library export, imported by name.</summary>
    Import,

    /// <summary>No libc wrapper (io_uring): <c>syscall(2)</c> with the target's number.</summary>
    Syscall,
}

internal sealed record FunctionModel(string Name, string Class, CsType Return, IReadOnlyList<ParameterModel> Parameters)
{
    public FunctionKind Kind { get; init; } = FunctionKind.Import;
    public string EntryPoint { get; init; } = "";
    public string Library { get; init; } = "";
    public bool IsVariadic { get; init; }

    /// <summary>How many <c>nint</c> variadic arguments the longest overload takes.</summary>
    public int MaxVariadic { get; init; }

    /// <summary><c>Stdcall</c> when the facts say so; null for the platform's C convention.</summary>
    public string? CallConv { get; init; }

    /// <summary>Named on its family's <c>fast</c> line: called with <c>[SuppressGCTransition]</c>.</summary>
    public bool IsFast { get; init; }

    /// <summary>
    /// Reports failure through the error slot: imported with <c>SetLastError = true</c> (the slot is cleared before the
    /// call and captured after it). False for a family with <c>errno none</c> and for functions on a <c>noerror</c> line.
    /// </summary>
    public bool SetsError { get; init; } = true;

    /// <summary>
    /// A fast function of an errno family returning an integer: the binding reads errno only when the call returns
    /// -1 (POSIX's failure value) instead of clearing it before and capturing it after every call, which costs two
    /// more native calls than the <c>[SuppressGCTransition]</c> call itself.
    /// </summary>
    public bool CapturesOnFailure { get; init; }

    public string? Doc { get; init; }
    public string? Prototype { get; init; }

    /// <summary>Its reference page (man7.org, Apple's man pages, learn.microsoft.com), from its family.</summary>
    public ReferencePage? Page { get; init; }

    /// <summary>
    /// The pointer parameters its managed overload takes as spans or references, sorted by position; empty when the
    /// family marks none (then there is no such overload).
    /// </summary>
    public IReadOnlyList<ParameterOverload> Overload { get; init; } = [];

    /// <summary>For <see cref="FunctionKind.Syscall"/>: the <c>SYS_</c> constant it passes.</summary>
    public string? SyscallConstant { get; init; }

    public string Signature => $"{Return.Code} {Name}({string.Join(", ", Parameters.Select(p => p.Type.Code + " " + p.Name))})"
        + (IsVariadic ? $" variadic {MaxVariadic}" : "");

    /// <summary>The variadic argument names of an overload with <paramref name="count"/> of them.</summary>
    public IReadOnlyList<string> VariadicNames(int count) =>
        MaxVariadic == 1 ? ["arg"] : Enumerable.Range(1, count).Select(i => "a" + i).ToList();
}
