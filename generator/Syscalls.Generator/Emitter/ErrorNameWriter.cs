using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Syscalls.Generator.Facts;

namespace Syscalls.Generator.Emitter;

/// <summary>
/// Prints one OS's table from error number to C name (<c>98 => "EADDRINUSE"</c>): the constants its family lists mark
/// with <c>errors</c> lines, whatever library class holds them. The bindings' hand-written <c>Errno.Name</c> reads it, so
/// a name always comes from the same facts as the constant. The table is internal: the constants are the API.
/// </summary>
internal static class ErrorNameWriter
{
    public const string ClassName = "ErrorNames";

    /// <summary>The file, or null when no constant of this OS is an error number.</summary>
    public static EmittedFile? Write(OsModel os, TargetModel layout, IReadOnlyList<ApiFamily> families, Emission e, string stem)
    {
        var names = Names(layout, families, e);
        if (names.Count == 0)
        {
            return null;
        }
        var w = new CodeWriter().FileHeader(e.Origin(layout));
        w.Line("namespace " + e.Namespace(os) + ";").Line();
        w.Doc("The C names of this OS's error numbers, from the constants its family lists mark with errors lines.",
            "An alias defined as another error's name (<c>#define EWOULDBLOCK EAGAIN</c>) gives way to that name.");
        w.Open($"internal static class {ClassName}");
        w.Line("internal static string? Of(int number) => number switch");
        w.Line("{");
        foreach (var (value, name) in names)
        {
            w.Line($"    {value.ToString(CultureInfo.InvariantCulture)} => {Identifiers.Literal(name)},");
        }
        w.Line("    _ => null,");
        w.Line("};");
        w.Close();
        return new EmittedFile(stem + "." + ClassName + ".g.cs", w.ToString());
    }

    /// <summary>(number, name) sorted by number; one name per number.</summary>
    internal static List<(int Value, string Name)> Names(TargetModel layout, IReadOnlyList<ApiFamily> families, Emission e)
    {
        // A lookup, not a dictionary: a host may hand over two lists of one family (the Roslyn host's own and a
        // project's), and either may mark a constant.
        var byName = families.ToLookup(f => f.Name, StringComparer.Ordinal);
        var errors = new Dictionary<string, (int Value, string Body)>(StringComparer.Ordinal);
        foreach (var c in layout.Constants)
        {
            var fact = c.Kind == ConstantKind.Macro ? layout.Facts.FindConstant(c.Name) : null;
            if (fact?.Family is not { } family
                || !byName[family].Any(f => f.IsError(c.Name, layout.Target, layout.Platform.Os))
                || c.IsMissing || (c.IsArchDependent && !e.KnowsArchValues)
                || c.Value < int.MinValue || c.Value > int.MaxValue)
            {
                continue;
            }
            errors[c.Name] = ((int)c.Value, fact.MacroBody.Trim('(', ')', ' '));
        }
        return errors
            .Where(kv => !errors.ContainsKey(kv.Value.Body) || kv.Value.Body == kv.Key)
            .GroupBy(kv => kv.Value.Value)
            .Select(g => (g.Key, g.Select(kv => kv.Key).OrderBy(n => n, StringComparer.Ordinal).First()))
            .OrderBy(p => p.Key)
            .ToList();
    }
}
