using System;
using System.Collections.Generic;
using System.Linq;

namespace Syscalls.Generator.Roslyn;

/// <summary>One name an entry selected on one OS.</summary>
internal sealed record ResolvedName(string Os, string Name, NameKind Kind, string EmitName);

/// <summary>A list entry with what it selected; the location stays for diagnostics about it found later.</summary>
internal sealed record ResolvedEntry(string Text, SourceSpan Where, EquatableArray<ResolvedName> Names);

/// <summary>What the lists ask for, per entry, and the diagnostics of reading them.</summary>
internal sealed record ResolvedSelection(EquatableArray<ResolvedEntry> Entries, EquatableArray<DiagnosticInfo> Diagnostics)
{
    /// <summary>The selection without locations: what emission depends on, so moving lines around emits nothing again.</summary>
    public EmitRequest ToRequest() =>
        new(Entries.Select(e => new RequestEntry(e.Text, e.Names)).ToEquatableArray());

    /// <summary>The diagnostics of reading the lists and of emission, the latter placed at the entry they are about.</summary>
    public EquatableArray<DiagnosticInfo> Place(EquatableArray<DiagnosticInfo> emitted) =>
        Diagnostics.Concat(emitted.Select(d => d.Entry >= 0 && d.Entry < Entries.Count ? d with { Where = Entries[d.Entry].Where, Entry = -1 } : d))
            .ToEquatableArray();
}

/// <summary>An entry as emission sees it: its text (for messages) and the names it selected.</summary>
internal sealed record RequestEntry(string Text, EquatableArray<ResolvedName> Names);

/// <summary>What to emit: the entries in list order (diagnostics refer to them by index).</summary>
internal sealed record EmitRequest(EquatableArray<RequestEntry> Entries);

/// <summary>
/// Resolves list entries against the names the facts declare: an exact name on every OS that has it (or on the OS
/// it is narrowed to), a pattern to every matching name. The dependency closure (records a function or record
/// reaches, an enumerator's enum) is the emitter's; this only decides the roots.
/// </summary>
internal static class SelectionResolver
{
    public static ResolvedSelection Resolve(IReadOnlyList<SelectionList> lists, Catalog catalog)
    {
        // The package's props and the project may both add Syscalls.txt: read each file once.
        lists = lists.GroupBy(l => l.Path, StringComparer.Ordinal).Select(g => g.First()).ToList();
        var diagnostics = lists.SelectMany(l => l.Diagnostics).ToList();
        var entries = lists.SelectMany(l => l.Entries).ToList();
        if (entries.Count == 0)
        {
            return new ResolvedSelection(EquatableArray<ResolvedEntry>.Empty, diagnostics.ToEquatableArray());
        }
        diagnostics.AddRange(catalog.Errors);
        string? missing = catalog.Targets.Count == 0 ? "ABI facts file (*.abi)"
            : catalog.Families.Count == 0 ? "API family list (*.api)" : null;
        if (missing is not null)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.MissingFacts, entries[0].Where, missing));
            return new ResolvedSelection(EquatableArray<ResolvedEntry>.Empty, diagnostics.ToEquatableArray());
        }

        var resolved = new List<ResolvedEntry>();
        foreach (var entry in entries)
        {
            var oses = entry.Os is null ? catalog.Oses : catalog.Oses.Where(o => o == entry.Os).ToList();
            var names = entry.IsPattern ? MatchPattern(entry, oses, catalog, diagnostics) : MatchName(entry, oses, catalog, diagnostics);
            if (names.Count > 0)
            {
                resolved.Add(new ResolvedEntry(entry.Text, entry.Where, names.ToEquatableArray()));
            }
        }
        return new ResolvedSelection(resolved.ToEquatableArray(), diagnostics.ToEquatableArray());
    }

    private static List<ResolvedName> MatchName(ListEntry entry, IReadOnlyList<string> oses, Catalog catalog, List<DiagnosticInfo> diagnostics)
    {
        var found = new List<ResolvedName>();
        foreach (var os in oses)
        {
            if (catalog.NamesOf(os).TryGetValue(entry.Name, out var known))
            {
                found.Add(new ResolvedName(os, known.Name, known.Kind, known.EmitName));
            }
        }
        if (found.Count == 0 && CatalogueEdge.Explain(entry, oses, catalog) is { } outside)
        {
            diagnostics.Add(outside);
            return found;
        }
        if (found.Count == 0)
        {
            string where = entry.Os is null ? "" : " for " + entry.Os;
            var elsewhere = catalog.Oses.Where(o => !oses.Contains(o) && catalog.NamesOf(o).ContainsKey(entry.Name)).ToList();
            string hint;
            if (elsewhere.Count > 0)
            {
                hint = $"; it exists for {string.Join(" and ", elsewhere)}";
            }
            else
            {
                var candidates = oses.SelectMany(o => catalog.NamesOf(o).Keys).Distinct(StringComparer.Ordinal);
                // A near miss of the catalogue first; else of a name the headers declare outside it (SYSGEN012 then
                // says how to add that one).
                hint = DidYouMean.Suggest(entry.Name, candidates) is { } s ? $". Did you mean '{s}'?"
                    : DidYouMean.Suggest(entry.Name, oses.SelectMany(catalog.DeclaredNamesOf).Distinct(StringComparer.Ordinal)) is { } o
                    ? $". Did you mean '{o}' (declared by the headers, outside the catalogue)?"
                    : "";
            }
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.UnknownName, entry.Where, entry.Name, where, hint));
            return found;
        }
        var scalar = found.Where(n => n.Kind == NameKind.ScalarTypedef).ToList();
        if (scalar.Count > 0)
        {
            var known = catalog.NamesOf(scalar[0].Os)[entry.Name];
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.NothingToGenerate, entry.Where, entry.Name, known.Detail ?? "scalar"));
            found.RemoveAll(n => n.Kind == NameKind.ScalarTypedef);
        }
        return found;
    }

    private static List<ResolvedName> MatchPattern(ListEntry entry, IReadOnlyList<string> oses, Catalog catalog, List<DiagnosticInfo> diagnostics)
    {
        var found = new List<ResolvedName>();
        foreach (var os in oses)
        {
            // Scalar typedefs generate nothing: a pattern that reaches them (uint*) would only add noise.
            found.AddRange(catalog.NamesOf(os).Values
                .Where(k => k.Kind != NameKind.ScalarTypedef && k.Name.StartsWith(entry.Prefix, StringComparison.Ordinal))
                .OrderBy(k => k.Name, StringComparer.Ordinal)
                .Select(k => new ResolvedName(os, k.Name, k.Kind, k.EmitName)));
        }
        if (found.Count == 0)
        {
            string where = entry.Os is null ? "" : " for " + entry.Os;
            var candidates = oses.SelectMany(o => catalog.NamesOf(o).Keys).Distinct(StringComparer.Ordinal);
            string hint = DidYouMean.SuggestPrefix(entry.Prefix, candidates) is { } s ? $". Did you mean '{s}'?" : "";
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.EmptyPattern, entry.Where, entry.Text, where, hint));
        }
        return found;
    }
}
