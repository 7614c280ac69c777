using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Syscalls.Generator.Emitter;
using Syscalls.Generator.Facts;

namespace Syscalls.Generator.Tool.Commands;

/// <summary>
/// <c>constant-types [--facts DIR]</c>: every constant whose C# type is C's type for an enumeration constant
/// (<c>int</c> when the value fits) rather than its enum's underlying type, which is what the emitter wrote before it
/// followed C's rule; per target, grouped by enum. Enumerators whose value does not fit <c>int</c> keep the enum's
/// type in C (GNU C) and in C#, and are listed as kept. Macros never changed: they have the type of their expansion.
/// Exit codes: 0 ok, 1 input error, 2 usage.
/// </summary>
public static class ConstantTypesCommand
{
    public const string Usage = """
          constant-types [--facts DIR] [--repo DIR]
                 list, per target, the enumeration constants typed int (C's rule) where their enum's underlying
                 type is another (docs/constant-types.txt is this output)
        """ + "\n";

    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter err)
    {
        string? factsDir = null, repo = null;
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i] is "--facts" or "--repo" && i + 1 < args.Count)
            {
                (args[i] == "--facts" ? ref factsDir : ref repo) = args[++i];
                continue;
            }
            err.WriteLine($"error: constant-types: unexpected argument '{args[i]}'\nusage:\n{Usage}");
            return 2;
        }
        factsDir ??= Path.Combine(repo ?? Scanner.Repo.Find(Directory.GetCurrentDirectory()).Root, "headers", "facts");
        if (!Directory.Exists(factsDir))
        {
            err.WriteLine($"error: no facts folder {factsDir}");
            return 1;
        }
        try
        {
            var facts = Directory.GetFiles(factsDir, "*.abi").OrderBy(f => f, StringComparer.Ordinal)
                .Select(FactsReader.ReadFile);
            stdout.Write(Report(facts));
            return 0;
        }
        catch (FactsFormatException e)
        {
            err.WriteLine("error: " + e.Message);
            return 1;
        }
    }

    public static string Report(IEnumerable<AbiFacts> targets)
    {
        var s = new StringBuilder();
        s.Append("# Enumeration constants whose C# type is C's (int, C11 6.4.4.3) instead of their enum's ")
            .Append("underlying type.\n# Produced by: eng/tool.sh Release constant-types   ")
            .Append("(macros keep the type of their expansion: none changed)\n");
        foreach (var facts in targets)
        {
            var changed = new List<string>();
            var kept = new List<string>();
            int count = 0;
            foreach (var e in facts.Enums.OrderBy(e => e.Name, StringComparer.Ordinal))
            {
                var before = TypeMapper.Primitive(e.Underlying, false, "enum " + e.Name);
                bool Moved(EnumeratorFact x) => !TypeMapper.EnumeratorType(e, x.Value).Equals(before);
                var moved = e.Enumerators.Where(Moved).Select(x => x.Name).ToList();
                var stayed = before.Equals(CsType.Int) ? []
                    : e.Enumerators.Where(x => !Moved(x)).Select(x => x.Name).ToList();
                if (moved.Count > 0)
                {
                    changed.Add($"  enum {e.Name}: {before.Code} -> int: {string.Join(" ", moved)}");
                    count += moved.Count;
                }
                if (stayed.Count > 0)
                {
                    kept.Add($"  enum {e.Name}: {before.Code} kept (the value does not fit int): "
                        + string.Join(" ", stayed));
                }
            }
            s.Append('\n').Append(facts.Target).Append(": ").Append(count).Append(" constants changed type\n");
            foreach (var line in changed.Concat(kept))
            {
                s.Append(line).Append('\n');
            }
        }
        return s.ToString();
    }
}
