using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using Syscalls.Generator.Facts;

namespace Syscalls.Generator.Tool.Proof;

/// <summary>
/// A function's C types as the facts spell them. The scanner writes <c>c="RET NAME(T1 n1, T2 n2, ...)"</c>, each
/// parameter a C declaration (<c>struct epoll_event *__events</c>, <c>int __pipedes[2]</c>): with the parameter's
/// name cut out it is an abstract declarator, a valid C type name, so every type can be used as <c>__typeof__(T)</c>
/// and the function pointer type rebuilt without parsing declarators.
/// </summary>
internal sealed record Prototype(string Return, IReadOnlyList<string> Parameters, bool IsVariadic)
{
    /// <summary>
    /// A redeclaration of <paramref name="name"/> with these types. C accepts it only if the types are compatible with
    /// the header's declaration; unlike comparing <c>__typeof__(&amp;f)</c>, it ignores the qualifiers gcc puts on
    /// the function type for <c>__attribute__((const))</c>. The parentheses keep a function-like macro of the same
    /// name from expanding.
    /// </summary>
    public string Redeclaration(string name) =>
        $"extern __typeof__({Return}) ({name})({string.Join(", ", Parameters.Select(p => $"__typeof__({p})").Concat(IsVariadic ? ["..."] : []).DefaultIfEmpty("void"))});";

    public static Prototype? Parse(FunctionFact fact, out string? why)
    {
        why = null;
        string text = fact.Prototype.Trim().TrimEnd(';').TrimEnd();
        var name = Word(fact.Name).Match(text);
        int open = name.Success ? name.Index + name.Length - 1 : -1;
        int close = open < 0 ? -1 : Matching(text, open);
        if (open < 0 || close != text.Length - 1)
        {
            why = $"the facts prototype of {fact.Name} is not 'RET {fact.Name}(...)' (a function returning a function pointer?): {fact.Prototype}";
            return null;
        }
        string ret = text.Substring(0, name.Index).Trim();
        var parts = SplitTopLevel(text.Substring(open + 1, close - open - 1).Trim());
        if (parts.Count == 1 && parts[0] == "void")
        {
            parts.Clear();
        }
        bool variadic = parts.Count > 0 && parts[^1] == "...";
        if (variadic)
        {
            parts.RemoveAt(parts.Count - 1);
        }
        if (parts.Count != fact.Parameters.Count || variadic != fact.IsVariadic)
        {
            why = $"the facts prototype of {fact.Name} has {parts.Count} parameters{(variadic ? " and ..." : "")}, its params= list {fact.Parameters.Count}";
            return null;
        }
        var types = new List<string>();
        for (int i = 0; i < parts.Count; i++)
        {
            string p = parts[i], pname = fact.Parameters[i].Name;
            // Unnamed prototype parameters are named _1, _2, ... in the facts and carry no name in the spelling.
            if (pname != "_" + (i + 1))
            {
                var last = Ident(pname).Matches(p).LastOrDefault();
                if (last is not null)
                {
                    p = (p.Substring(0, last.Index) + " " + p.Substring(last.Index + last.Length)).Trim();
                }
            }
            types.Add(Regex.Replace(p, @"\s+", " "));
        }
        return new Prototype(ret, types, variadic);
    }

    private static Regex Word(string name) => new($@"(?<![A-Za-z0-9_$]){Regex.Escape(name)}\s*\(");

    private static Regex Ident(string name) => new($@"(?<![A-Za-z0-9_$]){Regex.Escape(name)}(?![A-Za-z0-9_$])");

    private static int Matching(string text, int open)
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
            switch (text[i])
            {
                case '(' or '[': depth++; break;
                case ')' or ']': depth--; break;
                case ',' when depth == 0:
                    parts.Add(text.Substring(start, i - start).Trim());
                    start = i + 1;
                    break;
            }
        }
        if (text.Length > 0)
        {
            parts.Add(text.Substring(start).Trim());
        }
        return parts;
    }
}
