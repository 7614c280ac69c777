using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace Syscalls.Generator.Tool.Scanner;

/// <summary>Comment text for <c>doc</c> facts: markers removed, whitespace folded to single spaces.</summary>
internal static class CommentText
{
    public static string? Fold(string? raw)
    {
        if (raw is null)
        {
            return null;
        }
        var s = new StringBuilder();
        foreach (var rawLine in raw.Replace("\r", "").Split('\n'))
        {
            string line = rawLine.Trim();
            foreach (var marker in new[] { "/**<", "/*!<", "///<", "//!<", "/**", "/*!", "/*", "///", "//!", "//" })
            {
                if (line.StartsWith(marker, StringComparison.Ordinal))
                {
                    line = line.Substring(marker.Length);
                    break;
                }
            }
            if (line.EndsWith("*/", StringComparison.Ordinal))
            {
                line = line.Substring(0, line.Length - 2);
            }
            line = line.Trim();
            while (line.StartsWith("*", StringComparison.Ordinal))
            {
                line = line.Substring(1).TrimStart();
            }
            s.Append(line).Append(' ');
        }
        var folded = new StringBuilder();
        foreach (var word in s.ToString().Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (folded.Length > 0)
            {
                folded.Append(' ');
            }
            folded.Append(word);
        }
        return folded.Length == 0 ? null : folded.ToString();
    }

    /// <summary>
    /// The comment a macro definition carries: a trailing comment on its last line, else a comment block that
    /// ends on the line just above the <c>#define</c>. Macros are not declarations, so clang attaches nothing.
    /// </summary>
    public static string? ForMacro(SourceCache files, string file, int defineLine, int bodyEndOffset)
    {
        var text = files.Get(file);
        if (text is null || bodyEndOffset > text.Length)
        {
            return null;
        }
        int eol = text.IndexOf('\n', bodyEndOffset);
        string rest = text.Substring(bodyEndOffset, (eol < 0 ? text.Length : eol) - bodyEndOffset).Trim();
        if (rest.StartsWith("/*", StringComparison.Ordinal) || rest.StartsWith("//", StringComparison.Ordinal))
        {
            int close = rest.IndexOf("*/", StringComparison.Ordinal);
            if (rest.StartsWith("//", StringComparison.Ordinal) || close >= 0)
            {
                return Fold(rest.StartsWith("//", StringComparison.Ordinal) ? rest : rest.Substring(0, close + 2));
            }
            // A comment running onto the next lines.
            int end = text.IndexOf("*/", bodyEndOffset, StringComparison.Ordinal);
            return end < 0 ? null : Fold(text.Substring(text.IndexOf("/*", bodyEndOffset, StringComparison.Ordinal), end + 2 - text.IndexOf("/*", bodyEndOffset, StringComparison.Ordinal)));
        }
        var lines = files.Lines(file);
        int above = defineLine - 2; // 0-based index of the line above the #define
        if (above < 0 || above >= lines.Length)
        {
            return null;
        }
        string last = lines[above].Trim();
        if (last.EndsWith("*/", StringComparison.Ordinal))
        {
            int start = above;
            while (start >= 0 && lines[start].IndexOf("/*", StringComparison.Ordinal) < 0)
            {
                start--;
            }
            if (start < 0 || !lines[start].TrimStart().StartsWith("/*", StringComparison.Ordinal))
            {
                return null;
            }
            return Fold(string.Join("\n", lines, start, above - start + 1));
        }
        if (last.StartsWith("//", StringComparison.Ordinal))
        {
            int start = above;
            while (start > 0 && lines[start - 1].TrimStart().StartsWith("//", StringComparison.Ordinal))
            {
                start--;
            }
            return Fold(string.Join("\n", lines, start, above - start + 1));
        }
        return null;
    }
}

/// <summary>Header texts read once per scan, for macro comments.</summary>
internal sealed class SourceCache
{
    private readonly Dictionary<string, (string Text, string[] Lines)?> _files = new(StringComparer.Ordinal);

    public string? Get(string file) => Load(file)?.Text;

    public string[] Lines(string file) => Load(file)?.Lines ?? [];

    private (string Text, string[] Lines)? Load(string file)
    {
        if (!_files.TryGetValue(file, out var entry))
        {
            entry = File.Exists(file) ? (File.ReadAllText(file) is var t ? (t, t.Split('\n')) : default) : null;
            _files[file] = entry;
        }
        return entry;
    }
}
