using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Syscalls.Generator.Facts;

namespace Syscalls.Generator.Emitter;

/// <summary>
/// The emission manifest (Emitter/README.md): what was emitted, with the layout it was emitted with, one line per
/// item in the facts' line syntax, for the C compile proofs to check against the headers and the built assembly.
/// Also the API surface: the same items without layout or values that may differ, equal for every RID.
/// </summary>
internal static class ManifestWriter
{
    public static string Manifest(IReadOnlyList<OsModel> oses, Emission e)
    {
        var s = new StringBuilder();
        s.Append("# Syscalls emission manifest: what the emitter printed, with the layout it printed. Format: Emitter/README.md\n");
        s.Append("@format 1\n");
        s.Append("@rid ").Append(e.Rid ?? "portable").Append('\n');
        s.Append("@mode ").Append(e.Options.Mode == EmitMode.Stub ? "stub" : "libraryimport").Append('\n');
        foreach (var os in oses)
        {
            s.Append("@layout ").Append(os.Platform.Os).Append(' ').Append(e.LayoutOf(os).Target).Append('\n');
        }
        foreach (var os in oses)
        {
            var t = e.LayoutOf(os);
            string ns = e.Namespace(os) + ".";
            foreach (var r in t.Records)
            {
                var f = r.Fact;
                Line(s, "struct", ns + r.CsName, ("size", N(f.Size)), ("align", N(f.Align)), ("packed", f.IsPacked ? "" : null),
                    ("unnamed", f.IsUnnamed ? "" : null), ("kind", f.IsUnion ? "union" : "struct"),
                    ("c", f.IsUnnamed ? null : r.CsName != f.Name ? r.CsName : f.CName), ("target", t.Target));
                foreach (var m in r.Members)
                {
                    string name = ns + r.CsName + "." + m.Name;
                    string? via = f.Fields.FirstOrDefault(x => x.Name == m.CName) is { Via.Count: > 0 } ff
                        ? string.Join(",", ff.Via) : null;
                    switch (m)
                    {
                        case FieldMember x:
                            Line(s, "field", name, ("offset", N(x.Offset)), ("size", N(x.Size)), ("cs", x.Type.Code), ("c", x.CName), ("via", via));
                            break;
                        case FixedBufferMember x:
                            Line(s, "fixed", name, ("offset", N(x.Offset)), ("size", N(x.Size)), ("cs", x.Element.Code),
                                ("length", N(x.Length)), ("c", x.CName), ("via", via));
                            break;
                        case InlineArrayMember x:
                            Line(s, "inline", name, ("offset", N(x.Offset)), ("size", N(x.Size)), ("cs", x.TypeName),
                                ("element", x.Element.Code), ("length", N(x.Length)), ("c", x.CName), ("via", via));
                            break;
                        case BitfieldMember x:
                            Line(s, "bitfield", name, ("bitoffset", N(x.BitOffset)), ("bitwidth", N(x.BitWidth)), ("cs", x.Type.Code),
                                ("storage", x.StorageName), ("storageoffset", N(x.StorageOffset)),
                                ("storagesize", N(x.StorageType.Size)), ("c", x.CName), ("via", via));
                            break;
                        case FlexMember x:
                            Line(s, "flex", name, ("offset", N(x.Offset)), ("cs", x.Element.Code + "*"), ("c", x.CName), ("via", via));
                            break;
                    }
                }
            }
            foreach (var (name, reason) in t.Omitted.OrderBy(o => o.Name, System.StringComparer.Ordinal))
            {
                Line(s, "omitted", ns + name, ("reason", reason));
            }
            foreach (var a in t.InlineArrays)
            {
                Line(s, "array", ns + a.TypeName, ("size", N(a.Size)), ("element", a.Element.Code), ("length", N(a.Length)));
            }
            foreach (var f in t.FunctionPointerTypes)
            {
                Line(s, "fnptr", ns + f.Name, ("cs", f.Pointer.Code), ("c", f.CSpelling));
            }
            foreach (var c in t.Constants)
            {
                Line(s, "const", ns + c.Class + "." + c.Name,
                    ("value", (e.KnowsArchValues || !c.IsArchDependent) && !c.IsMissing ? c.Value.ToString(CultureInfo.InvariantCulture) : null),
                    ("cs", c.Type.Code), ("kind", c.IsProperty ? "property" : "const"),
                    ("c", c.Kind == ConstantKind.Syscall ? c.Source : c.Name),
                    ("throws", (e.KnowsArchValues || !c.IsArchDependent) && !c.IsMissing ? null : ""));
            }
            foreach (var g in t.Guids)
            {
                Line(s, "guid", ns + g.Class + "." + g.Name, ("value", g.Value.ToString("D")), ("cs", "System.Guid"), ("c", g.Name));
            }
            foreach (var f in t.Functions)
            {
                foreach (int v in FunctionWriter.Overloads(f))
                {
                    var ps = f.Parameters.Select(p => p.Type.Code + " " + p.Name)
                        .Concat(f.VariadicNames(v).Take(v).Select(n => "nint " + n));
                    Line(s, "func", ns + f.Class + "." + f.Name, ("sig", $"{f.Return.Code} {f.Name}({string.Join(", ", ps)})"),
                        ("entry", f.EntryPoint), ("lib", f.Library), ("variadic", f.IsVariadic ? N(v) : null),
                        ("via", f.Kind == FunctionKind.Syscall ? f.SyscallConstant : null),
                        ("throws", e.IsNative(os) ? null : ""), ("page", f.Page?.Url), ("c", f.Prototype));
                }
                if (OverloadWriter.Signature(f) is { } overload)
                {
                    Line(s, "overload", ns + f.Class + "." + f.Name, ("sig", overload));
                }
            }
        }
        return s.ToString();
    }

    public static string ApiSurface(IReadOnlyList<OsModel> oses, Emission e)
    {
        var lines = new List<string>();
        foreach (var os in oses)
        {
            // Any target of the OS prints the same surface once unified; take the first so the text is RID-independent.
            var t = os.Targets[0];
            string ns = e.Namespace(os) + ".";
            foreach (var r in t.Records)
            {
                lines.Add($"type {ns}{r.CsName} struct");
                lines.AddRange(r.Members.Select(m => $"member {ns}{r.CsName} {m.Shape}"));
            }
            foreach (var a in t.InlineArrays)
            {
                lines.Add($"type {ns}{a.TypeName} inline-array {a.Element.Code}[{a.Length}]");
            }
            foreach (var f in t.FunctionPointerTypes)
            {
                lines.Add($"type {ns}{f.Name} function-pointer {f.Pointer.Code}");
            }
            foreach (var cls in t.Classes)
            {
                lines.Add($"type {ns}{cls} static-class");
            }
            lines.AddRange(t.Constants.Select(c => c.IsProperty
                ? $"member {ns}{c.Class} static-property {c.Type.Code} {c.Name}"
                : $"member {ns}{c.Class} const {c.Type.Code} {c.Name} = {c.Value.ToString(CultureInfo.InvariantCulture)}"));
            lines.AddRange(t.Guids.Select(g => $"member {ns}{g.Class} static-readonly System.Guid {g.Name}"));
            foreach (var f in t.Functions)
            {
                foreach (int v in FunctionWriter.Overloads(f))
                {
                    var ps = f.Parameters.Select(p => p.Type.Code + " " + p.Name)
                        .Concat(f.VariadicNames(v).Take(v).Select(n => "nint " + n));
                    lines.Add($"member {ns}{f.Class} method {f.Return.Code} {f.Name}({string.Join(", ", ps)})");
                }
                if (OverloadWriter.Signature(f) is { } overload)
                {
                    lines.Add($"member {ns}{f.Class} method {overload}");
                }
            }
        }
        lines.Sort(System.StringComparer.Ordinal);
        return string.Join("\n", lines) + "\n";
    }

    private static string N(long v) => v.ToString(CultureInfo.InvariantCulture);

    private static void Line(StringBuilder s, string kind, string name, params (string Key, string? Value)[] keys)
    {
        s.Append(kind).Append(' ').Append(name);
        foreach (var (k, v) in keys)
        {
            if (v is null)
            {
                continue;
            }
            s.Append(' ').Append(k);
            if (v.Length > 0)
            {
                s.Append('=').Append(LineSyntax.Quote(v));
            }
        }
        s.Append('\n');
    }
}
