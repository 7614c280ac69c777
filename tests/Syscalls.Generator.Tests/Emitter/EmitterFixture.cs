using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Syscalls.Generator.Emitter;
using Syscalls.Generator.Facts;

namespace Syscalls.Generator.Tests.Emitter;

/// <summary>
/// A golden fixture in rust-bindgen style: <c>Fixtures/Emitter/&lt;stem&gt;.abi</c> holds the options on its first line
/// (<c># emit: rid=linux-x64 mode=stub visibility=internal namespace=N facts=other.abi</c>) and sections
/// (<c>%% facts</c>: one target's facts; <c>%% family NAME.api</c>: an API list); the expected output is
/// <c>&lt;stem&gt;.cs</c> (every emitted file) and <c>&lt;stem&gt;.manifest</c> beside it.
/// <c>SYSCALLS_UPDATE_GOLDEN=1</c> rewrites the expectations.
/// </summary>
internal sealed record EmitterFixture(string Stem, EmitInput Input)
{
    public static string Directory { get; } = FindDirectory();

    /// <summary>The repository root (the folder holding headers/ and tests/).</summary>
    public static string RepoRoot => Path.GetFullPath(Path.Combine(Directory, "..", "..", "..", ".."));

    public static bool Update => Environment.GetEnvironmentVariable("SYSCALLS_UPDATE_GOLDEN") == "1";

    public static IEnumerable<string> Stems() =>
        System.IO.Directory.GetFiles(Directory, "*.abi").Select(Path.GetFileNameWithoutExtension).OrderBy(s => s, StringComparer.Ordinal)!;

    public static EmitterFixture Load(string stem)
    {
        string path = Path.Combine(Directory, stem + ".abi");
        var lines = File.ReadAllLines(path);
        var options = ParseOptions(lines[0], path);
        string factsFile = options.TryGetValue("facts", out var other) ? Path.Combine(Directory, other) : path;
        var (facts, families) = ParseSections(factsFile == path ? lines : File.ReadAllLines(factsFile), factsFile);
        string rid = options.TryGetValue("rid", out var r) ? r : throw new InvalidDataException($"{path}: no rid= in the first line");
        var emitterOptions = new EmitterOptions
        {
            Rid = rid == "portable" ? null : rid,
            Mode = options.TryGetValue("mode", out var m) && m == "stub" ? EmitMode.Stub : EmitMode.LibraryImport,
            Visibility = options.TryGetValue("visibility", out var v) && v == "internal" ? EmitVisibility.Internal : EmitVisibility.Public,
            RootNamespace = options.TryGetValue("namespace", out var ns) ? ns : "Syscalls",
        };
        return new EmitterFixture(stem, new EmitInput(facts) { Families = families, Options = emitterOptions });
    }

    /// <summary>Every emitted file, each under a <c>// ==== name ====</c> line: the text of <c>&lt;stem&gt;.cs</c>.</summary>
    public static string Render(EmitResult result)
    {
        var s = new StringBuilder();
        foreach (var f in result.Files)
        {
            s.Append("// ==== ").Append(f.Name).Append(" ====\n").Append(f.Text);
        }
        return s.ToString();
    }

    /// <summary>Compares with the golden file, or rewrites it under SYSCALLS_UPDATE_GOLDEN=1.</summary>
    public static void AssertGolden(string file, string actual)
    {
        string path = Path.Combine(Directory, file);
        if (Update)
        {
            if (!File.Exists(path) || File.ReadAllText(path) != actual)
            {
                File.WriteAllText(path, actual);
            }
            return;
        }
        if (!File.Exists(path))
        {
            throw new Xunit.Sdk.XunitException($"{file} does not exist; run the tests with SYSCALLS_UPDATE_GOLDEN=1 to write it");
        }
        string expected = File.ReadAllText(path).Replace("\r\n", "\n");
        if (expected != actual)
        {
            var e = expected.Split('\n');
            var a = actual.Split('\n');
            int line = 0;
            while (line < Math.Min(e.Length, a.Length) && e[line] == a[line])
            {
                line++;
            }
            throw new Xunit.Sdk.XunitException(
                $"{file} differs from the emitter's output at line {line + 1}:\n  expected: {(line < e.Length ? e[line] : "<end>")}\n"
                + $"  actual:   {(line < a.Length ? a[line] : "<end>")}\n(SYSCALLS_UPDATE_GOLDEN=1 rewrites the expectation)");
        }
    }

    private static Dictionary<string, string> ParseOptions(string line, string path)
    {
        const string prefix = "# emit:";
        if (!line.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: the first line must be '{prefix} key=value ...'");
        }
        return line.Substring(prefix.Length).Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv.Length > 1 ? kv[1] : "", StringComparer.Ordinal);
    }

    private static (List<AbiFacts>, List<ApiFamily>) ParseSections(string[] lines, string path)
    {
        var facts = new List<AbiFacts>();
        var families = new List<ApiFamily>();
        string? header = null;
        var body = new StringBuilder();
        int start = 0;
        void Flush()
        {
            if (header is null)
            {
                return;
            }
            if (header == "facts")
            {
                facts.Add(FactsReader.Read(body.ToString(), $"{path} (section at line {start})"));
            }
            else if (header.StartsWith("family ", StringComparison.Ordinal))
            {
                families.Add(ApiFamilyReader.Read(body.ToString(), header.Substring("family ".Length)));
            }
            else
            {
                throw new InvalidDataException($"{path}:{start}: unknown section '%% {header}'");
            }
        }
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].StartsWith("%% ", StringComparison.Ordinal))
            {
                Flush();
                header = lines[i].Substring(3).Trim();
                body.Clear();
                start = i + 1;
                continue;
            }
            // Blank lines keep the facts reader's line numbers pointing into the fixture.
            body.Append(header is null ? "" : lines[i]).Append('\n');
        }
        Flush();
        return (facts, families);
    }

    private static string FindDirectory()
    {
        string from = Environment.GetEnvironmentVariable("SYSCALLS_REPO") ?? AppContext.BaseDirectory;
        for (var dir = new DirectoryInfo(from); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "Syscalls.Generator.Tests", "Fixtures", "Emitter");
            if (System.IO.Directory.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new DirectoryNotFoundException("tests/Syscalls.Generator.Tests/Fixtures/Emitter above " + AppContext.BaseDirectory);
    }
}
