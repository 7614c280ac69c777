using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace Syscalls.Generator.Facts;

/// <summary>
/// A C type as the facts spell it (FORMAT.md "Types"): one token such as <c>*struct:sockaddr</c>,
/// <c>[14]i8</c> or <c>fn(i32;*void,u64)</c>, parsed into a small tree. Typedefs are already resolved.
/// Two types are equal when their canonical spelling is equal.
/// </summary>
public abstract record CType
{
    public static PrimitiveType Void { get; } = new(Primitive.Void);
    public static PrimitiveType Bool { get; } = new(Primitive.Bool);
    public static PrimitiveType I8 { get; } = new(Primitive.I8);
    public static PrimitiveType U8 { get; } = new(Primitive.U8);
    public static PrimitiveType I16 { get; } = new(Primitive.I16);
    public static PrimitiveType U16 { get; } = new(Primitive.U16);
    public static PrimitiveType I32 { get; } = new(Primitive.I32);
    public static PrimitiveType U32 { get; } = new(Primitive.U32);
    public static PrimitiveType I64 { get; } = new(Primitive.I64);
    public static PrimitiveType U64 { get; } = new(Primitive.U64);

    /// <summary>Parses one type token; throws <see cref="FormatException"/> naming the offending position.</summary>
    public static CType Parse(string text)
    {
        if (!TryParse(text, out var type, out var error))
        {
            throw new FormatException(error);
        }
        return type!;
    }

    public static bool TryParse(string text, out CType? type, out string? error)
    {
        var parser = new TypeParser(text);
        try
        {
            type = parser.ParseType();
            if (!parser.AtEnd)
            {
                throw parser.Fail("unexpected text after the type");
            }
            error = null;
            return true;
        }
        catch (FormatException e)
        {
            type = null;
            error = e.Message;
            return false;
        }
    }

    /// <summary>Integer primitives by byte size and signedness (1, 2, 4, 8, 16 bytes).</summary>
    public static PrimitiveType Integer(int size, bool signed) => new(size switch
    {
        1 => signed ? Primitive.I8 : Primitive.U8,
        2 => signed ? Primitive.I16 : Primitive.U16,
        4 => signed ? Primitive.I32 : Primitive.U32,
        8 => signed ? Primitive.I64 : Primitive.U64,
        16 => signed ? Primitive.I128 : Primitive.U128,
        _ => throw new ArgumentOutOfRangeException(nameof(size), size, "no integer primitive of that size"),
    });

    /// <summary>This type with every array and pointer peeled off (the type a declaration finally names).</summary>
    public CType Innermost => this switch
    {
        PointerType p => p.Pointee.Innermost,
        ArrayType a => a.Element.Innermost,
        _ => this,
    };
}

/// <summary>The leaf types of the grammar.</summary>
public enum Primitive
{
    Void, Bool, I8, U8, I16, U16, I32, U32, I64, U64, I128, U128, F32, F64, F80, F128,
}

public sealed record PrimitiveType(Primitive Kind) : CType
{
    internal static readonly string[] Names =
    [
        "void", "bool", "i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "i128", "u128", "f32", "f64", "f80", "f128",
    ];

    public bool IsInteger => Kind >= Primitive.I8 && Kind <= Primitive.U128;
    public bool IsSigned => Kind is Primitive.I8 or Primitive.I16 or Primitive.I32 or Primitive.I64 or Primitive.I128;
    public bool IsFloatingPoint => Kind >= Primitive.F32;

    /// <summary>Bytes of the value (f80 is 10: its storage size depends on the target and is on the field).</summary>
    public int ByteSize => Kind switch
    {
        Primitive.Void => 0,
        Primitive.Bool or Primitive.I8 or Primitive.U8 => 1,
        Primitive.I16 or Primitive.U16 => 2,
        Primitive.I32 or Primitive.U32 or Primitive.F32 => 4,
        Primitive.I64 or Primitive.U64 or Primitive.F64 => 8,
        Primitive.F80 => 10,
        _ => 16,
    };

    public override string ToString() => Names[(int)Kind];
}

public sealed record PointerType(CType Pointee) : CType
{
    public override string ToString() => "*" + Pointee;
}

/// <summary>A C array; <see cref="Length"/> is null for a flexible array member (<c>[]T</c>).</summary>
public sealed record ArrayType(CType Element, long? Length) : CType
{
    public bool IsFlexible => Length is null;

    public override string ToString() =>
        "[" + (Length?.ToString(CultureInfo.InvariantCulture) ?? "") + "]" + Element;
}

public enum RecordKind
{
    Struct,
    Union,
}

/// <summary>A reference to a <c>struct</c>/<c>union</c> fact by name.</summary>
public sealed record RecordRefType(RecordKind Kind, string Name) : CType
{
    public override string ToString() => (Kind == RecordKind.Struct ? "struct:" : "union:") + Name;
}

/// <summary>A reference to an <c>enum</c> fact by name.</summary>
public sealed record EnumRefType(string Name) : CType
{
    public override string ToString() => "enum:" + Name;
}

/// <summary>A function type; only ever seen behind a pointer.</summary>
public sealed record FunctionType(CType Return, IReadOnlyList<CType> Parameters, bool IsVariadic) : CType
{
    public bool Equals(FunctionType? other) =>
        other is not null && Return.Equals(other.Return) && IsVariadic == other.IsVariadic
        && Parameters.SequenceEqual(other.Parameters);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(ToString());

    public override string ToString()
    {
        var s = new StringBuilder("fn(").Append(Return).Append(';');
        s.Append(string.Join(",", Parameters));
        if (IsVariadic)
        {
            s.Append(Parameters.Count > 0 ? ",..." : "...");
        }
        return s.Append(')').ToString();
    }
}

/// <summary>Recursive-descent parser over one type token.</summary>
internal sealed class TypeParser(string text)
{
    private int _pos;

    public bool AtEnd => _pos == text.Length;

    public FormatException Fail(string why) => new($"bad type '{text}' at column {_pos + 1}: {why}");

    public CType ParseType()
    {
        if (AtEnd)
        {
            throw Fail("type expected");
        }
        char c = text[_pos];
        if (c == '*')
        {
            _pos++;
            return new PointerType(ParseType());
        }
        if (c == '[')
        {
            _pos++;
            int start = _pos;
            while (!AtEnd && char.IsDigit(text[_pos]))
            {
                _pos++;
            }
            long? length = _pos == start ? null : long.Parse(text.Substring(start, _pos - start), CultureInfo.InvariantCulture);
            Expect(']');
            return new ArrayType(ParseType(), length);
        }
        string word = Word();
        switch (word)
        {
            case "struct" or "union" or "enum":
                Expect(':');
                string name = Word();
                if (name.Length == 0)
                {
                    throw Fail("name expected");
                }
                return word == "enum" ? new EnumRefType(name)
                    : new RecordRefType(word == "struct" ? RecordKind.Struct : RecordKind.Union, name);
            case "fn":
                return ParseFunction();
        }
        int index = Array.IndexOf(PrimitiveType.Names, word);
        if (index < 0)
        {
            throw Fail(word.Length == 0 ? "type expected" : $"unknown type '{word}'");
        }
        return new PrimitiveType((Primitive)index);
    }

    private FunctionType ParseFunction()
    {
        Expect('(');
        var ret = ParseType();
        Expect(';');
        var parameters = new List<CType>();
        bool variadic = false;
        while (!AtEnd && text[_pos] != ')')
        {
            if (string.CompareOrdinal(text, _pos, "...", 0, 3) == 0)
            {
                _pos += 3;
                variadic = true;
                break;
            }
            parameters.Add(ParseType());
            if (!AtEnd && text[_pos] == ',')
            {
                _pos++;
            }
        }
        Expect(')');
        return new FunctionType(ret, parameters, variadic);
    }

    private string Word()
    {
        int start = _pos;
        while (!AtEnd && (char.IsLetterOrDigit(text[_pos]) || text[_pos] == '_' || text[_pos] == '$'))
        {
            _pos++;
        }
        return text.Substring(start, _pos - start);
    }

    private void Expect(char c)
    {
        if (AtEnd || text[_pos] != c)
        {
            throw Fail($"'{c}' expected");
        }
        _pos++;
    }
}
