namespace Syscalls.Generator.Tool.Scanner.Clang;

// Values from clang-c/Index.h (LLVM 22); only the ones the scanner looks at.

internal enum CursorKind
{
    StructDecl = 2,
    UnionDecl = 3,
    EnumDecl = 5,
    FieldDecl = 6,
    EnumConstantDecl = 7,
    FunctionDecl = 8,
    VarDecl = 9,
    ParmDecl = 10,
    TypedefDecl = 20,
    InitListExpr = 119,
    TranslationUnit = 350,
    UnexposedAttr = 400,
    PackedAttr = 408,
    AlignedAttr = 441,
    MacroDefinition = 501,
    MacroExpansion = 502,
    InclusionDirective = 503,
}

internal enum TypeKind
{
    Invalid = 0,
    Unexposed = 1,
    Void = 2,
    Bool = 3,
    Char_U = 4,
    UChar = 5,
    Char16 = 6,
    Char32 = 7,
    UShort = 8,
    UInt = 9,
    ULong = 10,
    ULongLong = 11,
    UInt128 = 12,
    Char_S = 13,
    SChar = 14,
    WChar = 15,
    Short = 16,
    Int = 17,
    Long = 18,
    LongLong = 19,
    Int128 = 20,
    Float = 21,
    Double = 22,
    LongDouble = 23,
    Float128 = 30,
    Half = 31,
    Float16 = 32,
    Complex = 100,
    Pointer = 101,
    BlockPointer = 102,
    Record = 105,
    Enum = 106,
    Typedef = 107,
    FunctionNoProto = 110,
    FunctionProto = 111,
    ConstantArray = 112,
    Vector = 113,
    IncompleteArray = 114,
    VariableArray = 115,
    Elaborated = 119,
    Attributed = 163,
    ExtVector = 176,
    Atomic = 177,
    BTFTagAttributed = 178,
}

internal enum ClangCallConv
{
    Default = 0,
    C = 1,
    X86StdCall = 2,
    Win64 = 10,
    X86_64SysV = 11,
}

internal enum EvalKind
{
    Int = 1,
    Float = 2,
    StrLiteral = 4,
}

internal enum TokenKind
{
    Punctuation = 0,
    Keyword = 1,
    Identifier = 2,
    Literal = 3,
    Comment = 4,
}
