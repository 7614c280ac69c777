using System.Globalization;
using System.Numerics;
using Syscalls.Generator.Facts;

namespace Syscalls.Generator.Tool.Proof;

/// <summary>Small pieces of C the claims are built from.</summary>
internal static class CSpelling
{
    /// <summary>An integer literal that keeps its exact value whatever the type it is compared with.</summary>
    public static string Literal(BigInteger value)
    {
        if (value == long.MinValue)
        {
            return "(-9223372036854775807LL - 1)";
        }
        if (value < 0)
        {
            return "(" + value.ToString(CultureInfo.InvariantCulture) + "LL)";
        }
        return value.ToString(CultureInfo.InvariantCulture) + (value > long.MaxValue ? "ULL" : "LL");
    }

    public static string Literal(long value) => Literal(new BigInteger(value));

    public static string Bool(bool value) => value ? "1" : "0";

    /// <summary><c>__builtin_classify_type</c> classes (gcc's typeclass.h; clang returns the same numbers).</summary>
    public const int PointerClass = 5, RealClass = 8, UnionClass = 13;

    /// <summary>True for the fact types whose values have a signedness a cast of -1 can probe.</summary>
    public static bool IsIntegerLike(CType type) =>
        type is PrimitiveType { IsInteger: true } or PrimitiveType { Kind: Primitive.Bool } or EnumRefType;

    public static bool IsFloating(CType type) => type is PrimitiveType { IsFloatingPoint: true };

    /// <summary>How many <c>[0]</c> reach the scalar element of an array type (<c>[2][3]u32</c> needs two).</summary>
    public static int ArrayDepth(CType type)
    {
        int depth = 0;
        while (type is ArrayType a)
        {
            depth++;
            type = a.Element;
        }
        return depth;
    }

    public static string Escape(string text) => text.Replace("\\", "\\\\").Replace("\"", "\\\"");
}
