using System;
using System.Collections.Generic;
using System.Text;

namespace Syscalls.Generator.Emitter;

/// <summary>C names as C# identifiers: C names stay C names, with <c>@</c> where C# reserves the word.</summary>
internal static class Identifiers
{
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const",
        "continue", "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern",
        "false", "finally", "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface",
        "internal", "is", "lock", "long", "namespace", "new", "null", "object", "operator", "out", "override",
        "params", "private", "protected", "public", "readonly", "ref", "return", "sbyte", "sealed", "short", "sizeof",
        "stackalloc", "static", "string", "struct", "switch", "this", "throw", "true", "try", "typeof", "uint",
        "ulong", "unchecked", "unsafe", "ushort", "using", "virtual", "void", "volatile", "while",
    };

    /// <summary>The identifier as C# source: <c>@event</c> for <c>event</c>.</summary>
    public static string Escape(string name) => Keywords.Contains(name) ? "@" + name : name;

    /// <summary>
    /// A parameter name without the reserved-namespace underscores glibc puts on prototypes (<c>__fd</c> -> <c>fd</c>),
    /// so the names match the man pages; unchanged when stripping leaves no valid identifier.
    /// </summary>
    public static string ParameterName(string name)
    {
        string s = name.TrimStart('_');
        return s.Length == 0 || char.IsDigit(s[0]) ? name : s;
    }

    /// <summary>A C# type spelling turned into an identifier fragment (<c>void*</c> -> <c>voidPtr</c>).</summary>
    public static string Sanitize(string code)
    {
        var s = new StringBuilder();
        foreach (char c in code.Replace("global::System.", "").Replace("delegate* unmanaged", "fnptr"))
        {
            if (c == '*')
            {
                s.Append("Ptr");
            }
            else if (char.IsLetterOrDigit(c) || c == '_')
            {
                s.Append(c);
            }
            else if (c == ',' || c == '<')
            {
                s.Append('_');
            }
        }
        return s.ToString();
    }

    /// <summary>C# text of a string literal.</summary>
    public static string Literal(string value)
    {
        var s = new StringBuilder("\"");
        foreach (char c in value)
        {
            s.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ => c.ToString(),
            });
        }
        return s.Append('"').ToString();
    }

    /// <summary>Text for an XML doc comment.</summary>
    public static string Xml(string text) =>
        text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
