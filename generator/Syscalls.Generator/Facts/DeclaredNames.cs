using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace Syscalls.Generator.Facts;

/// <summary>What kind of C declaration a name is.</summary>
public enum DeclaredKind
{
    Func,
    Struct,
    Union,
    Enum,
    Enumerator,
    Typedef,

    /// <summary>An object-like macro (function-like macros have no binding and are left out).</summary>
    Macro,
}

/// <summary>
/// One name a target's headers declare: <see cref="File"/> is the header that declares it, <see cref="Via"/> the
/// header of the target's <c>names</c> list that brings it in (the one a family would include to reach it).
/// </summary>
public sealed record DeclaredName(string Name, DeclaredKind Kind, string File, string Via)
{
    /// <summary>
    /// The key of the family line that asks for it: <c>func</c>, <c>struct</c>, <c>enum</c>, <c>type</c>, <c>const</c>.
    /// </summary>
    public string FamilyKey => Kind switch
    {
        DeclaredKind.Func => "func",
        DeclaredKind.Struct or DeclaredKind.Union => "struct",
        DeclaredKind.Enum => "enum",
        DeclaredKind.Typedef => "type",
        _ => "const",
    };
}

/// <summary>
/// Every name one target's headers declare beyond what the families ask for (<c>headers/facts/&lt;target&gt;.names</c>,
/// written by the scanner beside the facts): how the Roslyn host tells a name outside the catalogue (SYSGEN012) from
/// one no header declares (SYSGEN001). Names reserved to the implementation (a leading underscore) are left out.
/// </summary>
public sealed class DeclaredNames
{
    private Dictionary<string, DeclaredName>? _byName;

    public DeclaredNames(string target, IReadOnlyList<string> headers, IReadOnlyList<DeclaredName> names)
    {
        Target = target;
        Headers = headers;
        Names = names;
    }

    public string Target { get; }

    /// <summary>The headers the list was taken from, in include order (the target file's <c>names</c> lines).</summary>
    public IReadOnlyList<string> Headers { get; }

    /// <summary>Sorted by name.</summary>
    public IReadOnlyList<DeclaredName> Names { get; }

    public DeclaredName? Find(string name)
    {
        _byName ??= Names.GroupBy(n => n.Name, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        return _byName.TryGetValue(name, out var hit) ? hit : null;
    }

    private static readonly Dictionary<string, DeclaredKind> Kinds = Enum.GetValues(typeof(DeclaredKind))
        .Cast<DeclaredKind>().ToDictionary(k => k.ToString().ToLowerInvariant(), k => k, StringComparer.Ordinal);

    /// <summary>The file's text: a comment, <c>@format</c>, <c>@target</c>, <c>@headers</c>, one name a line.</summary>
    public string Write()
    {
        var s = new StringBuilder();
        s.Append("# Every name the headers of ").Append(Target).Append(" declare (the names lines of headers/targets/")
            .Append(Target).Append(".target),\n# for the Syscalls generator's SYSGEN012 (a name no API family lists). ")
            .Append("Written by the scanner with the facts.\n");
        s.Append("@format 1\n@target ").Append(Target).Append('\n');
        s.Append("@headers ").Append(string.Join(" ", Headers)).Append('\n');
        foreach (var n in Names.OrderBy(n => n.Name, StringComparer.Ordinal).ThenBy(n => n.Kind))
        {
            s.Append(n.Kind.ToString().ToLowerInvariant()).Append(' ').Append(n.Name)
                .Append(" file=").Append(LineSyntax.Quote(n.File));
            if (n.Via != n.File)
            {
                s.Append(" via=").Append(LineSyntax.Quote(n.Via));
            }
            s.Append('\n');
        }
        return s.ToString();
    }

    /// <summary>Parses a names file; a bad line is a <see cref="FactsFormatException"/> naming path and line.</summary>
    public static DeclaredNames Read(string text, string path = "<names>")
    {
        string? target = null;
        var headers = new List<string>();
        var names = new List<DeclaredName>();
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r');
            if (line.Trim().Length == 0 || line.TrimStart().StartsWith("#", StringComparison.Ordinal))
            {
                continue;
            }
            FactsFormatException Fail(string why) => new(path, i + 1, why);
            List<LineSyntax.Token> tokens;
            try
            {
                tokens = LineSyntax.Split(line);
            }
            catch (FormatException e)
            {
                throw Fail(e.Message);
            }
            string first = tokens[0].Text;
            switch (first)
            {
                case "@format":
                    if (tokens.Count != 2 || tokens[1].Text != "1")
                    {
                        throw Fail("only '@format 1' is known");
                    }
                    continue;
                case "@target":
                    target = tokens.Count == 2 ? tokens[1].Text : throw Fail("'@target' takes one value");
                    continue;
                case "@headers":
                    headers.AddRange(tokens.Skip(1).Select(t => t.Text));
                    continue;
            }
            if (!Kinds.TryGetValue(first, out var kind) || tokens.Count < 3)
            {
                throw Fail($"expected KIND NAME file=HEADER [via=HEADER] (KIND one of {string.Join(" ", Kinds.Keys)})");
            }
            string? file = null, via = null;
            foreach (var t in tokens.Skip(2))
            {
                if (!t.TrySplitKey(out var key, out var value) || key is not ("file" or "via"))
                {
                    throw Fail($"unknown key in '{t.Text}' (file=, via=)");
                }
                if (key == "file")
                {
                    file = value;
                }
                else
                {
                    via = value;
                }
            }
            if (file is null)
            {
                throw Fail("no file=");
            }
            names.Add(new DeclaredName(tokens[1].Text, kind, file, via ?? file));
        }
        if (target is null)
        {
            throw new FactsFormatException(path, 1, "no '@target' line");
        }
        return new DeclaredNames(target, headers, names);
    }
}
