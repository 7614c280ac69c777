using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Syscalls.Generator.Facts;
using Syscalls.Generator.Tool.Scanner.Clang;

namespace Syscalls.Generator.Tool.Scanner;

/// <summary>
/// Scans one target: each API family's headers are parsed in their own translation unit (families are
/// independent, so they run in parallel), its items and their dependencies become facts, its macros are evaluated
/// in a second unit; on Linux every <c>__NR_*</c> of asm/unistd.h becomes a syscall fact.
/// </summary>
internal sealed partial class TargetScanner
{
    private const string UnitName = "/syscalls-scan/headers.c";

    private readonly TargetConfig _target;
    private readonly string _sysroot;
    private readonly string? _kernel;
    private readonly string _clangInclude;
    private readonly List<string> _includeDirs;
    private readonly Func<string, string> _display;

    public TargetScanner(TargetConfig target, string sysroot, string clangInclude, string? kernel, Func<string, string> display)
    {
        _target = target;
        _sysroot = sysroot;
        _kernel = target.IsLinux ? kernel : null;
        _clangInclude = clangInclude;
        _includeDirs = target.Includes.Select(i => Path.Combine(sysroot, i)).ToList();
        _display = display;
    }

    /// <summary>Extra include folders (a fixture's own folder) searched before the sysroot.</summary>
    public List<string> ExtraIncludes { get; } = [];

    /// <summary>The clang command line for this target.</summary>
    public IReadOnlyList<string> Args()
    {
        var args = new List<string>
        {
            "--target=" + _target.Triple, "-x", "c", "-nostdinc",
            "-resource-dir", Path.GetDirectoryName(_clangInclude.TrimEnd('/'))!,
            "-isystem", _clangInclude,
            "-ferror-limit=0", "-fparse-all-comments",
        };
        foreach (var dir in ExtraIncludes)
        {
            args.Add("-I");
            args.Add(dir);
        }
        foreach (var dir in _includeDirs)
        {
            args.Add("-isystem");
            args.Add(dir);
        }
        args.AddRange(_target.Defines.Select(d => "-D" + d));
        return args;
    }

    private HeaderPaths Paths() => new([.. ExtraIncludes, .. _includeDirs, _clangInclude], _display);

    /// <summary>Scans the given families (those that apply to this target) and the Linux syscall table.</summary>
    public AbiFacts Scan(IReadOnlyList<ApiFamily> families)
    {
        var applicable = families.Where(f => f.AppliesTo(_target.Name)).OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
        var results = new FactSet[applicable.Count];
        var problems = new List<string>[applicable.Count];
        SyscallTable? syscalls = null;
        var syscallProblems = new List<string>();
        var jobs = Enumerable.Range(0, applicable.Count).Select<int, Action>(i => () =>
        {
            problems[i] = [];
            results[i] = Guarded(() => ScanFamily(applicable[i], problems[i]), problems[i]) ?? new FactSet();
        }).ToList();
        if (_target.IsLinux)
        {
            jobs.Insert(0, () => syscalls = Guarded(() => ScanSyscalls(syscallProblems), syscallProblems));
        }
        Parallel.Invoke(new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, [.. jobs]);

        var all = problems.SelectMany(p => p).Concat(syscallProblems).ToList();
        var merged = new FactSet();
        foreach (var r in results)
        {
            merged.MergeFrom(r);
        }
        foreach (var family in applicable)
        {
            foreach (var item in family.ItemsFor(_target.Name, _target.Os).Where(i => i.Kind == ApiItemKind.Syscall))
            {
                if (syscalls is null)
                {
                    all.Add($"{item}: syscall items need a Linux target, and {_target.Name} is not one (narrow the line with .linux)");
                }
                else if (!syscalls.Numbers.ContainsKey(item.Name))
                {
                    all.Add($"{item}: __NR_{item.Name} is not defined by asm/unistd.h for {_target.Name}");
                }
            }
        }
        ScanException.ThrowIfAny(all);
        foreach (var (name, number) in syscalls?.Numbers ?? [])
        {
            merged.Syscalls[name] = new SyscallFact(name, number);
        }
        return merged.ToFacts(Provenance(applicable.Select(f => f.Name)));
    }

    /// <summary>Runs one job of the parallel scan, turning its failure into problems instead of an AggregateException.</summary>
    private static T? Guarded<T>(Func<T?> job, List<string> problems)
        where T : class
    {
        try
        {
            return job();
        }
        catch (ScanException e)
        {
            problems.AddRange(e.Problems);
        }
        catch (InvalidOperationException e)
        {
            problems.Add(e.Message);
        }
        return null;
    }

    /// <summary>Scans one standalone header with everything it declares as the API list (fixture tests).</summary>
    public AbiFacts ScanFile(string header)
    {
        string full = Path.GetFullPath(header);
        ExtraIncludes.Insert(0, Path.GetDirectoryName(full)!);
        string family = Path.GetFileNameWithoutExtension(full);
        var api = new ApiFamily(family, _display(full))
        {
            Items = [new ApiItem(ApiItemKind.Header, Path.GetFileName(full), _display(full), 1, null)],
        };
        var problems = new List<string>();
        var set = Guarded(() => ScanFamily(api, problems, wholeFile: full), problems);
        ScanException.ThrowIfAny(problems);
        return set!.ToFacts(Provenance([family]));
    }

    private Provenance Provenance(IEnumerable<string> families)
    {
        string version = TranslationUnit.ClangVersion;
        var m = VersionNumber().Match(version);
        string provenanceFile = Path.Combine(_sysroot, "PROVENANCE");
        return new Provenance(_target.Name, _target.Triple, _target.Os, _target.Arch)
        {
            Kernel = _kernel,
            Packages = File.Exists(provenanceFile)
                ? File.ReadAllLines(provenanceFile).Select(l => l.Trim()).Where(l => l.Length > 0).ToList()
                : [],
            LibclangVersion = m.Success ? m.Groups[1].Value : version,
            LibclangDescription = version,
            Families = families.OrderBy(f => f, StringComparer.Ordinal).ToList(),
        };
    }

    [GeneratedRegex(@"version (\d+\.\d+\.\d+)")]
    private static partial Regex VersionNumber();

    private string Prelude(IEnumerable<string> headers)
    {
        var s = new StringBuilder();
        foreach (var h in headers)
        {
            s.Append("#include <").Append(h).Append(">\n");
        }
        return s.ToString();
    }

    /// <summary>Parses a unit and turns its error diagnostics into problems; a header line maps back to the API list.</summary>
    private TranslationUnit? ParseChecked(string text, IReadOnlyList<ApiItem> headerItems, string family, List<string> problems)
    {
        var tu = TranslationUnit.Parse(UnitName, text, Args());
        var errors = tu.Diagnostics.Where(d => d.IsError).ToList();
        foreach (var d in errors)
        {
            if (d.Position.File == UnitName && d.Position.Line >= 1 && d.Position.Line <= headerItems.Count)
            {
                var item = headerItems[d.Position.Line - 1];
                problems.Add($"{item.File}:{item.Line}: header {item.Name}: {d.Message} (family {family}, target {_target.Name})");
            }
            else
            {
                problems.Add($"{_display(d.Position.File)}:{d.Position.Line}: error: {d.Message} (family {family}, target {_target.Name})");
            }
        }
        if (errors.Count > 0)
        {
            tu.Dispose();
            return null;
        }
        return tu;
    }

    private sealed record SyscallTable(Dictionary<string, long> Numbers);

    private SyscallTable? ScanSyscalls(List<string> problems)
    {
        var header = new ApiItem(ApiItemKind.Header, "asm/unistd.h", $"headers/targets/{_target.Name}.target", 1, null);
        string prelude = Prelude([header.Name]);
        using var tu = ParseChecked(prelude, [header], "syscalls", problems);
        if (tu is null)
        {
            return null;
        }
        var paths = Paths();
        var index = new TuIndex(tu);
        var requests = index.Macros
            .Where(m => m.Key.StartsWith("__NR_", StringComparison.Ordinal) && m.Key != "__NR_syscalls" && !m.Value.IsMacroFunctionLike)
            .Where(m => paths.Relative(m.Value.Location.File) is not null)
            .OrderBy(m => m.Key, StringComparer.Ordinal)
            .Select(m => new ConstRequest(m.Key.Substring(5), m.Key, m.Key, null, null, "asm/unistd.h", true, m.Value.Location))
            .ToList();
        var outcome = MacroEvaluator.Evaluate(prelude, Args(), requests, [], "syscalls", _display);
        problems.AddRange(outcome.Problems);
        return new SyscallTable(outcome.Constants.ToDictionary(c => c.Name, c => (long)c.Value, StringComparer.Ordinal));
    }
}
