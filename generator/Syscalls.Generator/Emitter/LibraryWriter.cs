using System.Linq;

namespace Syscalls.Generator.Emitter;

/// <summary>Prints one library class (<c>LibC</c>, <c>Ws2_32</c>): its constants, GUIDs and functions.</summary>
internal static class LibraryWriter
{
    public static string WriteConstants(OsModel os, TargetModel layout, string cls, Emission e)
    {
        var w = new CodeWriter().FileHeader(e.Origin(layout), "System.Runtime.Versioning");
        w.Line("namespace " + e.Namespace(os) + ";").Line();
        w.Line($"[SupportedOSPlatform(\"{os.Platform.PlatformName}\")]");
        w.Open($"{e.Visibility} static unsafe partial class {cls}");
        bool first = true;
        foreach (var c in layout.Constants.Where(c => c.Class == cls))
        {
            if (!first)
            {
                w.Line();
            }
            first = false;
            string value = c.Literal;
            string? source = c.Kind switch
            {
                // glibc's `#define EPOLLIN EPOLLIN` names an enumerator: the body says nothing more.
                ConstantKind.Macro when c.Source == c.Name => null,
                ConstantKind.Macro => $"<c>#define {Identifiers.Xml(c.Name)} {Identifiers.Xml(c.Source ?? "")}</c>",
                ConstantKind.Enumerator => $"An enumerator of <c>{Identifiers.Xml(c.Source ?? "")}</c>.",
                _ => $"<c>{c.Source}</c> of the target's <c>asm/unistd.h</c>.",
            };
            if (!c.IsArchDependent)
            {
                w.Doc(c.Doc, source);
                w.Line(c.IsProperty
                    ? $"public static {c.Type.Code} {Identifiers.Escape(c.Name)} => {value};"
                    : $"public const {c.Type.Code} {Identifiers.Escape(c.Name)} = {value};");
                continue;
            }
            // Not a const: the consumer would bake one architecture's value into its IL from the reference assembly.
            w.Doc(c.Doc, (source is null ? "" : source + " ") + "The value differs between architectures: " + string.Join(", ",
                os.Targets.Select(t => t.Constants.First(x => x.Class == cls && x.Name == c.Name))
                    .Select((x, i) => os.Targets[i].Target + " " + (x.IsMissing ? "(not defined)" : x.Literal))) + ".");
            string body = !e.KnowsArchValues ? e.Throw(os, c.Name)
                : c.IsMissing ? e.ThrowUndefined(c.Name, layout.Target)
                : value;
            w.Line($"public static {c.Type.Code} {Identifiers.Escape(c.Name)} => {body};");
        }
        foreach (var g in layout.Guids.Where(g => g.Class == cls))
        {
            if (!first)
            {
                w.Line();
            }
            first = false;
            w.Doc(null, $"<c>{g.Name}</c> = {{{g.Value:D}}}.");
            w.Line($"public static readonly global::System.Guid {Identifiers.Escape(g.Name)} = {GuidLiteral(g.Value)};");
        }
        w.Close();
        return w.ToString();
    }

    public static string WriteFunctions(OsModel os, TargetModel layout, string cls, Emission e)
    {
        var w = new CodeWriter().FileHeader(e.Origin(layout),
            "System.Runtime.CompilerServices", "System.Runtime.InteropServices", "System.Runtime.Versioning");
        w.Line("namespace " + e.Namespace(os) + ";").Line();
        w.Line($"[SupportedOSPlatform(\"{os.Platform.PlatformName}\")]");
        w.Open($"{e.Visibility} static unsafe partial class {cls}");
        bool first = true;
        foreach (var f in layout.Functions.Where(f => f.Class == cls))
        {
            foreach (var overload in FunctionWriter.Overloads(f))
            {
                if (!first)
                {
                    w.Line();
                }
                first = false;
                FunctionWriter.Write(w, os, layout, f, overload, e);
            }
            if (f.Overload.Count > 0)
            {
                w.Line();
                OverloadWriter.Write(w, f, f.Page);
            }
        }
        w.Close();
        return w.ToString();
    }

    private static string GuidLiteral(System.Guid g)
    {
        string d = g.ToString("N");
        var parts = new[] { "0x" + d.Substring(0, 8) + "u", "0x" + d.Substring(8, 4), "0x" + d.Substring(12, 4) }
            .Concat(Enumerable.Range(0, 8).Select(i => "0x" + d.Substring(16 + i * 2, 2)));
        return "new global::System.Guid(" + string.Join(", ", parts) + ")";
    }
}
