using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

// Every struct below is blittable, so no marshalling stubs are generated (and none are wanted).
[assembly: DisableRuntimeMarshalling]

namespace Syscalls.Generator.Tool.Scanner.Clang;

// The few libclang C API entry points the scanner needs (clang-c/Index.h, LLVM 22), bound by hand because
// ClangSharp is not served here. Struct layouts mirror Index.h exactly.

[StructLayout(LayoutKind.Sequential)]
internal struct CXCursor
{
    public int Kind;
    public int XData;
    public IntPtr Data0, Data1, Data2;
}

[StructLayout(LayoutKind.Sequential)]
internal struct CXType
{
    public int Kind;
    public IntPtr Data0, Data1;
}

[StructLayout(LayoutKind.Sequential)]
internal struct CXString
{
    public IntPtr Data;
    public uint PrivateFlags;
}

[StructLayout(LayoutKind.Sequential)]
internal struct CXSourceLocation
{
    public IntPtr Ptr0, Ptr1;
    public uint IntData;
}

[StructLayout(LayoutKind.Sequential)]
internal struct CXSourceRange
{
    public IntPtr Ptr0, Ptr1;
    public uint BeginIntData, EndIntData;
}

[StructLayout(LayoutKind.Sequential)]
internal struct CXToken
{
    public uint Int0, Int1, Int2, Int3;
    public IntPtr PtrData;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct CXUnsavedFile
{
    public byte* Filename;
    public byte* Contents;
    public nuint Length; // C `unsigned long`: 64-bit on the only host libclang.runtime ships here (linux-x64).
}

internal static unsafe partial class Native
{
    private const string Lib = "libclang";

    [LibraryImport(Lib)] public static partial IntPtr clang_createIndex(int excludeDeclarationsFromPch, int displayDiagnostics);
    [LibraryImport(Lib)] public static partial void clang_disposeIndex(IntPtr index);

    [LibraryImport(Lib)]
    public static partial int clang_parseTranslationUnit2(IntPtr index, byte* sourceFilename, byte** commandLineArgs, int numArgs,
        CXUnsavedFile* unsavedFiles, uint numUnsavedFiles, uint options, IntPtr* translationUnit);

    [LibraryImport(Lib)] public static partial void clang_disposeTranslationUnit(IntPtr tu);
    [LibraryImport(Lib)] public static partial uint clang_getNumDiagnostics(IntPtr tu);
    [LibraryImport(Lib)] public static partial IntPtr clang_getDiagnostic(IntPtr tu, uint index);
    [LibraryImport(Lib)] public static partial int clang_getDiagnosticSeverity(IntPtr diagnostic);
    [LibraryImport(Lib)] public static partial CXString clang_getDiagnosticSpelling(IntPtr diagnostic);
    [LibraryImport(Lib)] public static partial CXSourceLocation clang_getDiagnosticLocation(IntPtr diagnostic);
    [LibraryImport(Lib)] public static partial void clang_disposeDiagnostic(IntPtr diagnostic);

    [LibraryImport(Lib)] public static partial CXCursor clang_getTranslationUnitCursor(IntPtr tu);
    [LibraryImport(Lib)] public static partial uint clang_visitChildren(CXCursor parent, delegate* unmanaged<CXCursor, CXCursor, IntPtr, int> visitor, IntPtr clientData);
    [LibraryImport(Lib)] public static partial uint clang_Type_visitFields(CXType type, delegate* unmanaged<CXCursor, IntPtr, int> visitor, IntPtr clientData);
    [LibraryImport(Lib)] public static partial CXString clang_getCursorSpelling(CXCursor cursor);
    [LibraryImport(Lib)] public static partial CXType clang_getCursorType(CXCursor cursor);
    [LibraryImport(Lib)] public static partial CXSourceLocation clang_getCursorLocation(CXCursor cursor);
    [LibraryImport(Lib)] public static partial CXSourceRange clang_getCursorExtent(CXCursor cursor);
    [LibraryImport(Lib)] public static partial CXCursor clang_getCursorDefinition(CXCursor cursor);
    [LibraryImport(Lib)] public static partial uint clang_isCursorDefinition(CXCursor cursor);
    [LibraryImport(Lib)] public static partial uint clang_equalCursors(CXCursor a, CXCursor b);
    [LibraryImport(Lib)] public static partial uint clang_hashCursor(CXCursor cursor);
    [LibraryImport(Lib)] public static partial int clang_Cursor_isNull(CXCursor cursor);
    [LibraryImport(Lib)] public static partial long clang_Cursor_getOffsetOfField(CXCursor cursor);
    [LibraryImport(Lib)] public static partial uint clang_Cursor_isBitField(CXCursor cursor);
    [LibraryImport(Lib)] public static partial int clang_getFieldDeclBitWidth(CXCursor cursor);
    [LibraryImport(Lib)] public static partial uint clang_Cursor_isAnonymous(CXCursor cursor);
    [LibraryImport(Lib)] public static partial uint clang_Cursor_isAnonymousRecordDecl(CXCursor cursor);
    [LibraryImport(Lib)] public static partial CXType clang_getTypedefDeclUnderlyingType(CXCursor cursor);
    [LibraryImport(Lib)] public static partial CXType clang_getEnumDeclIntegerType(CXCursor cursor);
    [LibraryImport(Lib)] public static partial long clang_getEnumConstantDeclValue(CXCursor cursor);
    [LibraryImport(Lib)] public static partial ulong clang_getEnumConstantDeclUnsignedValue(CXCursor cursor);
    [LibraryImport(Lib)] public static partial int clang_Cursor_getNumArguments(CXCursor cursor);
    [LibraryImport(Lib)] public static partial CXCursor clang_Cursor_getArgument(CXCursor cursor, uint index);
    [LibraryImport(Lib)] public static partial CXString clang_Cursor_getRawCommentText(CXCursor cursor);
    [LibraryImport(Lib)] public static partial uint clang_Cursor_isMacroFunctionLike(CXCursor cursor);
    [LibraryImport(Lib)] public static partial uint clang_Cursor_isMacroBuiltin(CXCursor cursor);

    [LibraryImport(Lib)] public static partial IntPtr clang_Cursor_Evaluate(CXCursor cursor);
    [LibraryImport(Lib)] public static partial int clang_EvalResult_getKind(IntPtr result);
    [LibraryImport(Lib)] public static partial long clang_EvalResult_getAsLongLong(IntPtr result);
    [LibraryImport(Lib)] public static partial uint clang_EvalResult_isUnsignedInt(IntPtr result);
    [LibraryImport(Lib)] public static partial ulong clang_EvalResult_getAsUnsigned(IntPtr result);
    [LibraryImport(Lib)] public static partial void clang_EvalResult_dispose(IntPtr result);

    [LibraryImport(Lib)] public static partial CXString clang_getTypeSpelling(CXType type);
    [LibraryImport(Lib)] public static partial CXType clang_getCanonicalType(CXType type);
    [LibraryImport(Lib)] public static partial CXType clang_getPointeeType(CXType type);
    [LibraryImport(Lib)] public static partial CXType clang_getArrayElementType(CXType type);
    [LibraryImport(Lib)] public static partial long clang_getArraySize(CXType type);
    [LibraryImport(Lib)] public static partial long clang_Type_getSizeOf(CXType type);
    [LibraryImport(Lib)] public static partial long clang_Type_getAlignOf(CXType type);
    [LibraryImport(Lib)] public static partial CXCursor clang_getTypeDeclaration(CXType type);
    [LibraryImport(Lib)] public static partial CXType clang_getResultType(CXType type);
    [LibraryImport(Lib)] public static partial int clang_getNumArgTypes(CXType type);
    [LibraryImport(Lib)] public static partial CXType clang_getArgType(CXType type, uint index);
    [LibraryImport(Lib)] public static partial uint clang_isFunctionTypeVariadic(CXType type);
    [LibraryImport(Lib)] public static partial int clang_getFunctionTypeCallingConv(CXType type);
    [LibraryImport(Lib)] public static partial CXType clang_Type_getNamedType(CXType type);
    [LibraryImport(Lib)] public static partial CXType clang_Type_getModifiedType(CXType type);
    [LibraryImport(Lib)] public static partial uint clang_isConstQualifiedType(CXType type);

    [LibraryImport(Lib)] public static partial void clang_getSpellingLocation(CXSourceLocation location, IntPtr* file, uint* line, uint* column, uint* offset);
    [LibraryImport(Lib)] public static partial void clang_getExpansionLocation(CXSourceLocation location, IntPtr* file, uint* line, uint* column, uint* offset);
    [LibraryImport(Lib)] public static partial CXString clang_getFileName(IntPtr file);
    [LibraryImport(Lib)] public static partial IntPtr clang_getIncludedFile(CXCursor cursor);
    [LibraryImport(Lib)] public static partial CXSourceLocation clang_getRangeEnd(CXSourceRange range);

    [LibraryImport(Lib)] public static partial void clang_tokenize(IntPtr tu, CXSourceRange range, CXToken** tokens, uint* numTokens);
    [LibraryImport(Lib)] public static partial CXString clang_getTokenSpelling(IntPtr tu, CXToken token);
    [LibraryImport(Lib)] public static partial int clang_getTokenKind(CXToken token);
    [LibraryImport(Lib)] public static partial void clang_disposeTokens(IntPtr tu, CXToken* tokens, uint numTokens);

    [LibraryImport(Lib)] public static partial byte* clang_getCString(CXString text);
    [LibraryImport(Lib)] public static partial void clang_disposeString(CXString text);
    [LibraryImport(Lib)] public static partial CXString clang_getClangVersion();

    /// <summary>Copies a CXString into managed memory and frees it.</summary>
    public static string Take(CXString text)
    {
        // The pointer is valid until clang_disposeString, which runs right after the copy.
        string result = Marshal.PtrToStringUTF8((IntPtr)clang_getCString(text)) ?? "";
        clang_disposeString(text);
        return result;
    }
}
