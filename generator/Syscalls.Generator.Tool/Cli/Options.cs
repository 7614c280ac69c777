using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Syscalls.Generator.Tool.Scanner;

namespace Syscalls.Generator.Tool.Cli;

/// <summary>The options every command shares; anything unknown is a usage error.</summary>
internal sealed class Options
{
    public List<string> Positional { get; } = [];
    public List<string> TargetNames { get; } = [];
    public bool All { get; private set; }
    public bool MovePins { get; private set; }
    public string? Kernel { get; private set; }
    public string? Out { get; private set; }
    public string? Sysroot { get; private set; }
    public string? RepoDir { get; private set; }
    public string? FamiliesDir { get; private set; }

    public static Options Parse(List<string> args)
    {
        var o = new Options();
        for (int i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ScanException($"{args[i]} needs a value", ScanException.Usage);
            switch (args[i])
            {
                case "--target" or "-t": o.TargetNames.Add(Value()); break;
                case "--all": o.All = true; break;
                case "--kernel": o.Kernel = Value(); break;
                case "--out" or "-o": o.Out = Value(); break;
                case "--sysroot": o.Sysroot = Value(); break;
                case "--repo": o.RepoDir = Value(); break;
                case "--families": o.FamiliesDir = Value(); break;
                case "--move-pins": o.MovePins = true; break;
                case var a when a.StartsWith("-", StringComparison.Ordinal) && a.Length > 1:
                    throw new ScanException($"unknown option '{a}'", ScanException.Usage);
                default: o.Positional.Add(args[i]); break;
            }
        }
        if (o.All && o.TargetNames.Count > 0)
        {
            throw new ScanException("give either --all or --target, not both", ScanException.Usage);
        }
        return o;
    }

    public void ExpectPositional(int count)
    {
        if (Positional.Count != count)
        {
            throw new ScanException(count == 0 ? $"unexpected argument '{Positional[0]}'" : $"expected {count} file argument(s), got {Positional.Count}", ScanException.Usage);
        }
    }

    public Repo Repo()
    {
        var repo = Scanner.Repo.Find(RepoDir ?? Directory.GetCurrentDirectory());
        if (FamiliesDir is not null)
        {
            repo.FamiliesDir = Path.GetFullPath(FamiliesDir);
        }
        return repo;
    }

    public string OutDir(Repo repo) => Out is null ? repo.FactsDir : Path.GetFullPath(Out);

    /// <summary>The requested targets, validated against headers/targets/ before anything is fetched or scanned.</summary>
    public List<TargetConfig> Targets(Repo repo, bool all)
    {
        var names = all ? repo.KnownTargets.ToList() : TargetNames.Distinct(StringComparer.Ordinal).ToList();
        return names.Select(repo.Target).ToList();
    }
}
