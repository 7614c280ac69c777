using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Syscalls.Generator.Facts;
using Syscalls.Generator.Tool.Scanner;

namespace Syscalls.Generator.Tool.Cli;

/// <summary>
/// Command line of the scanner. Exit codes: 0 ok, 1 scan/input error, 2 usage, 3 a pinned header package is no
/// longer served (eng/headers.sh's exit 3, passed through with its message).
/// </summary>
public static class Program
{
    public const string Usage = """
        usage: Syscalls.Generator.Tool <command> [options]
          scan [--target T ...|--all] [--kernel K] [--out DIR] [--sysroot DIR] [--families DIR] [--repo DIR]
                 scan the API families (headers/families/*.api) for each target (default: all) and write
                 DIR/<target>.abi (default DIR: headers/facts); nothing is written unless every target scans
          scan-file X.h --target T [--target T2 ...] [--kernel K] [--out DIR] [--sysroot DIR] [--repo DIR]
                 scan one header with everything it declares as the API list; writes DIR/<stem>.<target>.abi,
                 or prints the facts when there is one target and no --out
          regen [--kernel K] [--target T ...] [--move-pins] [--out DIR] [--families DIR] [--repo DIR]
                 (with --move-pins: eng/headers.sh pin --kernel K first) scan the Linux targets (or the given ones)
                 with kernel headers K (default: headers/pins.txt default-kernel, the one the checked-in facts
                 use), print the diff against the facts in DIR, then write them
          diff A.abi B.abi
                 summarize what changed from A to B
        the repository root is found by walking up from the current folder (or --repo) to Interop.sln or headers/;
        without --sysroot, each target's headers come from eng/headers.sh fetch <target> [--kernel K]
        """ + "\n" + Commands.EmitCommand.Usage + Commands.ConstantTypesCommand.Usage + """
        exit codes: 0 ok, 1 scan or input error, 2 usage, 3 a pinned header package is no longer served
        """;

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs one command; never throws for bad input, it prints to <paramref name="err"/> and returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter err)
    {
        try
        {
            if (args.Count == 0 || args[0] is "-h" or "--help" or "help")
            {
                (args.Count == 0 ? err : stdout).WriteLine(Usage);
                return args.Count == 0 ? ScanException.Usage : 0;
            }
            // emit belongs to the emitter (Commands/EmitCommand.cs) and parses its own options.
            if (args[0] == "emit")
            {
                return Commands.EmitCommand.Run(args.Skip(1).ToList(), stdout, err);
            }
            // proof (the C compile proofs, Commands/ProofCommand.cs) parses its own options too.
            if (args[0] == "proof")
            {
                return Commands.ProofCommand.Run(args.Skip(1).ToList(), stdout, err);
            }
            if (args[0] == "constant-types")
            {
                return Commands.ConstantTypesCommand.Run(args.Skip(1).ToList(), stdout, err);
            }
            var options = Options.Parse(args.Skip(1).ToList());
            return args[0] switch
            {
                "scan" => Scan(options, stdout),
                "scan-file" => ScanFile(options, stdout),
                "regen" => Regen(options, stdout),
                "diff" => Diff(options, stdout),
                _ => throw new ScanException($"unknown command '{args[0]}'", ScanException.Usage),
            };
        }
        catch (ScanException e)
        {
            foreach (var problem in e.Problems)
            {
                err.WriteLine("error: " + problem);
            }
            if (e.ExitCode == ScanException.Usage)
            {
                err.WriteLine("run with --help for usage");
            }
            return e.ExitCode;
        }
        catch (FactsFormatException e)
        {
            err.WriteLine("error: " + e.Message);
            return ScanException.InputError;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DllNotFoundException or InvalidOperationException)
        {
            err.WriteLine("error: " + e.Message);
            return ScanException.InputError;
        }
    }

    private static int Scan(Options o, TextWriter stdout)
    {
        o.ExpectPositional(0);
        var repo = o.Repo();
        var targets = o.Targets(repo, all: o.All || o.TargetNames.Count == 0);
        var families = repo.Families();
        if (families.Count == 0)
        {
            throw new ScanException($"no API families in {repo.Relative(repo.FamiliesDir)} (headers/families/*.api)");
        }
        var names = new List<DeclaredNames>();
        var results = ScanTargets(repo, targets, o, stdout, t => t.Scan(families), names);
        FactsFiles.WriteAll(results.Select(f => (Path.Combine(o.OutDir(repo), f.Target + ".abi"), FactsWriter.Write(f)))
            .Concat(NamesFiles(repo, o, names)));
        return 0;
    }

    private static int ScanFile(Options o, TextWriter stdout)
    {
        o.ExpectPositional(1);
        string header = Path.GetFullPath(o.Positional[0]);
        if (!File.Exists(header))
        {
            throw new ScanException($"{o.Positional[0]}: no such header");
        }
        var repo = o.Repo();
        if (o.TargetNames.Count == 0)
        {
            throw new ScanException("scan-file needs --target", ScanException.Usage);
        }
        var targets = o.Targets(repo, all: false);
        var results = ScanTargets(repo, targets, o, o.Out is null ? TextWriter.Null : stdout, t => t.ScanFile(header));
        if (o.Out is null && results.Count == 1)
        {
            stdout.Write(FactsWriter.Write(results[0]));
            return 0;
        }
        string dir = o.Out ?? Path.GetDirectoryName(header)!;
        string stem = Path.GetFileNameWithoutExtension(header);
        FactsFiles.WriteAll(results.Select(f => (Path.Combine(dir, $"{stem}.{f.Target}.abi"), FactsWriter.Write(f))));
        return 0;
    }

    private static int Regen(Options o, TextWriter stdout)
    {
        o.ExpectPositional(0);
        var repo = o.Repo();
        if (o.MovePins)
        {
            // Without --kernel, the pin of the kernel the checked-in facts use (headers/pins.txt default-kernel).
            repo.MovePins(o.Kernel ?? repo.DefaultKernel);
        }
        var targets = o.TargetNames.Count > 0 ? o.Targets(repo, all: false)
            : repo.KnownTargets.Select(repo.Target).Where(t => t.IsLinux).ToList();
        var families = repo.Families();
        var names = new List<DeclaredNames>();
        var results = ScanTargets(repo, targets, o, stdout, t => t.Scan(families), names);
        var writes = new List<(string, string)>(NamesFiles(repo, o, names));
        foreach (var facts in results)
        {
            string path = Path.Combine(o.OutDir(repo), facts.Target + ".abi");
            var old = File.Exists(path) ? FactsReader.ReadFile(path) : null;
            stdout.Write(old is null ? $"{facts.Target}: new file, {facts.Count} facts\n" : FactsDiff.Compare(old, facts).ToString());
            writes.Add((path, FactsWriter.Write(facts)));
        }
        FactsFiles.WriteAll(writes);
        return 0;
    }

    private static int Diff(Options o, TextWriter stdout)
    {
        o.ExpectPositional(2);
        var a = FactsReader.ReadFile(ExistingFile(o.Positional[0]));
        var b = FactsReader.ReadFile(ExistingFile(o.Positional[1]));
        stdout.Write(FactsDiff.Compare(a, b).ToString());
        return 0;
    }

    /// <summary>The <c>&lt;target&gt;.names</c> files beside the facts (FORMAT.md "Declared names").</summary>
    private static IEnumerable<(string, string)> NamesFiles(Repo repo, Options o, IEnumerable<DeclaredNames> names) =>
        names.Select(n => (Path.Combine(o.OutDir(repo), n.Target + ".names"), n.Write()));

    private static string ExistingFile(string path) =>
        File.Exists(path) ? path : throw new ScanException($"{path}: no such file");

    /// <summary>Fetches every sysroot first (eng/headers.sh is not safe to run twice at once), then scans.</summary>
    private static List<AbiFacts> ScanTargets(Repo repo, IReadOnlyList<TargetConfig> targets, Options o, TextWriter stdout,
        Func<TargetScanner, AbiFacts> scan, List<DeclaredNames>? names = null)
    {
        if (o.Sysroot is not null && targets.Count != 1)
        {
            throw new ScanException("--sysroot needs exactly one --target", ScanException.Usage);
        }
        string clang = repo.ClangInclude();
        var scanners = targets.Select(t =>
        {
            string kernel = o.Kernel ?? repo.DefaultKernel;
            string sysroot = o.Sysroot ?? repo.Sysroot(t.Name, t.IsLinux ? kernel : null);
            return new TargetScanner(t, sysroot, clang, kernel, f => repo.Relative(f));
        }).ToList();
        var total = Stopwatch.StartNew();
        var results = new List<AbiFacts>();
        for (int i = 0; i < scanners.Count; i++)
        {
            var watch = Stopwatch.StartNew();
            var facts = scan(scanners[i]);
            results.Add(facts);
            var declared = names is null ? null : scanners[i].ScanNames();
            if (declared is not null)
            {
                names!.Add(declared);
            }
            stdout.WriteLine(string.Format(CultureInfo.InvariantCulture, "{0}: scanned in {1:0.00} s: {2}{3}", targets[i].Name, watch.Elapsed.TotalSeconds,
                Counts(facts), declared is null ? "" : $", {declared.Names.Count} declared names"));
        }
        if (scanners.Count > 1)
        {
            stdout.WriteLine(string.Format(CultureInfo.InvariantCulture, "all {0} targets scanned in {1:0.00} s", scanners.Count, total.Elapsed.TotalSeconds));
        }
        return results;
    }

    public static string Counts(AbiFacts f) =>
        $"{f.Count} facts ({f.Records.Count} records, {f.Records.Sum(r => r.Fields.Count)} fields, {f.Enums.Count} enums, "
        + $"{f.Enums.Sum(e => e.Enumerators.Count)} enumerators, {f.Typedefs.Count} typedefs, {f.Functions.Count} funcs, "
        + $"{f.Constants.Count} consts, {f.Guids.Count} guids, {f.Syscalls.Count} syscalls)";
}
