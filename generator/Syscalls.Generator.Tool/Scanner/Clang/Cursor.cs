using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace Syscalls.Generator.Tool.Scanner.Clang;

/// <summary>A source position: file path (as clang spells it), 1-based line, 0-based byte offset.</summary>
internal readonly record struct SourcePos(string File, int Line, int Offset)
{
    public override string ToString() => $"{File}:{Line}";
}

/// <summary>A safe view of a CXCursor. Valid while its translation unit is alive.</summary>
internal readonly struct Cursor : IEquatable<Cursor>
{
    internal readonly CXCursor Raw;

    internal Cursor(CXCursor raw) => Raw = raw;

    public CursorKind Kind => (CursorKind)Raw.Kind;
    public bool IsNull => Native.clang_Cursor_isNull(Raw) != 0;
    public string Spelling => Native.Take(Native.clang_getCursorSpelling(Raw));
    public ClangType Type => new(Native.clang_getCursorType(Raw));
    public Cursor Definition => new(Native.clang_getCursorDefinition(Raw));
    public bool IsDefinition => Native.clang_isCursorDefinition(Raw) != 0;

    /// <summary>A member without a name whose type is an anonymous struct/union (C11 anonymous member).</summary>
    public bool IsAnonymousRecordDecl => Native.clang_Cursor_isAnonymousRecordDecl(Raw) != 0;

    /// <summary>A record declaration without a tag name.</summary>
    public bool IsAnonymous => Native.clang_Cursor_isAnonymous(Raw) != 0;

    public long FieldOffsetBits => Native.clang_Cursor_getOffsetOfField(Raw);
    public bool IsBitField => Native.clang_Cursor_isBitField(Raw) != 0;
    public int BitWidth => Native.clang_getFieldDeclBitWidth(Raw);
    public ClangType TypedefUnderlyingType => new(Native.clang_getTypedefDeclUnderlyingType(Raw));
    public ClangType EnumIntegerType => new(Native.clang_getEnumDeclIntegerType(Raw));
    public long EnumValue => Native.clang_getEnumConstantDeclValue(Raw);
    public ulong EnumUnsignedValue => Native.clang_getEnumConstantDeclUnsignedValue(Raw);
    public bool IsMacroFunctionLike => Native.clang_Cursor_isMacroFunctionLike(Raw) != 0;
    public bool IsMacroBuiltin => Native.clang_Cursor_isMacroBuiltin(Raw) != 0;

    public string? RawComment
    {
        get
        {
            string text = Native.Take(Native.clang_Cursor_getRawCommentText(Raw));
            return text.Length == 0 ? null : text;
        }
    }

    public IReadOnlyList<Cursor> Arguments
    {
        get
        {
            int n = Native.clang_Cursor_getNumArguments(Raw);
            var list = new List<Cursor>(Math.Max(n, 0));
            for (uint i = 0; i < n; i++)
            {
                list.Add(new Cursor(Native.clang_Cursor_getArgument(Raw, i)));
            }
            return list;
        }
    }

    /// <summary>Where the cursor is spelled (for a macro expansion inside a header: the header, not the use).</summary>
    public SourcePos Location => Pos(Native.clang_getCursorLocation(Raw), expansion: false);

    /// <summary>Where the cursor ends up after macro expansion (the line of the synthetic declaration).</summary>
    public SourcePos ExpansionLocation => Pos(Native.clang_getCursorLocation(Raw), expansion: true);

    /// <summary>For an inclusion directive: the file it included ("" when it was not found).</summary>
    public string IncludedFile => Native.clang_getIncludedFile(Raw) is var file && file != IntPtr.Zero
        ? Native.Take(Native.clang_getFileName(file))
        : "";

    internal CXSourceRange Extent => Native.clang_getCursorExtent(Raw);

    /// <summary>Where the cursor's source range ends (for a macro: just past its body).</summary>
    public SourcePos ExtentEnd => Pos(Native.clang_getRangeEnd(Extent), expansion: false);

    public unsafe List<Cursor> Children()
    {
        var list = new List<Cursor>();
        var handle = GCHandle.Alloc(list);
        try
        {
            // The handle keeps the list alive for the synchronous visit; the callback only appends to it.
            Native.clang_visitChildren(Raw, &CollectChild, GCHandle.ToIntPtr(handle));
        }
        finally
        {
            handle.Free();
        }
        return list;
    }

    /// <summary>
    /// The evaluated integer value of a variable's initializer or an expression, or null when clang cannot fold it
    /// to an integer. Unsigned results come back as their unsigned value.
    /// </summary>
    public (long Value, bool Unsigned)? EvaluateInteger()
    {
        IntPtr result = Native.clang_Cursor_Evaluate(Raw);
        if (result == IntPtr.Zero)
        {
            return null;
        }
        try
        {
            if ((EvalKind)Native.clang_EvalResult_getKind(result) != EvalKind.Int)
            {
                return null;
            }
            bool unsigned = Native.clang_EvalResult_isUnsignedInt(result) != 0;
            long value = unsigned ? unchecked((long)Native.clang_EvalResult_getAsUnsigned(result)) : Native.clang_EvalResult_getAsLongLong(result);
            return (value, unsigned);
        }
        finally
        {
            Native.clang_EvalResult_dispose(result);
        }
    }

    public bool Equals(Cursor other) => Native.clang_equalCursors(Raw, other.Raw) != 0;
    public override bool Equals(object? obj) => obj is Cursor c && Equals(c);
    public override int GetHashCode() => (int)Native.clang_hashCursor(Raw);

    internal static unsafe SourcePos Pos(CXSourceLocation location, bool expansion)
    {
        IntPtr file;
        uint line, column, offset;
        // Out-pointers to locals; libclang writes them before returning.
        if (expansion)
        {
            Native.clang_getExpansionLocation(location, &file, &line, &column, &offset);
        }
        else
        {
            Native.clang_getSpellingLocation(location, &file, &line, &column, &offset);
        }
        string name = file == IntPtr.Zero ? "" : Native.Take(Native.clang_getFileName(file));
        return new SourcePos(name, (int)line, (int)offset);
    }

    [UnmanagedCallersOnly]
    private static int CollectChild(CXCursor cursor, CXCursor parent, IntPtr data)
    {
        ((List<Cursor>)GCHandle.FromIntPtr(data).Target!).Add(new Cursor(cursor));
        return 1; // CXChildVisit_Continue: siblings only, the caller recurses where it wants.
    }
}

/// <summary>A safe view of a CXType.</summary>
internal readonly struct ClangType
{
    internal readonly CXType Raw;

    internal ClangType(CXType raw) => Raw = raw;

    public TypeKind Kind => (TypeKind)Raw.Kind;
    public string Spelling => Native.Take(Native.clang_getTypeSpelling(Raw));
    public ClangType Canonical => new(Native.clang_getCanonicalType(Raw));
    public ClangType Pointee => new(Native.clang_getPointeeType(Raw));
    public ClangType ArrayElement => new(Native.clang_getArrayElementType(Raw));
    public long ArraySize => Native.clang_getArraySize(Raw);

    /// <summary>Bytes, or a negative CXTypeLayoutError for incomplete/dependent types.</summary>
    public long SizeOf => Native.clang_Type_getSizeOf(Raw);

    public long AlignOf => Native.clang_Type_getAlignOf(Raw);
    public Cursor Declaration => new(Native.clang_getTypeDeclaration(Raw));
    public ClangType Result => new(Native.clang_getResultType(Raw));
    public bool IsVariadic => Native.clang_isFunctionTypeVariadic(Raw) != 0;
    public ClangCallConv CallingConv => (ClangCallConv)Native.clang_getFunctionTypeCallingConv(Raw);
    public ClangType NamedType => new(Native.clang_Type_getNamedType(Raw));
    public ClangType ModifiedType => new(Native.clang_Type_getModifiedType(Raw));

    public IReadOnlyList<ClangType> ArgTypes
    {
        get
        {
            int n = Native.clang_getNumArgTypes(Raw);
            var list = new List<ClangType>(Math.Max(n, 0));
            for (uint i = 0; i < n; i++)
            {
                list.Add(new ClangType(Native.clang_getArgType(Raw, i)));
            }
            return list;
        }
    }

    /// <summary>Every FieldDecl of a record type, including the unnamed ones that hold anonymous members.</summary>
    public unsafe List<Cursor> Fields()
    {
        var list = new List<Cursor>();
        var handle = GCHandle.Alloc(list);
        try
        {
            // Same pattern as Cursor.Children: the handle outlives the synchronous visit.
            Native.clang_Type_visitFields(Raw, &CollectField, GCHandle.ToIntPtr(handle));
        }
        finally
        {
            handle.Free();
        }
        return list;
    }

    [UnmanagedCallersOnly]
    private static int CollectField(CXCursor cursor, IntPtr data)
    {
        ((List<Cursor>)GCHandle.FromIntPtr(data).Target!).Add(new Cursor(cursor));
        return 1; // CXVisit_Continue
    }
}
