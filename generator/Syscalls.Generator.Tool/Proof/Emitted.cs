using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;

namespace Syscalls.Generator.Tool.Proof;

// What a compiled per-RID Syscalls.Bindings.dll declares, read from its metadata (never loaded): the managed side
// of every claim the proof puts to the C compiler. Records are plain and mutable-by-`with`, so a test can hand the
// proof a deliberately wrong expectation.

/// <summary>How a managed type crosses the native boundary.</summary>
public enum ManagedKind
{
    Void,
    Integer,
    Float,
    Pointer,
    Record,
    FixedBuffer,
    InlineArray,
    Guid,
    Other,
}

/// <summary>
/// A field, parameter or constant type reduced to what the ABI sees: its size in bytes and, for integers, its
/// signedness. <see cref="Element"/>/<see cref="Length"/> describe fixed buffers and inline arrays.
/// </summary>
public sealed record ManagedType(string Name, ManagedKind Kind, int Size, bool IsSigned = false)
{
    public ManagedType? Element { get; init; }

    /// <summary>For a function pointer: its return type and parameter types.</summary>
    public ManagedType? Return { get; init; }

    public IReadOnlyList<ManagedType> Parameters { get; init; } = [];

    public int Length { get; init; }

    public bool IsInteger => Kind == ManagedKind.Integer;

    /// <summary>Pointer-sized and passed like a pointer (<c>T*</c>, <c>nint</c>, <c>nuint</c>, function pointers).</summary>
    public bool IsPointerLike(int pointerSize) => Kind == ManagedKind.Pointer || (IsInteger && Size == pointerSize);

    public override string ToString() => Name;
}

/// <summary>
/// An instance field with its <c>[FieldOffset]</c>; or, with <see cref="IsFlexible"/>, the method a flexible array
/// member is emitted as (<c>T* name()</c>, returning this + Offset), whose <see cref="Type"/> is the pointer.
/// </summary>
public sealed record EmittedField(string Name, int Offset, ManagedType Type, bool IsPublic)
{
    public bool IsFlexible { get; init; }
}

/// <summary>
/// A bitfield accessor: a property over a storage field; <see cref="Shift"/>/<see cref="Width"/> are what its getter
/// extracts, null when the getter's IL is not the shape the proof knows how to read.
/// </summary>
public sealed record EmittedBitfield(string Name, string StorageField, int? Shift, int? Width, ManagedType Type);

/// <summary>An explicit-layout struct: <c>[StructLayout(LayoutKind.Explicit, Size = N)]</c>; <see cref="Namespace"/> of the outermost type.</summary>
public sealed record EmittedRecord(string Name, string Namespace, int Size)
{
    public IReadOnlyList<EmittedField> Fields { get; init; } = [];

    public IReadOnlyList<EmittedBitfield> Bitfields { get; init; } = [];

    public string FullName => Namespace.Length == 0 ? Name : Namespace + "." + Name;
}

public enum ConstantForm
{
    /// <summary><c>public const T NAME = value;</c></summary>
    Const,

    /// <summary><c>public static T NAME =&gt; value;</c> (value differs between architectures of one OS).</summary>
    Property,

    /// <summary><c>public static readonly Guid NAME</c>.</summary>
    Guid,
}

public sealed record EmittedConstant(string Name, string Class, ManagedType Type, ConstantForm Form)
{
    /// <summary>The namespace of <see cref="Class"/>: <c>Syscalls.Linux</c>, <c>Syscalls.Darwin</c>, <c>Syscalls.Windows</c>.</summary>
    public string Namespace { get; init; } = "";

    /// <summary>The integer value (null for GUIDs, floats and anything the reader could not evaluate).</summary>
    public BigInteger? Value { get; init; }

    public Guid? GuidValue { get; init; }
}

public sealed record EmittedParameter(string Name, ManagedType Type);

/// <summary>A P/Invoke as it sits in metadata (the LibraryImport-generated inner DllImport, or a declared one).</summary>
public sealed record EmittedFunction(string Name, string EntryPoint, string Library, string Class, ManagedType Return)
{
    /// <summary>The namespace of <see cref="Class"/>.</summary>
    public string Namespace { get; init; } = "";

    public IReadOnlyList<EmittedParameter> Parameters { get; init; } = [];

    /// <summary>The P/Invoke's metadata calling convention (<c>Winapi</c>, <c>Cdecl</c>, <c>StdCall</c>, ...).</summary>
    public string CallingConvention { get; init; } = "Winapi";

    /// <summary>
    /// The item's name in reports: the entry point with its arity, and the C# name when it differs, because
    /// overloads share an entry point (variadic arities, <c>syscall(2)</c> wrappers).
    /// </summary>
    public string Label => (Parameters.Count == 0 ? EntryPoint : $"{EntryPoint}/{Parameters.Count}") + (Name == EntryPoint ? "" : $" ({Name})");
}

/// <summary>A sequential one-field struct wrapping a function pointer: a C function-pointer typedef (<c>LPFN_ACCEPTEX</c>).</summary>
public sealed record EmittedFunctionPointerType(string Name, string Namespace, ManagedType Value);

/// <summary>Everything one bindings assembly emitted.</summary>
public sealed record EmittedAssembly(string Path, int PointerSize)
{
    public IReadOnlyList<EmittedRecord> Records { get; init; } = [];

    public IReadOnlyList<EmittedConstant> Constants { get; init; } = [];

    public IReadOnlyList<EmittedFunction> Functions { get; init; } = [];

    public IReadOnlyList<EmittedFunctionPointerType> FunctionPointerTypes { get; init; } = [];

    public EmittedRecord? FindRecord(string name) => Records.FirstOrDefault(r => r.Name == name);

    /// <summary>Only what lives in <paramref name="ns"/>: a RID's assembly declares every OS's API, but only its own OS's items are its ABI.</summary>
    public EmittedAssembly In(string ns) => this with
    {
        Records = Records.Where(r => r.Namespace == ns).ToList(),
        Constants = Constants.Where(c => c.Namespace == ns).ToList(),
        Functions = Functions.Where(f => f.Namespace == ns).ToList(),
        FunctionPointerTypes = FunctionPointerTypes.Where(f => f.Namespace == ns).ToList(),
    };

    public int Count => Records.Count + Records.Sum(r => r.Fields.Count + r.Bitfields.Count) + Constants.Count + Functions.Count
        + FunctionPointerTypes.Count;
}
