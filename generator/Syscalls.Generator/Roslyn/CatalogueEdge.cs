using System;
using System.Collections.Generic;
using System.Linq;
using Syscalls.Generator.Facts;

namespace Syscalls.Generator.Roslyn;

/// <summary>
/// SYSGEN012: a list entry whose name the headers of a requested OS declare (the <c>*.names</c> files the scanner
/// writes beside the facts) but no family lists. Says where the name is declared and how to bring it into the
/// catalogue: which family file already includes the header it comes through, and which line to add there.
/// </summary>
internal static class CatalogueEdge
{
    public static DiagnosticInfo? Explain(ListEntry entry, IReadOnlyList<string> oses, Catalog catalog)
    {
        var hits = oses.Select(os => (Os: os, Name: catalog.OutsideOf(os, entry.Name))).Where(h => h.Name is not null)
            .Select(h => (h.Os, Name: h.Name!)).ToList();
        if (hits.Count == 0)
        {
            return null;
        }
        string where = string.Join("; ", hits.GroupBy(h => h.Name.Name.File, StringComparer.Ordinal)
            .Select(g => $"{g.Key} on {string.Join(", ", g.SelectMany(h => h.Name.Targets))}"));
        string how = string.Join("; ", hits.GroupBy(h => Suggest(h.Os, h.Name, catalog), StringComparer.Ordinal)
            .Select(g => g.Key + (hits.Count > 1 ? $" ({string.Join(", ", g.Select(h => h.Os))})" : "")));
        var targets = hits.SelectMany(h => h.Name.Targets);
        string regen = "./build.sh regen" + string.Concat(targets.Select(t => " --target " + t));
        return DiagnosticInfo.Create(Descriptors.OutsideCatalogue, entry.Where, entry.Name, where,
            $"{how}, then rescan ({regen}) and rebuild the package");
    }

    private static string Suggest(string os, OutsideName outside, Catalog catalog)
    {
        var name = outside.Name;
        string line = $"{name.FamilyKey} {name.Name}";
        foreach (var family in catalog.Families)
        {
            foreach (var target in outside.Targets.Where(family.AppliesTo))
            {
                var items = family.ItemsFor(target, os).ToList();
                var header = items.FirstOrDefault(i => i.Kind == ApiItemKind.Header
                    && (i.Name == name.Via || i.Name == name.File));
                if (header is null)
                {
                    continue;
                }
                // The last line of that kind which every target of the family shares, else any: where the name goes.
                var kind = KindOf(name.FamilyKey);
                var last = items.LastOrDefault(i => i.Kind == kind && i.Narrow is null)
                    ?? items.LastOrDefault(i => i.Kind == kind);
                string file = "headers/families/" + System.IO.Path.GetFileName(family.File);
                return $"add '{line}' to {file}, which includes {header.Name} (line {header.Line})"
                    + (last is null ? "" : $", beside its {name.FamilyKey} line {last.Line}");
            }
        }
        return $"add 'header {name.Via}' and '{line}' to the family of headers/families/ it belongs with, or to a new "
            + $"one (headers/FORMAT.md): no family includes {name.Via}";
    }

    private static ApiItemKind KindOf(string key) => key switch
    {
        "func" => ApiItemKind.Func,
        "struct" => ApiItemKind.Record,
        "enum" => ApiItemKind.Enum,
        "type" => ApiItemKind.Type,
        _ => ApiItemKind.Const,
    };
}
