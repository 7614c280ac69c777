using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;

namespace Syscalls.Generator.Tool.Proof;

/// <summary>
/// Reads the initial bytes of a data symbol from GNU-syntax assembly (gcc, mingw gcc, clang for Mach-O): the label,
/// then .byte/.short/.long/.quad/.zero/.ascii directives. All proof targets are little-endian.
/// </summary>
internal static partial class AssemblyData
{
    [GeneratedRegex(@"^\s*(?<dir>\.[A-Za-z0-9]+)\s*(?<args>.*)$")]
    private static partial Regex Directive();

    public static byte[]? Read(string asm, string symbol, int length, bool arm64)
    {
        var lines = asm.Split('\n');
        int start = Array.FindIndex(lines, l => l.TrimEnd() == symbol + ":" || l.TrimEnd() == "_" + symbol + ":");
        if (start < 0)
        {
            return null;
        }
        var bytes = new List<byte>();
        for (int i = start + 1; i < lines.Length && bytes.Count < length; i++)
        {
            string line = StripComment(lines[i]);
            if (line.Trim().Length == 0)
            {
                continue;
            }
            var m = Directive().Match(line);
            if (!m.Success)
            {
                break;   // the next label
            }
            string dir = m.Groups["dir"].Value, args = m.Groups["args"].Value.Trim();
            int width = dir switch
            {
                ".byte" => 1,
                ".short" or ".value" or ".2byte" or ".hword" => 2,
                ".word" => arm64 ? 4 : 2,   // gas: .word is the machine word, 4 bytes on AArch64, 2 on x86
                ".long" or ".int" or ".4byte" => 4,
                ".quad" or ".8byte" or ".xword" or ".dword" => 8,
                _ => 0,
            };
            if (width > 0)
            {
                foreach (var v in args.Split(','))
                {
                    ulong value = ParseInt(v.Trim());
                    for (int b = 0; b < width; b++)
                    {
                        bytes.Add((byte)(value >> (8 * b)));
                    }
                }
            }
            else if (dir is ".zero" or ".space" or ".skip")
            {
                bytes.AddRange(Enumerable.Repeat((byte)0, (int)ParseInt(args.Split(',')[0].Trim())));
            }
            else if (dir is ".ascii" or ".string" or ".asciz")
            {
                bytes.AddRange(Unquote(args));
                if (dir != ".ascii")
                {
                    bytes.Add(0);
                }
            }
            else
            {
                break;   // .size, .globl, .section...: the object ended
            }
        }
        return bytes.Count >= length ? bytes.Take(length).ToArray() : null;
    }

    private static string StripComment(string line)
    {
        // Comments: '#' (x86 ELF/COFF), '//' (AArch64 ELF), ';' (Mach-O); none of them occur in the data we read.
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (c == '"' && (i == 0 || line[i - 1] != '\\'))
            {
                quoted = !quoted;
            }
            else if (!quoted && (c == '#' || c == ';' || (c == '/' && i + 1 < line.Length && line[i + 1] == '/')))
            {
                return line.Substring(0, i);
            }
        }
        return line;
    }

    private static ulong ParseInt(string text)
    {
        bool negative = text.StartsWith("-", StringComparison.Ordinal);
        string t = negative ? text.Substring(1) : text;
        ulong v = t.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.Parse(t.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
            : ulong.Parse(t, CultureInfo.InvariantCulture);
        return negative ? unchecked(0 - v) : v;
    }

    private static IEnumerable<byte> Unquote(string text)
    {
        int open = text.IndexOf('"'), close = text.LastIndexOf('"');
        for (int i = open + 1; i < close; i++)
        {
            if (text[i] != '\\')
            {
                yield return (byte)text[i];
                continue;
            }
            i++;
            if (char.IsDigit(text[i]))
            {
                int n = 0, k = 0;
                for (; k < 3 && i + k < close && text[i + k] is >= '0' and <= '7'; k++)
                {
                    n = n * 8 + (text[i + k] - '0');
                }
                i += k - 1;
                yield return (byte)n;
                continue;
            }
            yield return text[i] switch
            {
                'n' => (byte)'\n',
                't' => (byte)'\t',
                'r' => (byte)'\r',
                'b' => (byte)'\b',
                'f' => (byte)'\f',
                _ => (byte)text[i],
            };
        }
    }
}
