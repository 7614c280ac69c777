using System;
using System.Collections.Generic;
using Microsoft.CodeAnalysis.Text;

namespace Syscalls.Generator.Roslyn;

/// <summary>
/// One word of the consumer's list: a C name (<c>epoll_wait</c>) or a prefix pattern (<c>EPOLL*</c>), optionally
/// narrowed to one OS (<c>linux:socket</c>). <see cref="Os"/> is the facts' OS name (linux, darwin, windows).
/// </summary>
internal sealed record ListEntry(string Text, string? Os, string Name, bool IsPattern, SourceSpan Where)
{
    public string Prefix => IsPattern ? Name.Substring(0, Name.Length - 1) : Name;
}

/// <summary>A parsed list file (<c>Syscalls.txt</c>): its entries and the lines that were not understood.</summary>
internal sealed record SelectionList(string Path, EquatableArray<ListEntry> Entries, EquatableArray<DiagnosticInfo> Diagnostics)
{
    /// <summary>Whether an AdditionalFile is a list: <c>Syscalls.txt</c> or <c>*.Syscalls.txt</c>, any case.</summary>
    public static bool IsListFile(string path)
    {
        string name = System.IO.Path.GetFileName(path);
        return name.Equals("Syscalls.txt", StringComparison.OrdinalIgnoreCase)
            || name.EndsWith(".Syscalls.txt", StringComparison.OrdinalIgnoreCase);
    }

    private static readonly Dictionary<string, string> OsAliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["linux"] = "linux",
        ["darwin"] = "darwin",
        ["macos"] = "darwin",
        ["osx"] = "darwin",
        ["windows"] = "windows",
        ["win"] = "windows",
    };

    /// <summary>
    /// One or more words per line, separated by white space; <c>#</c> starts a comment. A word is <c>[os:]NAME</c> or
    /// <c>[os:]PREFIX*</c>, NAME a C identifier.
    /// </summary>
    public static SelectionList Parse(string path, SourceText text)
    {
        var entries = new List<ListEntry>();
        var diagnostics = new List<DiagnosticInfo>();
        foreach (var line in text.Lines)
        {
            string s = line.ToString();
            int hash = s.IndexOf('#');
            int end = hash >= 0 ? hash : s.Length;
            int i = 0;
            while (i < end)
            {
                if (char.IsWhiteSpace(s[i]))
                {
                    i++;
                    continue;
                }
                int start = i;
                while (i < end && !char.IsWhiteSpace(s[i]))
                {
                    i++;
                }
                string word = s.Substring(start, i - start);
                var where = new SourceSpan(path, line.Start + start, word.Length, line.LineNumber, start);
                var entry = ParseWord(word, where, out string? why);
                if (entry is null)
                {
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidLine, where, word, why!));
                }
                else
                {
                    entries.Add(entry);
                }
            }
        }
        return new SelectionList(path, entries.ToEquatableArray(), diagnostics.ToEquatableArray());
    }

    private static ListEntry? ParseWord(string word, SourceSpan where, out string? why)
    {
        why = null;
        string? os = null;
        string name = word;
        int colon = word.IndexOf(':');
        if (colon >= 0)
        {
            if (!OsAliases.TryGetValue(word.Substring(0, colon), out os))
            {
                why = $"'{word.Substring(0, colon)}' before ':' is not an OS (linux, darwin or macos, windows)";
                return null;
            }
            name = word.Substring(colon + 1);
        }
        bool pattern = name.EndsWith("*", StringComparison.Ordinal);
        string stem = pattern ? name.Substring(0, name.Length - 1) : name;
        if (stem.Length == 0)
        {
            why = pattern ? "a pattern needs a prefix (a bare * would select every item of every target)" : "the name is empty";
            return null;
        }
        for (int k = 0; k < stem.Length; k++)
        {
            char c = stem[k];
            bool ok = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (k > 0 && c >= '0' && c <= '9');
            if (!ok)
            {
                why = c == '*' ? "only a trailing * is a pattern" : $"'{c}' cannot appear in a C name";
                return null;
            }
        }
        return new ListEntry(word, os, name, pattern, where);
    }
}
