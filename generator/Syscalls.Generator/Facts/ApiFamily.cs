using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace Syscalls.Generator.Facts;

/// <summary>What an API-list line asks for (the key of a headers/families/*.api line).</summary>
public enum ApiItemKind
{
    Header,
    Func,
    Record,
    Type,
    Enum,
    Const,
    Guid,
    Syscall,
    Lib,
    Errno,

    /// <summary>
    /// A function the family also lists on a <c>func</c> line that returns in well under a microsecond, never blocks
    /// and never calls back: bound with <c>[SuppressGCTransition]</c>.
    /// </summary>
    Fast,

    /// <summary>
    /// A function the family also lists on a <c>func</c> line that reports nothing through the error slot (errno,
    /// <c>GetLastError</c>): bound without <c>SetLastError</c>, so the slot is neither cleared nor captured. The
    /// slot's own readers (<c>GetLastError</c>, <c>WSAGetLastError</c>) must be, or they would always read 0.
    /// </summary>
    NoError,

    /// <summary>
    /// Constants of this family (names or <c>PREFIX*</c> patterns) that are the OS's error numbers (<c>E*</c>,
    /// <c>WSAE*</c>): the emitter writes their number-to-name table, which <c>Errno.Name</c> reads.
    /// </summary>
    Errors,

    /// <summary>
    /// A record the family's items reach only through pointers and that the bindings never look into (glibc's
    /// <c>pthread_attr_t</c> behind <c>sigevent</c>): the scanner binds every pointer to it as <c>*void</c> and does
    /// not define it, as it would for a record the headers only declare. For records whose members differ between the
    /// architectures of one OS (<c>char __size[56]</c> on x86-64, <c>[64]</c> on arm64), which one public type cannot
    /// describe.
    /// </summary>
    Opaque,
}

/// <summary>
/// One word of an API-list line with where it came from, so errors can name family file and line.
/// <see cref="Narrow"/> is the OS or target after the key's dot (<c>header.windows</c>), null for every target.
/// <see cref="Name"/> is the word as written: <c>EPOLLIN</c>, a pattern <c>EPOLL*</c>, an exclusion <c>!MAP_FAILED</c>.
/// </summary>
public sealed record ApiItem(ApiItemKind Kind, string Name, string File, int Line, string? Narrow)
{
    /// <summary>A <c>!NAME</c> or <c>!PREFIX*</c> on a const line: names the family's const patterns must not match.</summary>
    public bool IsExclusion => Name.StartsWith("!", StringComparison.Ordinal);

    /// <summary>The name without a leading <c>!</c>.</summary>
    public string Symbol => IsExclusion ? Name.Substring(1) : Name;

    /// <summary>A trailing <c>*</c>: a prefix pattern (const, struct and enum lines).</summary>
    public bool IsPattern => Symbol.EndsWith("*", StringComparison.Ordinal);

    public string Prefix => IsPattern ? Symbol.Substring(0, Symbol.Length - 1) : Symbol;

    /// <summary>Whether a C name is this item: equal to it, or starting with its prefix when it is a pattern.</summary>
    public bool Matches(string name) => IsPattern ? name.StartsWith(Prefix, StringComparison.Ordinal) : name == Symbol;

    public bool AppliesTo(string target, string os) => Narrow is null || Narrow == target || Narrow == os;

    public override string ToString() => $"{File}:{Line}: {Name}";
}

/// <summary>A parsed <c>headers/families/&lt;family&gt;.api</c> file (format at the end of headers/FORMAT.md).</summary>
public sealed record ApiFamily(string Name, string File)
{
    /// <summary>The targets the family is scanned for; empty means every target.</summary>
    public IReadOnlyList<string> Targets { get; init; } = [];

    /// <summary>Every item line in file order, headers and lib/errno included.</summary>
    public IReadOnlyList<ApiItem> Items { get; init; } = [];

    public bool AppliesTo(string target) => Targets.Count == 0 || Targets.Contains(target, StringComparer.Ordinal);

    public IEnumerable<ApiItem> ItemsFor(string target, string os) => Items.Where(i => i.AppliesTo(target, os));

    public IReadOnlyList<string> HeadersFor(string target, string os) =>
        ItemsFor(target, os).Where(i => i.Kind == ApiItemKind.Header).Select(i => i.Name).ToList();

    /// <summary>The library the functions come from (<c>libc</c>, <c>ws2_32</c>, ...), the most specific line winning.</summary>
    public string? LibFor(string target, string os) => Last(ApiItemKind.Lib, target, os);

    /// <summary>How failures are reported: <c>errno</c>, <c>wsa</c>, <c>win32</c> or <c>none</c>.</summary>
    public string? ErrnoFor(string target, string os) => Last(ApiItemKind.Errno, target, os);

    /// <summary>Whether an <c>errors</c> line of this family names the constant (or a pattern matches it) for this target.</summary>
    public bool IsError(string constant, string target, string os) =>
        ItemsFor(target, os).Any(i => i.Kind == ApiItemKind.Errors && i.Matches(constant));

    /// <summary>Whether a line of <paramref name="kind"/> (<c>fast</c>, <c>noerror</c>) names <paramref name="function"/> for this target.</summary>
    public bool Lists(ApiItemKind kind, string function, string target, string os) =>
        ItemsFor(target, os).Any(i => i.Kind == kind && i.Name == function);

    private string? Last(ApiItemKind kind, string target, string os) =>
        ItemsFor(target, os).Where(i => i.Kind == kind).OrderBy(i => i.Narrow is null ? 0 : 1).LastOrDefault()?.Name;
}

/// <summary>Reads API-list files; every mistake is a <see cref="FactsFormatException"/> naming file and line.</summary>
public static class ApiFamilyReader
{
    private static readonly Dictionary<string, ApiItemKind> Kinds = new(StringComparer.Ordinal)
    {
        ["header"] = ApiItemKind.Header,
        ["func"] = ApiItemKind.Func,
        ["struct"] = ApiItemKind.Record,
        ["union"] = ApiItemKind.Record,
        ["type"] = ApiItemKind.Type,
        ["enum"] = ApiItemKind.Enum,
        ["const"] = ApiItemKind.Const,
        ["guid"] = ApiItemKind.Guid,
        ["syscall"] = ApiItemKind.Syscall,
        ["lib"] = ApiItemKind.Lib,
        ["errno"] = ApiItemKind.Errno,
        ["fast"] = ApiItemKind.Fast,
        ["noerror"] = ApiItemKind.NoError,
        ["errors"] = ApiItemKind.Errors,
        ["opaque"] = ApiItemKind.Opaque,
    };

    private static readonly HashSet<string> Oses = new(StringComparer.Ordinal) { "linux", "darwin", "windows" };

    /// <summary>Reads one file; when <paramref name="knownTargets"/> is given, target names must be among them.</summary>
#pragma warning disable RS1035 // File IO: never called from the analyzer, which reads AdditionalText instead.
    public static ApiFamily ReadFile(string path, IReadOnlyCollection<string>? knownTargets = null) =>
        Read(File.ReadAllText(path), path, knownTargets);
#pragma warning restore RS1035

    public static ApiFamily Read(string text, string path, IReadOnlyCollection<string>? knownTargets = null)
    {
        string? name = null;
        var targets = new List<string>();
        var items = new List<ApiItem>();
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            int lineNo = i + 1;
            string line = lines[i];
            int hash = line.IndexOf('#');
            if (hash >= 0)
            {
                line = line.Substring(0, hash);
            }
            var words = line.Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0)
            {
                continue;
            }
            FactsFormatException Fail(string why) => new(path, lineNo, why);
            string key = words[0];
            if (words.Length < 2)
            {
                throw Fail($"'{key}' needs at least one value");
            }
            switch (key)
            {
                case "family":
                    if (name is not null || words.Length != 2)
                    {
                        throw Fail("expected exactly one 'family NAME' line");
                    }
                    name = words[1];
                    string stem = Path.GetFileNameWithoutExtension(path);
                    if (path.EndsWith(".api", StringComparison.Ordinal) && stem != name)
                    {
                        throw Fail($"family '{name}' lives in {stem}.api; the file name and the family must agree");
                    }
                    continue;
                case "targets":
                    foreach (var t in words.Skip(1))
                    {
                        if (knownTargets is not null && !knownTargets.Contains(t))
                        {
                            throw Fail($"unknown target '{t}' (known: {string.Join(" ", knownTargets)})");
                        }
                        targets.Add(t);
                    }
                    continue;
            }
            string? narrow = null;
            int dot = key.IndexOf('.');
            if (dot > 0)
            {
                narrow = key.Substring(dot + 1);
                key = key.Substring(0, dot);
                if (!Oses.Contains(narrow) && knownTargets is not null && !knownTargets.Contains(narrow))
                {
                    throw Fail($"'{narrow}' is neither an OS (linux|darwin|windows) nor a known target");
                }
            }
            if (!Kinds.TryGetValue(key, out var kind))
            {
                throw Fail($"unknown key '{words[0]}' (known: family targets {string.Join(" ", Kinds.Keys)})");
            }
            foreach (var word in words.Skip(1))
            {
                bool exclusion = word.StartsWith("!", StringComparison.Ordinal);
                if (exclusion && (kind != ApiItemKind.Const || word.Length == 1))
                {
                    throw Fail($"'{word}': only const lines hold exclusions (!NAME or !PREFIX*)");
                }
                int star = word.IndexOf('*');
                if (star >= 0 && (star != word.Length - 1 || kind is not (ApiItemKind.Const or ApiItemKind.Record or ApiItemKind.Enum or ApiItemKind.Errors)))
                {
                    throw Fail($"'{word}': only const, errors, struct and enum items may be patterns, and only with a trailing *");
                }
                items.Add(new ApiItem(kind, word, path, lineNo, narrow));
            }
        }
        if (name is null)
        {
            throw new FactsFormatException(path, 1, "no 'family NAME' line");
        }
        // fast and noerror are promises about functions this family binds, so they must name one.
        var functions = new HashSet<string>(items.Where(i => i.Kind == ApiItemKind.Func).Select(i => i.Name), StringComparer.Ordinal);
        if (items.FirstOrDefault(i => i.Kind is ApiItemKind.Fast or ApiItemKind.NoError && !functions.Contains(i.Name)) is { } stray)
        {
            throw new FactsFormatException(path, stray.Line,
                $"{(stray.Kind == ApiItemKind.Fast ? "fast" : "noerror")} '{stray.Name}': not a function this family lists on a func line");
        }
        return new ApiFamily(name, path) { Targets = targets, Items = items };
    }
}
