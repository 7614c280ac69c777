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
    /// Every name the target's <c>names</c> headers declare (functions, defined records and enums, enumerators,
    /// typedefs, object-like macros), each with the header that declares it and the listed header it is first reached
    /// through; null when the target lists no such header. Names reserved to the implementation (a leading
    /// underscore) and clang's own headers are left out.
    /// </summary>
    public DeclaredNames? ScanNames()
    {
        if (_target.Names.Count == 0)
        {
            return null;
        }
        string config = $"headers/targets/{_target.Name}.target";
        var headerItems = _target.Names.Select(h => new ApiItem(ApiItemKind.Header, h, config, 1, null)).ToList();
        var problems = new List<string>();
        using var tu = ParseChecked(Prelude(_target.Names), headerItems, "names", problems);
        ScanException.ThrowIfAny(problems);
        var paths = Paths();
        var via = ListedHeaderOfEachFile(tu!);
        var index = new TuIndex(tu!);
        var names = new Dictionary<string, DeclaredName>(StringComparer.Ordinal);
        void Add(string name, DeclaredKind kind, Cursor c)
        {
            // Macros sit where they are defined; declarations where they are expanded (glibc declares through macros).
            string file = c.Kind == CursorKind.MacroDefinition ? c.Location.File : c.ExpansionLocation.File;
            if (name.Length == 0 || name[0] == '_' || names.ContainsKey(name) || !IsTargetHeader(paths, file))
            {
                return;
            }
            string declared = paths.Relative(file)!;
            string through = via.TryGetValue(Path.GetFullPath(file), out var v) ? v : declared;
            names[name] = new DeclaredName(name, kind, declared, through);
        }
        // A name several declarations share (glibc's `#define SOCK_STREAM SOCK_STREAM`, struct and function `stat`) is
        // listed once, as the first of these kinds: what a list entry of that name would most likely mean.
        foreach (var (name, c) in index.Functions)
        {
            Add(name, DeclaredKind.Func, c);
        }
        foreach (var (name, c) in index.Records.Where(r => r.Value.IsDefinition))
        {
            Add(name, c.Kind == CursorKind.UnionDecl ? DeclaredKind.Union : DeclaredKind.Struct, c);
        }
        foreach (var (name, c) in index.Enums.Where(r => r.Value.IsDefinition))
        {
            Add(name, DeclaredKind.Enum, c);
        }
        foreach (var (name, e) in index.Enumerators)
        {
            Add(name, DeclaredKind.Enumerator, e.Constant);
        }
        foreach (var (name, c) in index.Typedefs)
        {
            Add(name, DeclaredKind.Typedef, c);
        }
        foreach (var (name, c) in index.Macros.Where(m => !m.Value.IsMacroFunctionLike))
        {
            Add(name, DeclaredKind.Macro, c);
        }
        var sorted = names.Values.OrderBy(n => n.Name, StringComparer.Ordinal).ToList();
        return new DeclaredNames(_target.Name, _target.Names, sorted);
    }

    /// <summary>
    /// For each header file of the unit, the listed header (an <c>#include</c> of the unit itself) that first reaches
    /// it through the include graph: the header a family would add to see the file's declarations.
    /// </summary>
    private static Dictionary<string, string> ListedHeaderOfEachFile(TranslationUnit tu)
    {
        var graph = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var listed = new List<(string Spelled, string File)>();
        foreach (var c in tu.Root.Children().Where(c => c.Kind == CursorKind.InclusionDirective))
        {
            string to = c.IncludedFile;
            if (to.Length == 0)
            {
                continue;
            }
            string from = c.Location.File;
            if (from == UnitName)
            {
                listed.Add((c.Spelling, Path.GetFullPath(to)));
                continue;
            }
            from = Path.GetFullPath(from);
            if (!graph.TryGetValue(from, out var targets))
            {
                graph[from] = targets = [];
            }
            targets.Add(Path.GetFullPath(to));
        }
        var via = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (spelled, file) in listed)
        {
            var work = new Stack<string>(new[] { file });
            while (work.Count > 0)
            {
                string f = work.Pop();
                if (!via.TryAdd(f, spelled))
                {
                    continue;
                }
                foreach (var next in graph.TryGetValue(f, out var t) ? t : [])
                {
                    work.Push(next);
                }
            }
        }
        return via;
    }
}
