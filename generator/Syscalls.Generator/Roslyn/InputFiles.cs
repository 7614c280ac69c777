using System;
using System.Collections.Generic;
using Syscalls.Generator.Facts;

namespace Syscalls.Generator.Roslyn;

/// <summary>
/// One AdditionalFile the generator reads, parsed: the ABI facts (<c>*.abi</c>), an API family list (<c>*.api</c>),
/// the names a target's headers declare (<c>*.names</c>). Equal when path and text are equal: the parsed models have no
/// value equality of their own, and the text is what they are a pure function of.
/// </summary>
internal sealed class InputFile<T> : IEquatable<InputFile<T>>
    where T : class
{
    private InputFile(string path, string text, T? value, DiagnosticInfo? error)
    {
        Path = path;
        Text = text;
        Value = value;
        Error = error;
    }

    public string Path { get; }
    public string Text { get; }

    /// <summary>Null when the file could not be read; <see cref="Error"/> says why.</summary>
    public T? Value { get; }

    public DiagnosticInfo? Error { get; }

    /// <summary>The parse of the text (<paramref name="parse"/>: text, path), or why it failed (SYSGEN007).</summary>
    public static InputFile<T> Load(string path, string? text, Func<string, string, T> parse) =>
        LastParsed<InputFile<T>>.Get(path, text, (p, t) => Parse(p, t, parse));

    private static InputFile<T> Parse(string path, string? text, Func<string, string, T> parse)
    {
        if (text is null)
        {
            var unreadable = DiagnosticInfo.Create(Descriptors.BadInputFile, null, path + ": cannot be read");
            return new InputFile<T>(path, "", null, unreadable);
        }
        try
        {
            return new InputFile<T>(path, text, parse(text, path), null);
        }
        catch (FactsFormatException e)
        {
            var bad = DiagnosticInfo.Create(Descriptors.BadInputFile, InputFileErrors.At(e), e.Message);
            return new InputFile<T>(path, text, null, bad);
        }
    }

    public bool Equals(InputFile<T>? other) =>
        other is not null && string.Equals(Path, other.Path, StringComparison.Ordinal)
        && string.Equals(Text, other.Text, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as InputFile<T>);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Path) ^ Text.Length;
}

/// <summary>Which AdditionalFiles are which, and how each kind is parsed.</summary>
internal static class InputFiles
{
    public static bool IsFacts(string path) => path.EndsWith(".abi", StringComparison.OrdinalIgnoreCase);

    public static bool IsFamily(string path) => path.EndsWith(".api", StringComparison.OrdinalIgnoreCase);

    public static bool IsNames(string path) => path.EndsWith(".names", StringComparison.OrdinalIgnoreCase);

    public static InputFile<AbiFacts> LoadFacts(string path, string? text) =>
        InputFile<AbiFacts>.Load(path, text, ReadFacts);

    private static AbiFacts ReadFacts(string t, string p)
    {
        var facts = FactsReader.Read(t, p);
        // The model's lookups build their indexes on first use: build them now, before LastParsed shares the model
        // with compilations running concurrently in the compiler server.
        facts.FindRecord("");
        facts.FindEnum("");
        facts.FindTypedef("");
        facts.FindFunction("");
        facts.FindConstant("");
        facts.TryFindEnumerator("", out _, out _);
        return facts;
    }

    public static InputFile<ApiFamily> LoadFamily(string path, string? text) =>
        InputFile<ApiFamily>.Load(path, text, (t, p) => ApiFamilyReader.Read(t, p));

    public static InputFile<DeclaredNames> LoadNames(string path, string? text) =>
        InputFile<DeclaredNames>.Load(path, text, ReadNames);

    private static DeclaredNames ReadNames(string t, string p)
    {
        var names = DeclaredNames.Read(t, p);
        names.Find(""); // the index, built before the model is shared (as above)
        return names;
    }
}

internal static class InputFileErrors
{
    /// <summary>The line a format error names, as a location in that file.</summary>
    public static SourceSpan At(FactsFormatException e) => new(e.Path, 0, 0, Math.Max(0, e.Line - 1), 0);
}

/// <summary>
/// The last parse of each input path, reused while its text is unchanged. The driver caches between runs of one
/// project in an IDE, but a command-line build is a new compilation every time: in the compiler server, which lives
/// across builds, this turns the facts parse (the bulk of the generator's work) into a string comparison. Keyed by
/// path with one entry each, so it stays as large as the set of facts files in use; the parsed models are immutable.
/// </summary>
internal static class LastParsed<T>
    where T : class
{
    private static readonly Dictionary<string, (string Text, T Value)> Entries = new(StringComparer.Ordinal);

    public static T Get(string path, string? text, Func<string, string?, T> parse)
    {
        if (text is null)
        {
            return parse(path, text);
        }
        lock (Entries)
        {
            if (Entries.TryGetValue(path, out var hit) && string.Equals(hit.Text, text, StringComparison.Ordinal))
            {
                return hit.Value;
            }
        }
        var value = parse(path, text);
        lock (Entries)
        {
            Entries[path] = (text, value);
        }
        return value;
    }
}
