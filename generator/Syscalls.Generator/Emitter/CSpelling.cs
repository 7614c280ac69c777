using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace Syscalls.Generator.Emitter;

/// <summary>
/// What the emitter needs from a C spelling (<c>c="..."</c> of a field, one parameter of a prototype): the name the
/// declaration is written with (<c>size_t</c>, <c>char</c>, <c>HANDLE</c>) and how many pointers and array dimensions
/// wrap it. The facts' <c>type=</c> has typedefs resolved; the spelling is how the emitter still tells <c>size_t</c>
/// (nuint) from <c>unsigned long</c> (ulong) and plain <c>char</c> (byte) from <c>signed char</c>.
/// </summary>
internal sealed record CDecl(string Base, int Pointers, int Arrays)
{
    /// <summary>The spelling of what one pointer or array level wraps, or null when nothing is left to peel.</summary>
    public CDecl? PeelPointer() => Arrays == 0 && Pointers > 0 ? this with { Pointers = Pointers - 1 } : null;

    public CDecl? PeelArray() => Arrays > 0 ? this with { Arrays = Arrays - 1 } : null;

    public bool IsPlain => Pointers == 0 && Arrays == 0;

    public override string ToString() => Base + new string('*', Pointers) + string.Concat(Enumerable.Repeat("[]", Arrays));
}

internal static class CSpelling
{
    // Words that qualify or decorate a declaration without changing which type it names.
    private static readonly HashSet<string> Ignored = new(StringComparer.Ordinal)
    {
        "const", "volatile", "restrict", "__restrict", "__restrict__", "_Nullable", "_Nonnull", "_Null_unspecified",
        "__unaligned", "FAR", "NEAR", "far", "near", "__far", "__near", "struct", "union", "enum", "extern", "static",
        "inline", "__inline", "__inline__", "WSAAPI", "WINAPI", "PASCAL", "CALLBACK", "APIENTRY", "__stdcall", "__cdecl",
        "_stdcall", "_cdecl", "WINBASEAPI", "WINSOCK_API_LINKAGE", "DECLSPEC_IMPORT", "__THROW", "__wur",
        "__nonnull", "__attribute__", "__declspec", "__asm__", "__asm", "_In_", "_Out_", "_Inout_",
    };

    /// <summary>
    /// Parses a declaration spelling; <paramref name="name"/> (the declared name) is dropped when it is the last word.
    /// Null for spellings this reader does not follow (function pointers, pointers to arrays).
    /// </summary>
    public static CDecl? Parse(string? spelling, string? name = null)
    {
        if (spelling is null)
        {
            return null;
        }
        var words = new List<string>();
        int pointers = 0, arrays = 0;
        var tokens = Tokenize(StripAttributes(spelling));
        if (tokens is null)
        {
            return null;
        }
        bool sawArray = false;
        foreach (var t in tokens)
        {
            switch (t)
            {
                case "*":
                    if (sawArray)
                    {
                        return null; // `T [2] *` is not a C spelling we expect; do not guess.
                    }
                    pointers++;
                    break;
                case "[":
                    arrays++;
                    sawArray = true;
                    break;
                case "]":
                    break;
                case "(" or ")" or ",":
                    return null;
                default:
                    if (char.IsDigit(t[0]))
                    {
                        break; // an array length
                    }
                    if (!Ignored.Contains(t))
                    {
                        words.Add(t);
                    }
                    break;
            }
        }
        if (name is not null && words.Count > 1 && words[words.Count - 1] == name)
        {
            words.RemoveAt(words.Count - 1);
        }
        if (words.Count == 0)
        {
            return null;
        }
        return new CDecl(string.Join(" ", words), pointers, arrays);
    }

    /// <summary>
    /// Splits a prototype (<c>int epoll_wait(int __epfd, struct epoll_event *__events, ...)</c>, or the bare function
    /// type <c>int (int, struct epoll_event *, ...)</c>) into its return spelling and one spelling per parameter.
    /// Null when the text does not have that shape or the parameter count disagrees with <paramref name="count"/>.
    /// </summary>
    public static (string Return, IReadOnlyList<string> Parameters)? SplitPrototype(string prototype, string function, int count)
    {
        string text = StripAttributes(prototype);
        int open = FindNameParen(text, function);
        if (open < 0)
        {
            open = text.IndexOf('(');
        }
        if (open < 0)
        {
            return null;
        }
        int close = MatchParen(text, open);
        if (close < 0)
        {
            return null;
        }
        string ret = text.Substring(0, open).Trim();
        if (ret.EndsWith(function, StringComparison.Ordinal))
        {
            ret = ret.Substring(0, ret.Length - function.Length);
        }
        var parts = SplitTopLevel(text.Substring(open + 1, close - open - 1));
        parts.RemoveAll(p => p == "..." );
        if (parts.Count == 1 && parts[0] == "void")
        {
            parts.Clear();
        }
        return parts.Count == count ? (ret.Trim(), parts) : null;
    }

    /// <summary>
    /// Splits a function-pointer type spelling (<c>R (*)(A, B) __attribute__((stdcall))</c>, a typedef's) into the type
    /// without its attributes, the return spelling and one spelling per parameter; null as for <see cref="SplitPrototype"/>.
    /// </summary>
    public static (string Type, string Return, IReadOnlyList<string> Parameters)? SplitFunctionPointer(string spelling, int count)
    {
        string type = StripAttributes(spelling).Trim();
        return type.Contains("(*)") && SplitPrototype(type.Replace("(*)", " __fnptr"), "__fnptr", count) is { } split
            ? (type, split.Return, split.Parameters)
            : null;
    }

    private static int FindNameParen(string text, string name)
    {
        int from = 0;
        while (true)
        {
            int at = text.IndexOf(name, from, StringComparison.Ordinal);
            if (at < 0)
            {
                return -1;
            }
            int end = at + name.Length;
            bool startOk = at == 0 || !IsWordChar(text[at - 1]);
            int next = end;
            while (next < text.Length && text[next] == ' ')
            {
                next++;
            }
            if (startOk && next < text.Length && text[next] == '(' && (end == text.Length || !IsWordChar(text[end])))
            {
                return next;
            }
            from = at + 1;
        }
    }

    private static int MatchParen(string text, int open)
    {
        int depth = 0;
        for (int i = open; i < text.Length; i++)
        {
            if (text[i] == '(')
            {
                depth++;
            }
            else if (text[i] == ')' && --depth == 0)
            {
                return i;
            }
        }
        return -1;
    }

    private static List<string> SplitTopLevel(string text)
    {
        var parts = new List<string>();
        int depth = 0, start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c is '(' or '[')
            {
                depth++;
            }
            else if (c is ')' or ']')
            {
                depth--;
            }
            else if (c == ',' && depth == 0)
            {
                parts.Add(text.Substring(start, i - start).Trim());
                start = i + 1;
            }
        }
        string last = text.Substring(start).Trim();
        if (last.Length > 0 || parts.Count > 0)
        {
            parts.Add(last);
        }
        return parts;
    }

    /// <summary>Removes <c>__attribute__((...))</c>, <c>__declspec(...)</c> and <c>__asm__(...)</c> groups.</summary>
    private static string StripAttributes(string text)
    {
        var s = new StringBuilder(text.Length);
        int i = 0;
        while (i < text.Length)
        {
            bool matched = false;
            foreach (var kw in new[] { "__attribute__", "__declspec", "__asm__", "__asm" })
            {
                if (string.CompareOrdinal(text, i, kw, 0, kw.Length) == 0 && (i == 0 || !IsWordChar(text[i - 1]))
                    && (i + kw.Length == text.Length || !IsWordChar(text[i + kw.Length])))
                {
                    int j = i + kw.Length;
                    while (j < text.Length && text[j] == ' ')
                    {
                        j++;
                    }
                    if (j < text.Length && text[j] == '(')
                    {
                        int close = MatchParen(text, j);
                        i = close < 0 ? text.Length : close + 1;
                        matched = true;
                        break;
                    }
                }
            }
            if (!matched)
            {
                s.Append(text[i++]);
            }
        }
        return s.ToString();
    }

    private static List<string>? Tokenize(string text)
    {
        var tokens = new List<string>();
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (IsWordChar(c))
            {
                int start = i;
                while (i < text.Length && IsWordChar(text[i]))
                {
                    i++;
                }
                tokens.Add(text.Substring(start, i - start));
            }
            else if (c is '*' or '[' or ']' or '(' or ')' or ',')
            {
                tokens.Add(c.ToString());
                i++;
            }
            else if (c == '&' || c == '<')
            {
                return null; // C++ or garbage: not ours to read
            }
            else
            {
                i++;
            }
        }
        return tokens;
    }

    private static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c == '_' || c == '$';
}
