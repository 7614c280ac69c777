using System;
using System.Collections.Generic;
using Syscalls.Generator.Facts;

namespace Syscalls.Generator.Roslyn;

/// <summary>
/// One <c>*.abi</c> AdditionalFile, parsed. Equal when path and text are equal: the parsed model has no value
/// equality of its own, and the text is what it is a pure function of.
/// </summary>
internal sealed class FactsFile : IEquatable<FactsFile>
{
    private FactsFile(string path, string text, AbiFacts? facts, DiagnosticInfo? error)
    {
        Path = path;
        Text = text;
        Facts = facts;
        Error = error;
    }

    public string Path { get; }
    public string Text { get; }

    /// <summary>Null when the file could not be read; <see cref="Error"/> says why.</summary>
    public AbiFacts? Facts { get; }

    public DiagnosticInfo? Error { get; }

    public static bool IsFactsFile(string path) => path.EndsWith(".abi", StringComparison.OrdinalIgnoreCase);

    public static FactsFile Load(string path, string? text) => LastParsed<FactsFile>.Get(path, text, Parse);

    private static FactsFile Parse(string path, string? text)
    {
        if (text is null)
        {
            return new FactsFile(path, "", null, DiagnosticInfo.Create(Descriptors.BadInputFile, null, path + ": cannot be read"));
        }
        try
        {
            var facts = FactsReader.Read(text, path);
            // The model's lookups build their indexes on first use: build them now, before LastParsed shares the
            // model with compilations running concurrently in the compiler server.
            facts.FindRecord("");
            facts.FindEnum("");
            facts.FindTypedef("");
            facts.FindFunction("");
            facts.FindConstant("");
            facts.TryFindEnumerator("", out _, out _);
            return new FactsFile(path, text, facts, null);
        }
        catch (FactsFormatException e)
        {
            return new FactsFile(path, text, null, DiagnosticInfo.Create(Descriptors.BadInputFile, InputFileErrors.At(e), e.Message));
        }
    }

    public bool Equals(FactsFile? other) =>
        other is not null && string.Equals(Path, other.Path, StringComparison.Ordinal) && string.Equals(Text, other.Text, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as FactsFile);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Path) ^ Text.Length;
}

/// <summary>One <c>*.api</c> AdditionalFile (an API family list), parsed; equal when path and text are equal.</summary>
internal sealed class FamilyFile : IEquatable<FamilyFile>
{
    private FamilyFile(string path, string text, ApiFamily? family, DiagnosticInfo? error)
    {
        Path = path;
        Text = text;
        Family = family;
        Error = error;
    }

    public string Path { get; }
    public string Text { get; }
    public ApiFamily? Family { get; }
    public DiagnosticInfo? Error { get; }

    public static bool IsFamilyFile(string path) => path.EndsWith(".api", StringComparison.OrdinalIgnoreCase);

    public static FamilyFile Load(string path, string? text) => LastParsed<FamilyFile>.Get(path, text, Parse);

    private static FamilyFile Parse(string path, string? text)
    {
        if (text is null)
        {
            return new FamilyFile(path, "", null, DiagnosticInfo.Create(Descriptors.BadInputFile, null, path + ": cannot be read"));
        }
        try
        {
            return new FamilyFile(path, text, ApiFamilyReader.Read(text, path), null);
        }
        catch (FactsFormatException e)
        {
            return new FamilyFile(path, text, null, DiagnosticInfo.Create(Descriptors.BadInputFile, InputFileErrors.At(e), e.Message));
        }
    }

    public bool Equals(FamilyFile? other) =>
        other is not null && string.Equals(Path, other.Path, StringComparison.Ordinal) && string.Equals(Text, other.Text, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as FamilyFile);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Path) ^ Text.Length;
}

/// <summary>
/// One <c>*.names</c> AdditionalFile (every name a target's headers declare, headers/FORMAT.md "Declared names"),
/// parsed; equal when path and text are equal.
/// </summary>
internal sealed class NamesFile : IEquatable<NamesFile>
{
    private NamesFile(string path, string text, DeclaredNames? names, DiagnosticInfo? error)
    {
        Path = path;
        Text = text;
        Names = names;
        Error = error;
    }

    public string Path { get; }
    public string Text { get; }
    public DeclaredNames? Names { get; }
    public DiagnosticInfo? Error { get; }

    public static bool IsNamesFile(string path) => path.EndsWith(".names", StringComparison.OrdinalIgnoreCase);

    public static NamesFile Load(string path, string? text) => LastParsed<NamesFile>.Get(path, text, Parse);

    private static NamesFile Parse(string path, string? text)
    {
        if (text is null)
        {
            return new NamesFile(path, "", null, DiagnosticInfo.Create(Descriptors.BadInputFile, null, path + ": cannot be read"));
        }
        try
        {
            var names = DeclaredNames.Read(text, path);
            names.Find(""); // build the index before LastParsed shares the model between compilations
            return new NamesFile(path, text, names, null);
        }
        catch (FactsFormatException e)
        {
            return new NamesFile(path, text, null, DiagnosticInfo.Create(Descriptors.BadInputFile, InputFileErrors.At(e), e.Message));
        }
    }

    public bool Equals(NamesFile? other) =>
        other is not null && string.Equals(Path, other.Path, StringComparison.Ordinal) && string.Equals(Text, other.Text, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as NamesFile);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Path) ^ Text.Length;
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
