using System;
using System.Collections.Generic;
using Syscalls.Generator.Tool.Scanner.Clang;

namespace Syscalls.Generator.Tool.Scanner;

/// <summary>
/// The file-scope declarations and macros of one translation unit, by C name. Unnamed records and enums that a
/// typedef names (<c>typedef struct { ... } fd_set;</c>) get that typedef's name here.
/// </summary>
internal sealed class TuIndex
{
    public Dictionary<string, Cursor> Records { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, Cursor> Enums { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, Cursor> Typedefs { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, Cursor> Functions { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, Cursor> Variables { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, (Cursor Enum, Cursor Constant)> Enumerators { get; } = new(StringComparer.Ordinal);

    /// <summary>Macro definitions by name; the last definition wins, as in the preprocessor.</summary>
    public Dictionary<string, Cursor> Macros { get; } = new(StringComparer.Ordinal);

    /// <summary>Names for tagless records/enums, keyed by their (definition) cursor.</summary>
    public Dictionary<Cursor, string> UnnamedNames { get; } = new();

    public TuIndex(TranslationUnit tu)
    {
        foreach (var c in tu.Root.Children())
        {
            Add(c);
        }
        foreach (var (name, typedef) in Typedefs)
        {
            var t = typedef.TypedefUnderlyingType;
            while (t.Kind is TypeKind.Elaborated or TypeKind.Attributed)
            {
                t = t.Kind == TypeKind.Elaborated ? t.NamedType : t.ModifiedType;
            }
            if (t.Kind is not (TypeKind.Record or TypeKind.Enum))
            {
                continue;
            }
            var decl = Normalize(t.Declaration);
            if (IsTagless(decl, t) && !decl.IsAnonymousRecordDecl && !UnnamedNames.ContainsKey(decl))
            {
                UnnamedNames[decl] = name;
                (t.Kind == TypeKind.Record ? Records : Enums).TryAdd(name, decl);
            }
        }
    }

    /// <summary>
    /// A record/enum written without a tag. libclang's isAnonymous says no once a typedef names it (C++ "name for
    /// linkage" rules applied to C), but clang still prints such a type as "struct (unnamed at ...)".
    /// </summary>
    public static bool IsTagless(Cursor decl, ClangType sugared) =>
        decl.IsAnonymous || sugared.Spelling.Contains("(unnamed", StringComparison.Ordinal) || sugared.Spelling.Contains("(anonymous", StringComparison.Ordinal);

    /// <summary>The definition of a tag declaration when there is one, so every reference maps to one key.</summary>
    public static Cursor Normalize(Cursor decl)
    {
        var def = decl.Definition;
        return def.IsNull ? decl : def;
    }

    private void Add(Cursor c)
    {
        switch (c.Kind)
        {
            case CursorKind.StructDecl or CursorKind.UnionDecl:
                if (!c.IsAnonymous)
                {
                    AddTag(Records, c);
                }
                // C puts records declared inside a record at file scope.
                foreach (var child in c.Children())
                {
                    if (child.Kind is CursorKind.StructDecl or CursorKind.UnionDecl or CursorKind.EnumDecl)
                    {
                        Add(child);
                    }
                }
                break;
            case CursorKind.EnumDecl:
                if (!c.IsAnonymous)
                {
                    AddTag(Enums, c);
                }
                if (c.IsDefinition)
                {
                    foreach (var child in c.Children())
                    {
                        if (child.Kind == CursorKind.EnumConstantDecl)
                        {
                            Enumerators.TryAdd(child.Spelling, (c, child));
                        }
                    }
                }
                break;
            case CursorKind.TypedefDecl:
                Typedefs.TryAdd(c.Spelling, c);
                break;
            case CursorKind.FunctionDecl:
                Functions.TryAdd(c.Spelling, c);
                break;
            case CursorKind.VarDecl:
                Variables.TryAdd(c.Spelling, c);
                break;
            case CursorKind.MacroDefinition:
                Macros[c.Spelling] = c;
                break;
        }
    }

    private static void AddTag(Dictionary<string, Cursor> map, Cursor c)
    {
        string name = c.Spelling;
        if (!map.TryGetValue(name, out var old) || (!old.IsDefinition && c.IsDefinition))
        {
            map[name] = c;
        }
    }
}
