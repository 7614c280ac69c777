using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace Syscalls.Generator.Facts;

/// <summary>
/// Prints facts exactly as headers/FORMAT.md says: provenance, then kinds in file order, names sorted ordinally,
/// fields and enumerators in declaration order under their (sorted) parent, docs last. Output is a pure function
/// of the facts, so re-scanning unchanged headers gives byte-identical files.
/// </summary>
public static class FactsWriter
{
    public static string Write(AbiFacts facts)
    {
        var s = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        Write(facts, s);
        return s.ToString();
    }

    public static void Write(AbiFacts facts, TextWriter w)
    {
        var p = facts.Provenance;
        w.Write("# ABI facts for " + p.Target + ", written by the scanner (generator/Syscalls.Generator.Tool); see headers/FORMAT.md\n");
        Line(w, "@format", p.Format.ToString(CultureInfo.InvariantCulture));
        Line(w, "@target", p.Target);
        Line(w, "@triple", p.Triple);
        Line(w, "@os", p.Os);
        Line(w, "@arch", p.Arch);
        if (p.Kernel is not null)
        {
            Line(w, "@kernel", p.Kernel);
        }
        foreach (var package in p.Packages)
        {
            // Package lines are copied token for token from the sysroot's PROVENANCE.
            Line(w, "@package", string.Join(" ", package.Split(' ').Where(t => t.Length > 0).Select(LineSyntax.Quote)));
        }
        if (p.LibclangVersion is not null)
        {
            Line(w, "@libclang", LineSyntax.Quote(p.LibclangVersion)
                + (p.LibclangDescription is null ? "" : " " + LineSyntax.Quote(p.LibclangDescription)));
        }
        Line(w, "@families", string.Join(" ", p.Families));

        var records = facts.Records.OrderBy(r => r.Name, StringComparer.Ordinal).ToList();
        foreach (var r in records.Where(r => r.Kind == RecordKind.Struct))
        {
            WriteRecord(w, r);
        }
        foreach (var r in records.Where(r => r.Kind == RecordKind.Union))
        {
            WriteRecord(w, r);
        }
        foreach (var r in records)
        {
            foreach (var f in r.Fields)
            {
                var line = new LineBuilder("field", r.Name + "." + f.Name)
                    .Key("offset", f.Offset).Key("size", f.Size).Key("type", f.Type.ToString());
                if (f.BitWidth is not null)
                {
                    line.Key("bitoffset", f.BitOffset ?? 0).Key("bitwidth", f.BitWidth.Value);
                }
                if (f.Via.Count > 0)
                {
                    line.Key("via", string.Join(",", f.Via));
                }
                w.Write(line.Flag("flex", f.IsFlexible).Key("c", f.CSpelling).ToString());
            }
        }

        var enums = facts.Enums.OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
        foreach (var e in enums)
        {
            w.Write(new LineBuilder("enum", e.Name).Key("underlying", e.Underlying.ToString())
                .OptionalKey("family", e.Family).OptionalKey("file", e.File).ToString());
        }
        foreach (var e in enums)
        {
            foreach (var x in e.Enumerators)
            {
                w.Write(new LineBuilder("enumerator", e.Name + "." + x.Name).Key("value", x.Value.ToString(CultureInfo.InvariantCulture)).ToString());
            }
        }
        foreach (var t in facts.Typedefs.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            w.Write(new LineBuilder("typedef", t.Name).Key("type", t.Type.ToString()).Key("c", t.CSpelling)
                .OptionalKey("family", t.Family).OptionalKey("file", t.File).ToString());
        }
        foreach (var f in facts.Functions.OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            var line = new LineBuilder("func", f.Name).Key("ret", f.Return.ToString());
            if (f.Parameters.Count > 0)
            {
                line.Key("params", string.Join(",", f.Parameters.Select(a => a.Name + ":" + a.Type)));
            }
            w.Write(line.Flag("variadic", f.IsVariadic).Key("cc", CallConvName(f.CallConv))
                .OptionalKey("family", f.Family).OptionalKey("file", f.File).Key("c", f.Prototype).ToString());
        }
        foreach (var c in facts.Constants.OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            w.Write(new LineBuilder("const", c.Name).Key("value", c.Value.ToString(CultureInfo.InvariantCulture))
                .Key("type", c.DeclaredType.ToString()).OptionalKey("family", c.Family).OptionalKey("file", c.File)
                .Key("c", c.MacroBody).ToString());
        }
        foreach (var g in facts.Guids.OrderBy(g => g.Name, StringComparer.Ordinal))
        {
            w.Write(new LineBuilder("guid", g.Name).Key("value", g.Value.ToString("D"))
                .OptionalKey("family", g.Family).OptionalKey("file", g.File).ToString());
        }
        foreach (var sc in facts.Syscalls.OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            w.Write(new LineBuilder("syscall", sc.Name).Key("number", sc.Number).ToString());
        }
        foreach (var (key, text) in Docs(facts).OrderBy(d => d.Key, StringComparer.Ordinal))
        {
            w.Write("doc " + key + " " + QuoteAlways(text) + "\n");
        }
    }

    public static string CallConvName(CallConv cc) => cc switch
    {
        CallConv.Stdcall => "stdcall",
        CallConv.Win64 => "win64",
        _ => "c",
    };

    /// <summary>Every attached doc as (<c>KIND:NAME</c>, text).</summary>
    public static IEnumerable<(string Key, string Text)> Docs(AbiFacts facts)
    {
        foreach (var r in facts.Records)
        {
            if (r.Doc is not null)
            {
                yield return ((r.IsUnion ? "union:" : "struct:") + r.Name, r.Doc);
            }
            foreach (var f in r.Fields.Where(f => f.Doc is not null))
            {
                yield return ("field:" + r.Name + "." + f.Name, f.Doc!);
            }
        }
        foreach (var e in facts.Enums)
        {
            if (e.Doc is not null)
            {
                yield return ("enum:" + e.Name, e.Doc);
            }
            foreach (var x in e.Enumerators.Where(x => x.Doc is not null))
            {
                yield return ("enumerator:" + e.Name + "." + x.Name, x.Doc!);
            }
        }
        foreach (var t in facts.Typedefs.Where(t => t.Doc is not null))
        {
            yield return ("typedef:" + t.Name, t.Doc!);
        }
        foreach (var f in facts.Functions.Where(f => f.Doc is not null))
        {
            yield return ("func:" + f.Name, f.Doc!);
        }
        foreach (var c in facts.Constants.Where(c => c.Doc is not null))
        {
            yield return ("const:" + c.Name, c.Doc!);
        }
    }

    private static void WriteRecord(TextWriter w, RecordFact r) =>
        w.Write(new LineBuilder(r.IsUnion ? "union" : "struct", r.Name).Key("size", r.Size).Key("align", r.Align)
            .Flag("packed", r.IsPacked).Flag("unnamed", r.IsUnnamed)
            .OptionalKey("family", r.Family).OptionalKey("file", r.File).ToString());

    private static void Line(TextWriter w, string key, string value) => w.Write(key + " " + value + "\n");

    private static string QuoteAlways(string text)
    {
        string q = LineSyntax.Quote(text);
        return q.StartsWith("\"", StringComparison.Ordinal) ? q : "\"" + q + "\"";
    }

    private sealed class LineBuilder
    {
        private readonly StringBuilder _s = new();

        public LineBuilder(string kind, string name) => _s.Append(kind).Append(' ').Append(name);

        public LineBuilder Key(string key, long value) => Key(key, value.ToString(CultureInfo.InvariantCulture));

        public LineBuilder Key(string key, string value)
        {
            _s.Append(' ').Append(key).Append('=').Append(LineSyntax.Quote(value));
            return this;
        }

        public LineBuilder OptionalKey(string key, string? value) => value is null ? this : Key(key, value);

        public LineBuilder Flag(string flag, bool set)
        {
            if (set)
            {
                _s.Append(' ').Append(flag);
            }
            return this;
        }

        public override string ToString() => _s.Append('\n').ToString();
    }
}
