using System;
using System.Collections.Generic;
using System.Numerics;

namespace Syscalls.Generator.Facts;

// One type per fact kind of FORMAT.md. Positional members are the keys every line has; init members are optional.
// `Family`/`File`/`Doc` are null when the line leaves them out.

/// <summary>A <c>struct</c> or <c>union</c> line with its <c>field</c> lines.</summary>
public sealed record RecordFact(RecordKind Kind, string Name, long Size, long Align)
{
    public bool IsPacked { get; init; }

    /// <summary>The name was synthesized (FORMAT.md "Unnamed records"): <c>struct NAME</c> is not valid C.</summary>
    public bool IsUnnamed { get; init; }

    public string? Family { get; init; }
    public string? File { get; init; }
    public string? Doc { get; init; }

    /// <summary>Every field in declaration order, anonymous members flattened (see <see cref="FieldFact.Via"/>).</summary>
    public IReadOnlyList<FieldFact> Fields { get; init; } = [];

    public bool IsUnion => Kind == RecordKind.Union;

    /// <summary>The C spelling of the type: <c>struct sockaddr</c> (for unnamed records a name that is not valid C).</summary>
    public string CName => (Kind == RecordKind.Struct ? "struct " : "union ") + Name;

    public CType AsType() => new RecordRefType(Kind, Name);
}

/// <summary>A <c>field REC.NAME</c> line; <see cref="Offset"/>/<see cref="Size"/> in bytes.</summary>
public sealed record FieldFact(string Name, long Offset, long Size, CType Type, string CSpelling)
{
    /// <summary>For bitfields: absolute bit offset from the start of the record.</summary>
    public long? BitOffset { get; init; }

    public int? BitWidth { get; init; }

    /// <summary>The anonymous records this field is reached through, outermost first; empty for direct fields.</summary>
    public IReadOnlyList<string> Via { get; init; } = [];

    /// <summary>A flexible array member (<c>[]T</c>, size 0).</summary>
    public bool IsFlexible { get; init; }

    public string? Doc { get; init; }

    public bool IsBitField => BitWidth is not null;
}

/// <summary>An <c>enum</c> line with its <c>enumerator</c> lines.</summary>
public sealed record EnumFact(string Name, PrimitiveType Underlying)
{
    public string? Family { get; init; }
    public string? File { get; init; }
    public string? Doc { get; init; }

    /// <summary>Declaration order.</summary>
    public IReadOnlyList<EnumeratorFact> Enumerators { get; init; } = [];
}

public sealed record EnumeratorFact(string Name, BigInteger Value)
{
    public string? Doc { get; init; }
}

public sealed record TypedefFact(string Name, CType Type, string CSpelling)
{
    public string? Family { get; init; }
    public string? File { get; init; }
    public string? Doc { get; init; }
}

public enum CallConv
{
    /// <summary>The platform's default C convention.</summary>
    C,
    Stdcall,
    Win64,
}

/// <summary>A parameter of a <c>func</c>; unnamed prototype parameters are named <c>_1</c>, <c>_2</c>, ... (1-based).</summary>
public sealed record ParameterFact(string Name, CType Type);

public sealed record FunctionFact(string Name, CType Return, IReadOnlyList<ParameterFact> Parameters, CallConv CallConv, string Prototype)
{
    public bool IsVariadic { get; init; }
    public string? Family { get; init; }
    public string? File { get; init; }
    public string? Doc { get; init; }
}

/// <summary>
/// A macro the compiler evaluated for the target; <see cref="Value"/> is signed according to <see cref="Type"/>.
/// For an integer cast to a pointer (<c>INVALID_HANDLE_VALUE</c>, <c>((HANDLE)(LONG_PTR)-1)</c>), <see cref="Type"/>
/// is the pointer-sized unsigned integer holding the address and <see cref="PointerType"/> is the C pointer type.
/// </summary>
public sealed record ConstantFact(string Name, BigInteger Value, PrimitiveType Type, string MacroBody)
{
    /// <summary>The pointer type of a pointer constant (<c>*void</c>), null for integers.</summary>
    public PointerType? PointerType { get; init; }

    /// <summary>The type the facts line writes: <see cref="PointerType"/> when set, else <see cref="Type"/>.</summary>
    public CType DeclaredType => PointerType ?? (CType)Type;

    public string? Family { get; init; }
    public string? File { get; init; }
    public string? Doc { get; init; }
}

public sealed record GuidFact(string Name, Guid Value)
{
    public string? Family { get; init; }
    public string? File { get; init; }
}

/// <summary>A Linux <c>__NR_*</c> number; <see cref="Name"/> has no <c>__NR_</c> prefix.</summary>
public sealed record SyscallFact(string Name, long Number);

/// <summary>The <c>@</c> block at the top of a facts file.</summary>
public sealed record Provenance(string Target, string Triple, string Os, string Arch)
{
    public const int CurrentFormat = 1;

    public int Format { get; init; } = CurrentFormat;

    /// <summary>Linux targets only: the selected kernel-header version (<c>6.12</c>).</summary>
    public string? Kernel { get; init; }

    /// <summary>One entry per package line of the sysroot's PROVENANCE, e.g. <c>deb linux-libc-dev 6.12.117-1 all trixie</c>.</summary>
    public IReadOnlyList<string> Packages { get; init; } = [];

    /// <summary><c>22.1.8</c>.</summary>
    public string? LibclangVersion { get; init; }

    /// <summary>What <c>clang_getClangVersion</c> said.</summary>
    public string? LibclangDescription { get; init; }

    /// <summary>The API families scanned for this target, sorted.</summary>
    public IReadOnlyList<string> Families { get; init; } = [];

    public bool IsLinux => Os == "linux";
    public bool IsDarwin => Os == "darwin";
    public bool IsWindows => Os == "windows";
}
