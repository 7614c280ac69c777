using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Syscalls.Generator.Facts;
using Syscalls.Generator.Tool.Scanner.Clang;

namespace Syscalls.Generator.Tool.Scanner;

internal sealed partial class TargetScanner
{
    /// <summary>
    /// Parses one family's headers and resolves its items. With <paramref name="wholeFile"/>, the items are
    /// everything that file declares instead of the family's list.
    /// </summary>
    private FactSet ScanFamily(ApiFamily family, List<string> problems, string? wholeFile = null)
    {
        var set = new FactSet();
        var headerItems = family.ItemsFor(_target.Name, _target.Os).Where(i => i.Kind == ApiItemKind.Header).ToList();
        if (headerItems.Count == 0)
        {
            problems.Add($"{family.File}:1: family {family.Name} has no header line for {_target.Name}");
            return set;
        }
        string prelude = Prelude(headerItems.Select(h => h.Name));
        using var tu = ParseChecked(prelude, headerItems, family.Name, problems);
        if (tu is null)
        {
            return set;
        }
        var index = new TuIndex(tu);
        var paths = Paths();
        var collector = new FactCollector(tu, index, paths, _target, family.Name, set);
        var resolver = new ItemResolver(this, family, tu, index, paths, collector, problems, wholeFile);
        var items = wholeFile is null ? family.ItemsFor(_target.Name, _target.Os).ToList() : resolver.WholeFileItems();
        foreach (var item in items)
        {
            resolver.Resolve(item);
        }
        collector.Drain();
        problems.AddRange(collector.Problems);

        var consts = resolver.Consts.GroupBy(c => c.Name, StringComparer.Ordinal).Select(g => g.OrderByDescending(c => c.Explicit).First()).ToList();
        var outcome = MacroEvaluator.Evaluate(prelude, Args(), consts, resolver.Guids, family.Name, _display);
        problems.AddRange(outcome.Problems);
        foreach (var c in outcome.Constants)
        {
            // A const that is an enumerator of a named enum is reported through the enum instead (FORMAT.md).
            if (!set.Enums.Values.Any(e => e.Fact.Enumerators.Any(x => x.Name == c.Name)))
            {
                FactSet.Put(set.Constants, c.Name, c, requested: true);
            }
        }
        foreach (var g in outcome.Guids)
        {
            FactSet.Put(set.Guids, g.Name, g, requested: true);
        }
        return set;
    }

    private bool IsTargetHeader(HeaderPaths paths, string file) =>
        file.Length > 0 && paths.Relative(file) is not null && !Path.GetFullPath(file).StartsWith(Path.GetFullPath(_clangInclude), StringComparison.Ordinal);

    /// <summary>Looks up each API-list item in one family's translation unit.</summary>
    private sealed class ItemResolver(TargetScanner owner, ApiFamily family, TranslationUnit tu, TuIndex index, HeaderPaths paths,
        FactCollector collector, List<string> problems, string? wholeFile)
    {
        private readonly SourceCache _sources = new();

        public List<ConstRequest> Consts { get; } = [];
        public List<GuidRequest> Guids { get; } = [];

        public void Resolve(ApiItem item)
        {
            string origin = item.ToString();
            switch (item.Kind)
            {
                case ApiItemKind.Func:
                    if (index.Functions.TryGetValue(item.Name, out var func))
                    {
                        collector.Need(func, requested: true, origin);
                    }
                    else
                    {
                        Missing(item, "func");
                    }
                    break;
                case ApiItemKind.Record or ApiItemKind.Enum when item.IsPattern:
                    ResolveTagPattern(item);
                    break;
                case ApiItemKind.Record or ApiItemKind.Enum:
                {
                    var tags = item.Kind == ApiItemKind.Record ? index.Records : index.Enums;
                    var want = item.Kind == ApiItemKind.Record ? TypeKind.Record : TypeKind.Enum;
                    if (tags.TryGetValue(item.Name, out var tag))
                    {
                        collector.Need(tag, requested: true, origin);
                    }
                    else if (index.Typedefs.TryGetValue(item.Name, out var td) && td.TypedefUnderlyingType.Canonical.Kind == want)
                    {
                        // A typedef'd name (SOCKADDR_IN): keep the typedef and the record it names.
                        collector.Need(TuIndex.Normalize(td.TypedefUnderlyingType.Canonical.Declaration), requested: true, origin);
                        collector.Need(td, requested: true, origin);
                    }
                    else
                    {
                        Missing(item, item.Kind == ApiItemKind.Record ? "struct/union" : "enum");
                    }
                    break;
                }
                case ApiItemKind.Type:
                    if (index.Typedefs.TryGetValue(item.Name, out var typedef))
                    {
                        collector.Need(typedef, requested: true, origin);
                    }
                    else
                    {
                        Missing(item, "typedef");
                    }
                    break;
                case ApiItemKind.Opaque:
                    ResolveOpaque(item);
                    break;
                case ApiItemKind.Const when item.IsExclusion:
                    break;
                case ApiItemKind.Const when item.IsPattern:
                    ResolvePattern(item);
                    break;
                case ApiItemKind.Const:
                    ResolveConst(item);
                    break;
                case ApiItemKind.Guid:
                    if (index.Macros.TryGetValue(item.Name, out var macro))
                    {
                        Guids.Add(new GuidRequest(item.Name, paths.Relative(macro.Location.File), origin, macro.Location));
                    }
                    else
                    {
                        Missing(item, "guid macro");
                    }
                    break;
            }
        }

        /// <summary>An <c>opaque</c> record: by tag, or by a typedef of a record (FORMAT.md).</summary>
        private void ResolveOpaque(ApiItem item)
        {
            if (index.Records.TryGetValue(item.Name, out var tag) && tag.IsDefinition)
            {
                collector.Opaque.Add(item.Name);
            }
            else if (index.Typedefs.TryGetValue(item.Name, out var td)
                && td.TypedefUnderlyingType.Canonical.Kind == TypeKind.Record)
            {
                var decl = TuIndex.Normalize(td.TypedefUnderlyingType.Canonical.Declaration);
                collector.Opaque.Add(index.UnnamedNames.TryGetValue(decl, out var name) ? name : decl.Spelling);
            }
            else
            {
                Missing(item, "opaque struct/union");
            }
        }

        private void ResolveConst(ApiItem item)
        {
            bool call = item.Name.EndsWith("()", StringComparison.Ordinal);
            string name = call ? item.Name.Substring(0, item.Name.Length - 2) : item.Name;
            index.Macros.TryGetValue(name, out var macro);
            bool hasMacro = macro.Raw.Kind != 0;
            string? body = hasMacro ? MacroEvaluator.Body(tu, macro) : null;
            if ((!hasMacro || body == name) && index.Enumerators.TryGetValue(name, out var e) && AddEnumOf(e.Enum, item))
            {
                return;
            }
            if (hasMacro)
            {
                var pos = macro.Location;
                string? problem = macro.IsMacroFunctionLike && !call ? $"macro {name} takes arguments; write {name}() in the API list to evaluate it with none"
                    : !macro.IsMacroFunctionLike && call ? $"macro {name} is not function-like; drop the ()"
                    : body!.Length == 0 ? $"macro {name} has an empty body, so there is no value to evaluate"
                    : null;
                if (problem is not null)
                {
                    problems.Add($"{item.File}:{item.Line}: {problem} ({paths.Display(pos.File)}:{pos.Line})");
                    return;
                }
                Consts.Add(Request(name, call ? name + "()" : name, body!, macro, item.ToString(), explicitItem: true));
                return;
            }
            if (index.Enumerators.TryGetValue(name, out var anon))
            {
                // An enumerator of an unnamed enum is a plain C constant.
                Consts.Add(new ConstRequest(name, name, name, paths.Relative(anon.Constant.ExpansionLocation.File), CommentText.Fold(anon.Constant.RawComment),
                    item.ToString(), true, anon.Constant.ExpansionLocation));
                return;
            }
            Missing(item, "macro");
        }

        /// <summary>
        /// A const pattern: object-like macros and enumerators of the family's headers whose names start with the
        /// prefix, minus the family's exclusions for this target.
        /// </summary>
        private void ResolvePattern(ApiItem item)
        {
            var exclusions = family.ItemsFor(owner._target.Name, owner._target.Os).Where(i => i.IsExclusion).ToList();
            bool Excluded(string name) => exclusions.Any(x => x.Matches(name));
            int matched = 0;
            foreach (var (name, macro) in index.Macros.Where(m => item.Matches(m.Key)).OrderBy(m => m.Key, StringComparer.Ordinal))
            {
                if (macro.IsMacroFunctionLike || macro.IsMacroBuiltin || !owner.IsTargetHeader(paths, macro.Location.File))
                {
                    continue;
                }
                string body = MacroEvaluator.Body(tu, macro);
                if (body.Length == 0 || Excluded(name))
                {
                    continue;
                }
                matched++;
                if (body == name && index.Enumerators.TryGetValue(name, out var e) && AddEnumOf(e.Enum, item))
                {
                    continue;
                }
                Consts.Add(Request(name, name, body, macro, item.ToString(), explicitItem: false));
            }
            foreach (var (name, (enumDecl, constant)) in index.Enumerators.Where(e => item.Matches(e.Key)).OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                if (index.Macros.ContainsKey(name) || Excluded(name) || !owner.IsTargetHeader(paths, constant.ExpansionLocation.File))
                {
                    continue; // a macro of the same name was handled above
                }
                matched++;
                if (!AddEnumOf(enumDecl, item))
                {
                    Consts.Add(new ConstRequest(name, name, name, paths.Relative(constant.ExpansionLocation.File), CommentText.Fold(constant.RawComment),
                        item.ToString(), false, constant.ExpansionLocation));
                }
            }
            if (matched == 0)
            {
                problems.Add($"{item.File}:{item.Line}: const pattern {item.Name} matches no macro or enumerator of the headers of family {family.Name} for {owner._target.Name} ({Headers()})");
            }
        }

        /// <summary>A struct or enum pattern: tagged, defined records (or enums) of the family's headers.</summary>
        private void ResolveTagPattern(ApiItem item)
        {
            var tags = item.Kind == ApiItemKind.Record ? index.Records : index.Enums;
            int matched = 0;
            foreach (var (name, decl) in tags.Where(t => item.Matches(t.Key)).OrderBy(t => t.Key, StringComparer.Ordinal))
            {
                if (!decl.IsDefinition || index.UnnamedNames.ContainsKey(decl) || !owner.IsTargetHeader(paths, decl.ExpansionLocation.File))
                {
                    continue;
                }
                matched++;
                collector.Need(decl, requested: true, item.ToString());
            }
            if (matched == 0)
            {
                problems.Add($"{item.File}:{item.Line}: {(item.Kind == ApiItemKind.Record ? "struct" : "enum")} pattern {item.Name} matches no tagged definition in the headers of family {family.Name} for {owner._target.Name} ({Headers()})");
            }
        }

        /// <summary>Pulls in the named enum holding an enumerator; false when the enum has no name.</summary>
        private bool AddEnumOf(Cursor enumDecl, ApiItem item)
        {
            var decl = TuIndex.Normalize(enumDecl);
            if (decl.IsAnonymous && !index.UnnamedNames.ContainsKey(decl))
            {
                return false;
            }
            collector.Need(decl, requested: false, item.ToString());
            return true;
        }

        private ConstRequest Request(string name, string expression, string body, Cursor macro, string origin, bool explicitItem)
        {
            var pos = macro.Location;
            return new ConstRequest(name, expression, body, paths.Relative(pos.File),
                CommentText.ForMacro(_sources, pos.File, pos.Line, macro.ExtentEnd.Offset), origin, explicitItem, pos);
        }

        private string Headers() => string.Join(", ", family.HeadersFor(owner._target.Name, owner._target.Os));

        private void Missing(ApiItem item, string what) =>
            problems.Add($"{item.File}:{item.Line}: {what} {item.Name} is not declared by any header of family {family.Name} for {owner._target.Name} ({Headers()})");

        /// <summary>Everything <c>wholeFile</c> declares, as API items (scan-file).</summary>
        public List<ApiItem> WholeFileItems()
        {
            string file = Path.GetFullPath(wholeFile!);
            string display = paths.Display(file);
            // Macros sit where they are defined; declarations where they are expanded (a record a macro declares
            // belongs to the header that uses the macro).
            SourcePos At(Cursor c) => c.Kind == CursorKind.MacroDefinition ? c.Location : c.ExpansionLocation;
            bool Here(Cursor c) => Path.GetFullPath(At(c).File is { Length: > 0 } f ? f : "/") == file;
            ApiItem Item(ApiItemKind kind, string name, Cursor c) => new(kind, name, display, At(c).Line, null);
            var items = new List<ApiItem>();
            items.AddRange(index.Records.Where(r => Here(r.Value) && r.Value.IsDefinition).Select(r => Item(ApiItemKind.Record, r.Key, r.Value)));
            items.AddRange(index.Enums.Where(r => Here(r.Value) && r.Value.IsDefinition).Select(r => Item(ApiItemKind.Enum, r.Key, r.Value)));
            items.AddRange(index.Typedefs.Where(r => Here(r.Value)).Select(r => Item(ApiItemKind.Type, r.Key, r.Value)));
            items.AddRange(index.Functions.Where(r => Here(r.Value)).Select(r => Item(ApiItemKind.Func, r.Key, r.Value)));
            items.AddRange(index.Enumerators.Where(e => Here(e.Value.Constant) && e.Value.Enum.IsAnonymous && !index.UnnamedNames.ContainsKey(TuIndex.Normalize(e.Value.Enum)))
                .Select(e => Item(ApiItemKind.Const, e.Key, e.Value.Constant)));
            foreach (var (name, macro) in index.Macros.Where(m => Here(m.Value) && !m.Value.IsMacroFunctionLike))
            {
                string body = MacroEvaluator.Body(tu, macro);
                if (body.Length > 0 && !(index.Enumerators.ContainsKey(name) && body == name))
                {
                    items.Add(Item(body.StartsWith("{", StringComparison.Ordinal) ? ApiItemKind.Guid : ApiItemKind.Const, name, macro));
                }
            }
            return items.OrderBy(i => i.Line).ThenBy(i => i.Name, StringComparer.Ordinal).ToList();
        }
    }
}
