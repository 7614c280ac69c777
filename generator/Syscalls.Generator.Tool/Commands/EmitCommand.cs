using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Syscalls.Generator.Emitter;
using Syscalls.Generator.Facts;

namespace Syscalls.Generator.Tool.Commands;

/// <summary>
/// <c>emit</c>: the build host of the emitter. Reads every <c>headers/facts/*.abi</c> and <c>headers/families/*.api</c>,
/// emits the bindings for one RID (or the portable build) and writes the <c>.g.cs</c> files, the manifest and the API
/// surface. A file whose text did not change is not rewritten, so an unchanged emission does not recompile.
/// Exit codes: 0 ok, 1 input or emitter error, 2 usage.
/// </summary>
public static class EmitCommand
{
    public const string Usage = """
          emit --rid RID|portable --out DIR [--manifest FILE] [--api FILE] [--mode libraryimport|stub]
               [--visibility public|internal] [--namespace NS] [--facts DIR] [--families DIR] [--repo DIR]
                 emit the C# bindings of RID (linux-x64, ..., or portable for lib/net10.0) from the facts into
                 DIR/*.g.cs; stale *.g.cs in DIR are deleted; --manifest/--api write the emission manifest and
                 the public API surface
        """ + "\n";

    private sealed class UsageException(string message) : Exception(message);

    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter err)
    {
        try
        {
            return Emit(args, stdout);
        }
        catch (UsageException e)
        {
            err.WriteLine("error: " + e.Message);
            err.WriteLine("usage:\n" + Usage);
            return 2;
        }
        catch (EmitterException e)
        {
            foreach (var problem in e.Errors)
            {
                err.WriteLine("error: " + problem);
            }
            return 1;
        }
        catch (Exception e) when (e is FactsFormatException or IOException or UnauthorizedAccessException)
        {
            err.WriteLine("error: " + e.Message);
            return 1;
        }
    }

    private static int Emit(IReadOnlyList<string> args, TextWriter stdout)
    {
        string? rid = null, outDir = null, manifest = null, api = null, factsDir = null, familiesDir = null, repo = null, ns = null;
        var mode = EmitMode.LibraryImport;
        var visibility = EmitVisibility.Public;
        for (int i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new UsageException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--rid": rid = Value(); break;
                case "--out" or "-o": outDir = Value(); break;
                case "--manifest": manifest = Value(); break;
                case "--api": api = Value(); break;
                case "--facts": factsDir = Value(); break;
                case "--families": familiesDir = Value(); break;
                case "--repo": repo = Value(); break;
                case "--namespace": ns = Value(); break;
                case "--mode":
                    mode = Value() switch
                    {
                        "libraryimport" => EmitMode.LibraryImport,
                        "stub" => EmitMode.Stub,
                        var m => throw new UsageException($"unknown mode '{m}' (libraryimport|stub)"),
                    };
                    break;
                case "--visibility":
                    visibility = Value() switch
                    {
                        "public" => EmitVisibility.Public,
                        "internal" => EmitVisibility.Internal,
                        var v => throw new UsageException($"unknown visibility '{v}' (public|internal)"),
                    };
                    break;
                default: throw new UsageException($"unknown argument '{args[i]}'");
            }
        }
        if (rid is null || outDir is null)
        {
            throw new UsageException("emit needs --rid and --out");
        }
        var watch = Stopwatch.StartNew();
        string root = repo ?? FindRepo(Directory.GetCurrentDirectory());
        factsDir ??= Path.Combine(root, "headers", "facts");
        familiesDir ??= Path.Combine(root, "headers", "families");
        var facts = Directory.Exists(factsDir)
            ? Directory.GetFiles(factsDir, "*.abi").OrderBy(f => f, StringComparer.Ordinal).Select(FactsReader.ReadFile).ToList()
            : [];
        if (facts.Count == 0)
        {
            throw new EmitterException($"no facts in {factsDir} (headers/facts/<target>.abi, written by the scanner)");
        }
        var families = Directory.Exists(familiesDir)
            ? Directory.GetFiles(familiesDir, "*.api").OrderBy(f => f, StringComparer.Ordinal).Select(f => ApiFamilyReader.ReadFile(f)).ToList()
            : [];
        var options = new EmitterOptions
        {
            Rid = rid == "portable" ? null : rid,
            Mode = mode,
            Visibility = visibility,
            RootNamespace = ns ?? "Syscalls",
        };
        var result = BindingEmitter.Emit(new EmitInput(facts) { Families = families, Options = options });

        Directory.CreateDirectory(outDir);
        int written = 0;
        foreach (var file in result.Files)
        {
            written += WriteIfChanged(Path.Combine(outDir, file.Name), file.Text) ? 1 : 0;
        }
        var keep = new HashSet<string>(result.Files.Select(f => f.Name), StringComparer.Ordinal);
        foreach (var stale in Directory.GetFiles(outDir, "*.g.cs").Where(f => !keep.Contains(Path.GetFileName(f))))
        {
            File.Delete(stale);
            written++;
        }
        if (manifest is not null)
        {
            WriteIfChanged(manifest, result.Manifest);
        }
        if (api is not null)
        {
            WriteIfChanged(api, result.ApiSurface);
        }
        foreach (var s in result.Stats)
        {
            stdout.WriteLine($"emit {rid}: {s.Target}: {s.Functions} functions ({s.Methods} methods), {s.Types} types, {s.Constants} constants");
        }
        stdout.WriteLine(string.Format(CultureInfo.InvariantCulture, "emit {0}: {1} files ({2} changed) in {3:0.00} s -> {4}",
            rid, result.Files.Count, written, watch.Elapsed.TotalSeconds, outDir));
        return 0;
    }

    /// <summary>Writes the file unless it already holds exactly this text; true when it wrote.</summary>
    private static bool WriteIfChanged(string path, string text)
    {
        var bytes = new UTF8Encoding(false).GetBytes(text);
        if (File.Exists(path) && File.ReadAllBytes(path).AsSpan().SequenceEqual(bytes))
        {
            return false;
        }
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null)
        {
            Directory.CreateDirectory(dir);
        }
        string temp = path + ".tmp";
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, path, overwrite: true);
        return true;
    }

    private static string FindRepo(string from)
    {
        for (var dir = new DirectoryInfo(from); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "headers", "FORMAT.md")))
            {
                return dir.FullName;
            }
        }
        throw new UsageException($"no repository (a folder with headers/FORMAT.md) above {from}; pass --repo");
    }
}
