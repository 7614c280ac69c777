using System;
using System.Collections.Generic;
using System.Text;

namespace Syscalls.Generator.Facts;

/// <summary>Token quoting shared by facts and API-list files: spaces separate, <c>"..."</c> with C escapes groups.</summary>
public static class LineSyntax
{
    /// <summary>Writes <paramref name="value"/> bare, or quoted when it is empty or holds a space, quote, backslash or '='.</summary>
    public static string Quote(string value)
    {
        bool plain = value.Length > 0;
        foreach (char c in value)
        {
            if (c is ' ' or '"' or '\\' or '=' or '\t' or '\n' or '\r')
            {
                plain = false;
                break;
            }
        }
        if (plain)
        {
            return value;
        }
        var s = new StringBuilder(value.Length + 2).Append('"');
        foreach (char c in value)
        {
            s.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\t' => "\\t",
                '\r' => "\\r",
                _ => c.ToString(),
            });
        }
        return s.Append('"').ToString();
    }

    /// <summary>
    /// Splits a line into tokens, decoding quoted parts. <c>c="a b"</c> gives the token <c>c=a b</c>;
    /// <see cref="Token.QuotedFrom"/> tells where quoting started so a key is never read out of quoted text.
    /// </summary>
    public static List<Token> Split(string line)
    {
        var tokens = new List<Token>();
        int i = 0;
        while (i < line.Length)
        {
            if (line[i] == ' ' || line[i] == '\t')
            {
                i++;
                continue;
            }
            var s = new StringBuilder();
            int quotedFrom = -1;
            while (i < line.Length && line[i] != ' ' && line[i] != '\t')
            {
                if (line[i] != '"')
                {
                    s.Append(line[i++]);
                    continue;
                }
                if (quotedFrom < 0)
                {
                    quotedFrom = s.Length;
                }
                i++;
                while (true)
                {
                    if (i >= line.Length)
                    {
                        throw new FormatException("unterminated quoted value");
                    }
                    char c = line[i++];
                    if (c == '"')
                    {
                        break;
                    }
                    if (c != '\\')
                    {
                        s.Append(c);
                        continue;
                    }
                    if (i >= line.Length)
                    {
                        throw new FormatException("unterminated escape");
                    }
                    char e = line[i++];
                    s.Append(e switch
                    {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        '"' or '\\' => e,
                        _ => throw new FormatException($"unknown escape '\\{e}'"),
                    });
                }
            }
            tokens.Add(new Token(s.ToString(), quotedFrom));
        }
        return tokens;
    }

    /// <summary>One decoded token; <see cref="QuotedFrom"/> is -1 when nothing in it was quoted.</summary>
    public readonly record struct Token(string Text, int QuotedFrom)
    {
        /// <summary>Splits <c>key=value</c> at the first '=' outside quotes; false for a flag or a bare value.</summary>
        public bool TrySplitKey(out string key, out string value)
        {
            int eq = Text.IndexOf('=');
            if (eq <= 0 || (QuotedFrom >= 0 && eq >= QuotedFrom))
            {
                key = value = "";
                return false;
            }
            key = Text.Substring(0, eq);
            value = Text.Substring(eq + 1);
            return true;
        }
    }
}
