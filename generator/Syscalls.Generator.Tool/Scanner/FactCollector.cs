using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using System.Text.RegularExpressions;
using Syscalls.Generator.Facts;
using Syscalls.Generator.Tool.Scanner.Clang;

namespace Syscalls.Generator.Tool.Scanner;

/// <summary>
/// Turns declarations of one translation unit into facts: records (layout from clang, anonymous members
/// flattened), enums, typedefs and functions, plus everything they depend on, transitively.
/// </summary>
internal sealed partial class FactCollector(TranslationUnit tu, TuIndex index, HeaderPaths paths, TargetConfig target, string family, FactSet sink)
{
    private readonly Dictionary<Cursor, bool> _transparent = new();
    private readonly Queue<(Cursor Decl, bool Requested, string Origin)> _pending = new();
    private readonly HashSet<(CursorKind, string)> _queued = [];
    private readonly List<string> _problems = [];

    public IReadOnlyList<string> Problems => _problems;

    /// <summary>Records listed <c>opaque</c>: pointers to them are <c>*void</c>, and none is defined.</summary>
    public HashSet<string> Opaque { get; } = new(StringComparer.Ordinal);

    /// <summary>Asks for a declaration (record, enum, typedef or function); <paramref name="origin"/> is for messages.</summary>
    public void Need(Cursor decl, bool requested, string origin)
    {
        if (decl.Kind is CursorKind.StructDecl or CursorKind.UnionDecl or CursorKind.EnumDecl)
        {
            decl = TuIndex.Normalize(decl);
        }
        string name = NameOf(decl, origin);
        var key = (decl.Kind == CursorKind.UnionDecl ? CursorKind.StructDecl : decl.Kind, name);
        if (_queued.Add(key) || requested)
        {
            _pending.Enqueue((decl, requested, origin));
        }
    }

    /// <summary>Builds every pending declaration and what it pulls in.</summary>
    public void Drain()
    {
        while (_pending.Count > 0)
        {
            var (decl, requested, origin) = _pending.Dequeue();
            try
            {
                switch (decl.Kind)
                {
                    case CursorKind.StructDecl or CursorKind.UnionDecl:
                        var record = BuildRecord(decl, origin);
                        FactSet.Put(sink.Records, record.Name, record, requested);
                        break;
                    case CursorKind.EnumDecl:
                        var e = BuildEnum(decl, origin);
                        FactSet.Put(sink.Enums, e.Name, e, requested);
                        break;
                    case CursorKind.TypedefDecl:
                        var t = BuildTypedef(decl);
                        FactSet.Put(sink.Typedefs, t.Name, t, requested);
                        break;
                    case CursorKind.FunctionDecl:
                        var f = BuildFunction(decl);
                        FactSet.Put(sink.Functions, f.Name, f, requested);
                        break;
                }
            }
            catch (ScanException ex)
            {
                _problems.AddRange(ex.Problems.Select(p => $"{p} (needed by {origin})"));
            }
        }
    }

    private string NameOf(Cursor decl, string origin)
    {
        if (decl.Kind is CursorKind.StructDecl or CursorKind.UnionDecl or CursorKind.EnumDecl && index.UnnamedNames.TryGetValue(decl, out var known))
        {
            return known;
        }
        if (decl.Kind is CursorKind.StructDecl or CursorKind.UnionDecl or CursorKind.EnumDecl && decl.IsAnonymous)
        {
            return index.UnnamedNames.TryGetValue(decl, out var name)
                ? name
                : throw Fail(decl, $"an unnamed {KindWord(decl)} is used where no field or typedef names it (needed by {origin})");
        }
        return decl.Spelling;
    }

    private RecordFact BuildRecord(Cursor decl, string origin)
    {
        string name = NameOf(decl, origin);
        var type = decl.Type;
        long size = type.SizeOf, align = type.AlignOf;
        if (size < 0)
        {
            throw Fail(decl, $"{KindWord(decl)} {name} is incomplete (declared but never defined), so its layout is unknown");
        }
        if (align > 8)
        {
            throw Fail(decl, $"{KindWord(decl)} {name} has alignment {align}: C# explicit layout cannot align beyond 8 bytes");
        }
        var fields = new List<FieldFact>();
        Flatten(type, name, 0, [], fields);
        long maxFieldAlign = type.Fields().Select(f => f.Type.Canonical.AlignOf).DefaultIfEmpty(1).Max();
        bool packed = decl.Children().Any(c => c.Kind == CursorKind.PackedAttr) || align < maxFieldAlign;
        return new RecordFact(decl.Kind == CursorKind.UnionDecl ? RecordKind.Union : RecordKind.Struct, name, size, align)
        {
            IsPacked = packed,
            IsUnnamed = decl.IsAnonymous || index.UnnamedNames.ContainsKey(decl),
            Family = family,
            File = paths.Relative(decl.ExpansionLocation.File),
            Doc = CommentText.Fold(decl.RawComment),
            Fields = fields,
        };
    }

    /// <summary>
    /// Lists the fields of <paramref name="record"/> (named <paramref name="recordName"/>) into <paramref name="into"/>,
    /// with anonymous members' fields lifted to absolute offsets (FORMAT.md "field").
    /// </summary>
    private void Flatten(ClangType record, string recordName, long baseBits, IReadOnlyList<string> via, List<FieldFact> into)
    {
        int anonymous = 0;
        var fields = record.Fields();
        for (int i = 0; i < fields.Count; i++)
        {
            var field = fields[i];
            string name = field.Spelling;
            var fieldType = field.Type;
            var canonical = fieldType.Canonical;
            long bits = baseBits + field.FieldOffsetBits;
            var inner = Innermost(canonical);
            if (inner.Kind is TypeKind.Record or TypeKind.Enum)
            {
                var innerDecl = TuIndex.Normalize(inner.Declaration);
                if (innerDecl.IsAnonymousRecordDecl && canonical.Kind == TypeKind.Record)
                {
                    // C11 anonymous member: its fields are named as if they were the parent's own.
                    string anonName = recordName + "__anon" + (++anonymous).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    index.UnnamedNames[innerDecl] = anonName;
                    Need(innerDecl, requested: false, recordName);
                    Flatten(canonical, anonName, bits, [.. via, anonName], into);
                    continue;
                }
                if (innerDecl.IsAnonymous && !index.UnnamedNames.ContainsKey(innerDecl))
                {
                    index.UnnamedNames[innerDecl] = recordName + "__" + name;
                }
            }
            if (name.Length == 0)
            {
                continue; // an unnamed bitfield only pads; the absolute bit offsets of the others already say so
            }
            string context = $"field {recordName}.{name}";
            var mapped = Map(fieldType, context);
            NeedTypedefs(fieldType, context);
            var fact = new FieldFact(name, bits / 8, Math.Max(canonical.SizeOf, 0), mapped, Spell(fieldType))
            {
                Via = via,
                IsFlexible = canonical.Kind == TypeKind.IncompleteArray,
                Doc = CommentText.Fold(field.RawComment),
            };
            if (field.IsBitField)
            {
                long unitBits = canonical.SizeOf * 8;
                fact = fact with
                {
                    Offset = bits / unitBits * canonical.SizeOf,
                    BitOffset = bits,
                    BitWidth = field.BitWidth,
                };
            }
            into.Add(fact);
        }
    }

    private EnumFact BuildEnum(Cursor decl, string origin)
    {
        string name = NameOf(decl, origin);
        var underlying = Map(decl.EnumIntegerType, $"enum {name}") as PrimitiveType;
        if (underlying is not { IsInteger: true })
        {
            throw Fail(decl, $"enum {name} has no integer underlying type");
        }
        var enumerators = decl.Children().Where(c => c.Kind == CursorKind.EnumConstantDecl)
            .Select(c => new EnumeratorFact(c.Spelling, underlying.IsSigned ? new BigInteger(c.EnumValue) : new BigInteger(c.EnumUnsignedValue))
            {
                Doc = CommentText.Fold(c.RawComment),
            }).ToList();
        return new EnumFact(name, underlying)
        {
            Family = family,
            File = paths.Relative(decl.ExpansionLocation.File),
            Doc = CommentText.Fold(decl.RawComment),
            Enumerators = enumerators,
        };
    }

    private TypedefFact BuildTypedef(Cursor decl)
    {
        string name = decl.Spelling;
        var underlying = decl.TypedefUnderlyingType;
        var type = Map(underlying, $"typedef {name}");
        NeedTypedefs(underlying, $"typedef {name}");
        return new TypedefFact(name, type, Spell(underlying))
        {
            Family = family,
            File = paths.Relative(decl.ExpansionLocation.File),
            Doc = CommentText.Fold(decl.RawComment),
        };
    }

    private FunctionFact BuildFunction(Cursor decl)
    {
        string name = decl.Spelling;
        var type = decl.Type;
        string context = $"func {name}";
        var ret = Map(type.Result, context);
        NeedTypedefs(type.Result, context);
        var args = decl.Arguments;
        var argTypes = type.Kind == TypeKind.FunctionProto ? type.ArgTypes : [];
        var parameters = new List<ParameterFact>();
        var spelled = new List<string>();
        for (int i = 0; i < argTypes.Count; i++)
        {
            string argName = i < args.Count ? args[i].Spelling : "";
            var sugared = i < args.Count ? args[i].Type : argTypes[i];
            // A transparent union (glibc's __SOCKADDR_ARG under _GNU_SOURCE) is passed as its first member.
            var passed = TransparentUnionMember(argTypes[i]) ?? argTypes[i];
            parameters.Add(new ParameterFact(argName.Length > 0 ? argName : "_" + (i + 1), Decay(Map(passed, $"parameter {i + 1} of {context}"))));
            NeedTypedefs(TransparentUnionMember(argTypes[i]) ?? sugared, context);
            string typeText = Spell(sugared);
            int bracket = typeText.IndexOf('[');
            spelled.Add(argName.Length == 0 ? typeText
                : bracket > 0 && typeText.IndexOf('(') < 0 ? typeText.Substring(0, bracket).TrimEnd() + " " + argName + typeText.Substring(bracket)
                : typeText.EndsWith("*", StringComparison.Ordinal) ? typeText + argName
                : typeText + " " + argName);
        }
        bool variadic = type.Kind == TypeKind.FunctionProto && type.IsVariadic;
        if (variadic)
        {
            spelled.Add("...");
        }
        var cc = type.CallingConv switch
        {
            ClangCallConv.C or ClangCallConv.Default => CallConv.C,
            ClangCallConv.X86StdCall => CallConv.Stdcall,
            ClangCallConv.Win64 => CallConv.Win64,
            var other => throw Fail(decl, $"func {name} uses calling convention {other}, which the bindings cannot call"),
        };
        string prototype = $"{Spell(type.Result)} {name}({(spelled.Count == 0 ? "void" : string.Join(", ", spelled))})";
        return new FunctionFact(name, ret, parameters, cc, prototype)
        {
            IsVariadic = variadic,
            Family = family,
            File = paths.Relative(decl.ExpansionLocation.File),
            Doc = CommentText.Fold(decl.RawComment),
        };
    }

    /// <summary>Maps a clang type to the facts' type grammar, asking for every record and enum it names.</summary>
    public CType Map(ClangType type, string context)
    {
        var c = type.Canonical;
        switch (c.Kind)
        {
            case TypeKind.Pointer:
                var pointee = c.Pointee;
                // A pointer to a record that is never defined (opaque handle), or that the family declares opaque,
                // stays a pointer to void.
                if (pointee.Kind is TypeKind.Record or TypeKind.Enum && (pointee.SizeOf < 0 || IsOpaque(pointee)))
                {
                    return new PointerType(CType.Void);
                }
                return new PointerType(Map(pointee, context));
            case TypeKind.ConstantArray:
                return new ArrayType(Map(c.ArrayElement, context), c.ArraySize);
            case TypeKind.IncompleteArray:
                return new ArrayType(Map(c.ArrayElement, context), null);
            case TypeKind.Record or TypeKind.Enum:
            {
                var decl = TuIndex.Normalize(c.Declaration);
                string name = NameOf(decl, context);
                Need(decl, requested: false, context);
                return c.Kind == TypeKind.Enum ? new EnumRefType(name)
                    : new RecordRefType(decl.Kind == CursorKind.UnionDecl ? RecordKind.Union : RecordKind.Struct, name);
            }
            case TypeKind.FunctionProto:
                return new FunctionType(Map(c.Result, context), c.ArgTypes.Select(a => Decay(Map(a, context))).ToList(), c.IsVariadic);
            case TypeKind.FunctionNoProto:
                return new FunctionType(Map(c.Result, context), [], false);
            case TypeKind.Void:
                return CType.Void;
            case TypeKind.Bool:
                return CType.Bool;
            case TypeKind.Char_S or TypeKind.SChar or TypeKind.Short or TypeKind.Int or TypeKind.Long or TypeKind.LongLong
                or TypeKind.Int128 or TypeKind.WChar when c.SizeOf > 0:
                return CType.Integer((int)c.SizeOf, signed: c.Kind != TypeKind.WChar || target.Os != "windows");
            case TypeKind.Char_U or TypeKind.UChar or TypeKind.UShort or TypeKind.UInt or TypeKind.ULong or TypeKind.ULongLong
                or TypeKind.UInt128 or TypeKind.Char16 or TypeKind.Char32:
                return CType.Integer((int)c.SizeOf, signed: false);
            case TypeKind.Float:
                return new PrimitiveType(Primitive.F32);
            case TypeKind.Double:
                return new PrimitiveType(Primitive.F64);
            case TypeKind.LongDouble:
                // x86 long double is the 80-bit x87 format in a 16-byte slot; AArch64 Linux uses IEEE quad;
                // Apple arm64 makes it a plain double.
                return new PrimitiveType(c.SizeOf == 8 ? Primitive.F64 : target.Arch == "x64" ? Primitive.F80 : Primitive.F128);
            case TypeKind.Float128:
                return new PrimitiveType(Primitive.F128);
        }
        throw new ScanException($"{context}: type '{type.Spelling}' ({c.Kind}) cannot be expressed in the bindings (vector, complex, atomic or half-precision types have no C# layout here)");
    }

    /// <summary>The first member's type when <paramref name="type"/> is a <c>__attribute__((transparent_union))</c> union.</summary>
    private ClangType? TransparentUnionMember(ClangType type)
    {
        var c = type.Canonical;
        if (c.Kind != TypeKind.Record)
        {
            return null;
        }
        var decl = TuIndex.Normalize(c.Declaration);
        if (decl.Kind != CursorKind.UnionDecl)
        {
            return null;
        }
        if (!_transparent.TryGetValue(decl, out bool transparent))
        {
            // libclang exposes the attribute only as an unexposed one; its tokens name it.
            _transparent[decl] = transparent = decl.Children().Any(a => a.Kind == CursorKind.UnexposedAttr
                && tu.Tokens(a).Any(t => t.Text.Contains("transparent_union")));
        }
        var fields = transparent ? c.Fields() : [];
        return fields.Count > 0 ? fields[0].Type : null;
    }

    /// <summary>A parameter declared as an array (<c>WSAPOLLFD fdarray[]</c>) is a pointer in C, whatever clang keeps as sugar.</summary>
    private static CType Decay(CType type) => type is ArrayType a ? new PointerType(a.Element) : type;

    /// <summary>Asks for every typedef a declared type goes through (a field's <c>uint32_t</c>, a parameter's <c>socklen_t</c>).</summary>
    public void NeedTypedefs(ClangType type, string context)
    {
        for (int depth = 0; depth < 64; depth++)
        {
            switch (type.Kind)
            {
                case TypeKind.Typedef:
                    var decl = type.Declaration;
                    if (!decl.IsNull)
                    {
                        Need(decl, requested: false, context);
                    }
                    return;
                case TypeKind.Elaborated:
                    type = type.NamedType;
                    continue;
                case TypeKind.Attributed or TypeKind.BTFTagAttributed:
                    type = type.ModifiedType;
                    continue;
                case TypeKind.Pointer:
                    if (IsOpaque(type.Pointee.Canonical))
                    {
                        return; // bound as *void: neither the record nor its typedef is needed
                    }
                    type = type.Pointee;
                    continue;
                case TypeKind.ConstantArray or TypeKind.IncompleteArray:
                    type = type.ArrayElement;
                    continue;
                case TypeKind.FunctionProto:
                    foreach (var arg in type.ArgTypes)
                    {
                        NeedTypedefs(arg, context);
                    }
                    type = type.Result;
                    continue;
                default:
                    return;
            }
        }
    }

    /// <summary>Whether a canonical type is a record the family lists as <c>opaque</c>.</summary>
    private bool IsOpaque(ClangType canonical)
    {
        if (Opaque.Count == 0 || canonical.Kind != TypeKind.Record)
        {
            return false;
        }
        var decl = TuIndex.Normalize(canonical.Declaration);
        string? name = index.UnnamedNames.TryGetValue(decl, out var known) ? known
            : decl.IsAnonymous ? null : decl.Spelling;
        return name is not null && Opaque.Contains(name);
    }

    /// <summary>
    /// The C spelling of a type, with clang's "(unnamed struct at /abs/path:line:col)" replaced by the synthesized
    /// name so that the facts do not depend on where the sysroot was unpacked.
    /// </summary>
    public string Spell(ClangType type)
    {
        string text = type.Spelling;
        if (text.IndexOf(" at ", StringComparison.Ordinal) < 0)
        {
            return text;
        }
        var inner = Innermost(type.Canonical);
        string? name = inner.Kind is TypeKind.Record or TypeKind.Enum && index.UnnamedNames.TryGetValue(TuIndex.Normalize(inner.Declaration), out var n) ? n : null;
        return UnnamedSpelling().Replace(text, m => name ?? "(unnamed)");
    }

    [GeneratedRegex(@"\((?:unnamed|anonymous)(?: struct| union| enum)? at [^)]*\)")]
    private static partial Regex UnnamedSpelling();

    private static ClangType Innermost(ClangType canonical)
    {
        while (canonical.Kind is TypeKind.ConstantArray or TypeKind.IncompleteArray or TypeKind.Pointer)
        {
            canonical = canonical.Kind == TypeKind.Pointer ? canonical.Pointee : canonical.ArrayElement;
        }
        return canonical;
    }

    private static string KindWord(Cursor decl) => decl.Kind switch
    {
        CursorKind.UnionDecl => "union",
        CursorKind.EnumDecl => "enum",
        _ => "struct",
    };

    private ScanException Fail(Cursor decl, string message)
    {
        var pos = decl.ExpansionLocation;
        return new ScanException($"{paths.Display(pos.File)}:{pos.Line}: {message}");
    }
}
