using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Numerics;
using System.Text;
using Syscalls.Generator.Facts;
using Syscalls.Generator.Tool.Scanner.Clang;

namespace Syscalls.Generator.Tool.Scanner;

/// <summary>A macro (or enumerator) to evaluate: <see cref="Expression"/> is what the declaration writes.</summary>
internal sealed record ConstRequest(string Name, string Expression, string Body, string? File, string? Doc, string Origin, bool Explicit, SourcePos? Definition);

/// <summary>A GUID macro (<c>WSAID_ACCEPTEX</c>): a brace initializer of a <c>GUID</c>.</summary>
internal sealed record GuidRequest(string Name, string? File, string Origin, SourcePos? Definition);

/// <summary>
/// Has the compiler evaluate macros for the target: one extra translation unit includes the same headers and
/// declares <c>static const __typeof__((X)) v = (X);</c> per macro, then <c>clang_Cursor_Evaluate</c> reads each.
/// Casts, shifts, <c>sizeof</c> and function-like macros such as <c>_IOR(...)</c> fold exactly as the target's
/// C compiler would, with no token folding of our own.
/// </summary>
internal static class MacroEvaluator
{
    public const string UnitName = "/syscalls-scan/evaluate.c";

    /// <summary>The body of a macro definition as tokens joined readably (<c>_IOR('T', 1, int)</c>), and its comment.</summary>
    public static string Body(TranslationUnit tu, Cursor macro)
    {
        var tokens = tu.Tokens(macro);
        int start = 1;
        if (macro.IsMacroFunctionLike)
        {
            while (start < tokens.Count && tokens[start].Text != ")")
            {
                start++;
            }
            start++;
        }
        var s = new StringBuilder();
        for (int i = start; i < tokens.Count; i++)
        {
            var (kind, text) = tokens[i];
            if (s.Length > 0 && NeedsSpace(tokens[i - 1], (kind, text), i - 2 >= start ? tokens[i - 2] : null))
            {
                s.Append(' ');
            }
            s.Append(text);
        }
        return s.ToString();
    }

    private static bool NeedsSpace((TokenKind Kind, string Text) prev, (TokenKind Kind, string Text) next, (TokenKind Kind, string Text)? beforePrev)
    {
        if (prev.Text is "(" or "[" or "~" or "!" || next.Text is ")" or "]" or ",")
        {
            return false;
        }
        if (next.Text == "(" && (prev.Kind == TokenKind.Identifier || prev.Text == "sizeof"))
        {
            return false;
        }
        // A sign after an operator or an opening bracket is unary: "(-5)", "x * -1".
        bool unary = prev.Text is "-" or "+" && (beforePrev is null
            || (beforePrev.Value.Kind == TokenKind.Punctuation && beforePrev.Value.Text is not (")" or "]")));
        return !unary;
    }

    public sealed record Outcome(List<ConstantFact> Constants, List<GuidFact> Guids, List<string> Problems);

    /// <summary>Evaluates every request in one translation unit that starts with <paramref name="prelude"/>.</summary>
    public static Outcome Evaluate(string prelude, IReadOnlyList<string> args, IReadOnlyList<ConstRequest> consts,
        IReadOnlyList<GuidRequest> guids, string family, Func<string, string> display)
    {
        var outcome = new Outcome([], [], []);
        if (consts.Count == 0 && guids.Count == 0)
        {
            return outcome;
        }
        var text = new StringBuilder(prelude);
        int firstLine = prelude.Count(c => c == '\n') + 1;
        foreach (var (c, i) in consts.Select((c, i) => (c, i)))
        {
            text.Append("static const __typeof__((").Append(c.Expression).Append(")) __syscalls_c").Append(i)
                .Append(" = (").Append(c.Expression).Append(");\n");
        }
        foreach (var (g, i) in guids.Select((g, i) => (g, i)))
        {
            text.Append("static const GUID __syscalls_g").Append(i).Append(" = ").Append(g.Name).Append(";\n");
        }
        using var tu = TranslationUnit.Parse(UnitName, text.ToString(), args);
        var failed = new Dictionary<int, string>();
        foreach (var d in tu.Diagnostics.Where(d => d.IsError))
        {
            if (d.Position.File == UnitName && d.Position.Line >= firstLine)
            {
                failed.TryAdd(d.Position.Line - firstLine, d.Message);
            }
            else
            {
                outcome.Problems.Add($"{display(d.Position.File)}:{d.Position.Line}: {d.Message}");
            }
        }
        var index = new TuIndex(tu);
        var pointers = new List<(ConstRequest Request, PointerType Type)>();
        for (int i = 0; i < consts.Count; i++)
        {
            var request = consts[i];
            string? why = failed.TryGetValue(i, out var message) ? message : null;
            ConstantFact? fact = null;
            if (why is null && index.Variables.TryGetValue("__syscalls_c" + i.ToString(CultureInfo.InvariantCulture), out var v))
            {
                if (request.Explicit && PointerConstant(v.Type.Canonical) is { } pointer)
                {
                    pointers.Add((request, pointer));
                    continue;
                }
                fact = Read(v, request, family, out why);
            }
            if (fact is not null)
            {
                outcome.Constants.Add(fact);
            }
            else
            {
                outcome.Problems.Add($"{Where(request.Definition, display)}macro {request.Name} cannot be evaluated by the compiler for this target: {why ?? "not an integer constant"} (body: {request.Body}; "
                    + (request.Explicit ? $"asked for by {request.Origin})" : $"matched by the pattern at {request.Origin}; exclude it with !{request.Name} on a const line)"));
            }
        }
        EvaluatePointers(prelude, args, pointers, family, display, outcome);
        for (int i = 0; i < guids.Count; i++)
        {
            var request = guids[i];
            string? why = failed.TryGetValue(consts.Count + i, out var message) ? message : null;
            Guid? value = null;
            if (why is null && index.Variables.TryGetValue("__syscalls_g" + i.ToString(CultureInfo.InvariantCulture), out var v))
            {
                value = ReadGuid(v);
                why = value is null ? "not a GUID brace initializer of constants" : null;
            }
            if (value is null)
            {
                outcome.Problems.Add($"{Where(request.Definition, display)}guid macro {request.Name} cannot be evaluated: {why} (asked for by {request.Origin})");
                continue;
            }
            outcome.Guids.Add(new GuidFact(request.Name, value.Value) { Family = family, File = request.File });
        }
        return outcome;
    }

    /// <summary>
    /// Pointer constants (<c>INVALID_HANDLE_VALUE</c>) are evaluated once more as the address they hold:
    /// <c>(unsigned long long)(__UINTPTR_TYPE__)(X)</c>.
    /// </summary>
    private static void EvaluatePointers(string prelude, IReadOnlyList<string> args, List<(ConstRequest Request, PointerType Type)> pointers,
        string family, Func<string, string> display, Outcome outcome)
    {
        if (pointers.Count == 0)
        {
            return;
        }
        var text = new StringBuilder(prelude);
        foreach (var ((request, _), i) in pointers.Select((p, i) => (p, i)))
        {
            text.Append("static const unsigned long long __syscalls_p").Append(i).Append(" = (unsigned long long)(__UINTPTR_TYPE__)(")
                .Append(request.Expression).Append(");\n");
        }
        using var tu = TranslationUnit.Parse(UnitName, text.ToString(), args);
        var index = new TuIndex(tu);
        for (int i = 0; i < pointers.Count; i++)
        {
            var (request, type) = pointers[i];
            if (index.Variables.TryGetValue("__syscalls_p" + i.ToString(CultureInfo.InvariantCulture), out var v) && v.EvaluateInteger() is { } value)
            {
                outcome.Constants.Add(new ConstantFact(request.Name, new BigInteger(unchecked((ulong)value.Value)), CType.U64, request.Body)
                {
                    PointerType = type,
                    Family = family,
                    File = request.File,
                    Doc = request.Doc,
                });
            }
            else
            {
                outcome.Problems.Add($"{Where(request.Definition, display)}macro {request.Name} is a pointer that the compiler cannot fold to an address (body: {request.Body}; asked for by {request.Origin})");
            }
        }
    }

    /// <summary>The fact type of a pointer-typed constant: <c>*void</c>, or a pointer to an integer.</summary>
    private static PointerType? PointerConstant(ClangType canonical)
    {
        if (canonical.Kind != TypeKind.Pointer)
        {
            return null;
        }
        return new PointerType(IntegerType(canonical.Pointee.Canonical) ?? (CType)CType.Void);
    }

    private static string Where(SourcePos? pos, Func<string, string> display) =>
        pos is { } p && p.File.Length > 0 ? $"{display(p.File)}:{p.Line}: " : "";

    private static ConstantFact? Read(Cursor variable, ConstRequest request, string family, out string? why)
    {
        var type = IntegerType(variable.Type.Canonical);
        if (type is null)
        {
            why = $"its type '{variable.Type.Spelling}' is not an integer type";
            return null;
        }
        var result = variable.EvaluateInteger();
        if (result is null)
        {
            why = "clang could not fold it to an integer constant";
            return null;
        }
        why = null;
        var (raw, _) = result.Value;
        int bits = type.ByteSize * 8;
        // The value is signed or unsigned as its C type says, whatever width clang handed it back in.
        BigInteger value = type.IsSigned
            ? new BigInteger(bits >= 64 ? raw : (raw << (64 - bits)) >> (64 - bits))
            : new BigInteger(bits >= 64 ? unchecked((ulong)raw) : unchecked((ulong)raw) & ((1UL << bits) - 1));
        return new ConstantFact(request.Name, value, type, request.Body)
        {
            Family = family,
            File = request.File,
            Doc = request.Doc,
        };
    }

    private static PrimitiveType? IntegerType(ClangType canonical)
    {
        if (canonical.Kind == TypeKind.Enum)
        {
            canonical = canonical.Declaration.EnumIntegerType.Canonical;
        }
        bool signed = canonical.Kind is TypeKind.Char_S or TypeKind.SChar or TypeKind.Short or TypeKind.Int or TypeKind.Long or TypeKind.LongLong;
        bool unsigned = canonical.Kind is TypeKind.Char_U or TypeKind.UChar or TypeKind.UShort or TypeKind.UInt or TypeKind.ULong or TypeKind.ULongLong;
        long size = canonical.SizeOf;
        return (signed || unsigned) && size is 1 or 2 or 4 or 8 ? CType.Integer((int)size, signed) : null;
    }

    private static Guid? ReadGuid(Cursor variable)
    {
        var values = new List<long>();
        void Walk(Cursor c)
        {
            foreach (var child in c.Children())
            {
                if (child.Kind == CursorKind.InitListExpr)
                {
                    Walk(child);
                }
                else if (child.EvaluateInteger() is { } v)
                {
                    values.Add(v.Value);
                }
            }
        }
        var init = variable.Children().FirstOrDefault(c => c.Kind == CursorKind.InitListExpr);
        if (init.Raw.Kind == 0)
        {
            return null;
        }
        Walk(init);
        if (values.Count != 11)
        {
            return null;
        }
        return new Guid(unchecked((uint)values[0]), unchecked((ushort)values[1]), unchecked((ushort)values[2]),
            (byte)values[3], (byte)values[4], (byte)values[5], (byte)values[6], (byte)values[7], (byte)values[8], (byte)values[9], (byte)values[10]);
    }
}
