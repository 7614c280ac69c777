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

    /// <summary>
    /// <c>span FUNC:PTR/LEN</c>: a pointer and the element count that goes with it, which an overload takes as one
    /// <c>Span&lt;T&gt;</c> (the call writes the elements: <c>recv</c>'s buffer, <c>epoll_wait</c>'s events).
    /// </summary>
    Span,

    /// <summary>
    /// <c>inspan FUNC:PTR/LEN</c>: as <see cref="Span"/>, a <c>ReadOnlySpan&lt;T&gt;</c> (the call only reads:
    /// <c>send</c>).
    /// </summary>
    InSpan,

    /// <summary>
    /// <c>in FUNC:PTR[/LEN]</c>: a pointer to one object the call reads, which an overload takes as <c>in T</c>; with a
    /// length (<c>bind</c>'s address), <c>T</c> is the caller's unmanaged type and the length is <c>sizeof(T)</c>.
    /// </summary>
    In,

    /// <summary><c>ref FUNC:PTR[/LEN]</c>: as <see cref="In"/>, an object the call writes (<c>accept</c>'s).</summary>
    Ref,

    /// <summary>
    /// <c>page WHERE [FUNC ...]</c>: the reference page of the functions (all of the family's without a name):
    /// a man-page section (<c>2</c>: each function's own page), a page (<c>errno(3)</c>), or on Windows the header
    /// folder of learn.microsoft.com's API reference (<c>ioapiset</c>). <see cref="ApiItem.Argument"/> is WHERE,
    /// <see cref="ApiItem.Name"/> the function or <c>*</c>.
    /// </summary>
    Page,
}

/// <summary>
/// One word of an API-list line with where it came from, so errors can name family file and line.
/// <see cref="Narrow"/> is the OS or target after the key's dot (<c>header.windows</c>), null for every target.
/// <see cref="Name"/> is the word as written: <c>EPOLLIN</c>, a pattern <c>EPOLL*</c>, an exclusion <c>!MAP_FAILED</c>.
/// </summary>
public sealed record ApiItem(ApiItemKind Kind, string Name, string File, int Line, string? Narrow)
{
    /// <summary>For a <c>page</c> line: where its functions are documented (the line's first word).</summary>
    public string? Argument { get; init; }

    /// <summary>The function an overload or page item is about: <c>recv</c> in <c>recv:2/3</c>.</summary>
    public string Function => Name.IndexOf(':') is int colon && colon > 0 ? Name.Substring(0, colon) : Name;

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

    /// <summary>The <c>span</c>, <c>inspan</c>, <c>in</c>, <c>ref</c> items of <paramref name="function"/> here.</summary>
    public IReadOnlyList<ApiItem> OverloadsOf(string function, string target, string os) =>
        ItemsFor(target, os).Where(i => IsOverload(i.Kind) && i.Function == function).ToList();

    internal static bool IsOverload(ApiItemKind kind) =>
        kind is ApiItemKind.Span or ApiItemKind.InSpan or ApiItemKind.In or ApiItemKind.Ref;

    /// <summary>
    /// The <c>page</c> item of <paramref name="function"/> on this target: a line naming it wins over a line for the
    /// whole family, and among those a line narrowed to an OS or target wins. Null when no line applies.
    /// </summary>
    public ApiItem? PageOf(string function, string target, string os)
    {
        var pages = ItemsFor(target, os).Where(i => i.Kind == ApiItemKind.Page).ToList();
        var named = pages.Where(i => i.Name == function).ToList();
        var pick = named.Count > 0 ? named : pages.Where(i => i.Name == "*").ToList();
        return pick.OrderBy(i => i.Narrow is null ? 0 : 1).LastOrDefault();
    }

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
        ["span"] = ApiItemKind.Span,
        ["inspan"] = ApiItemKind.InSpan,
        ["in"] = ApiItemKind.In,
        ["ref"] = ApiItemKind.Ref,
        ["page"] = ApiItemKind.Page,
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
            if (kind == ApiItemKind.Page)
            {
                if (!IsPageWhere(words[1]))
                {
                    throw Fail($"page '{words[1]}': expected a man-page section (2), a page (errno(3)) "
                        + "or a header folder (ioapiset)");
                }
                items.AddRange(words.Length == 2
                    ? [new ApiItem(kind, "*", path, lineNo, narrow) { Argument = words[1] }]
                    : words.Skip(2).Select(w => new ApiItem(kind, w, path, lineNo, narrow) { Argument = words[1] }));
                continue;
            }
            foreach (var word in words.Skip(1))
            {
                if (ApiFamily.IsOverload(kind) && !IsOverloadWord(word, kind))
                {
                    string alone = kind is ApiItemKind.In or ApiItemKind.Ref ? " or FUNC:PTR" : "";
                    throw Fail($"'{word}': expected FUNC:PTR/LEN{alone} (parameters by 1-based position or by name)");
                }
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
        // fast, noerror, overloads and pages are about functions this family binds, so they must name one.
        var functions = new HashSet<string>(items.Where(i => i.Kind == ApiItemKind.Func).Select(i => i.Name), StringComparer.Ordinal);
        bool AboutAFunction(ApiItem i) =>
            i.Kind is ApiItemKind.Fast or ApiItemKind.NoError or ApiItemKind.Page || ApiFamily.IsOverload(i.Kind);
        var stray = items.FirstOrDefault(i => AboutAFunction(i) && i.Name != "*" && !functions.Contains(i.Function));
        if (stray is not null)
        {
            string key = Kinds.First(k => k.Value == stray.Kind).Key;
            throw new FactsFormatException(path, stray.Line,
                $"{key} '{stray.Function}': not a function this family lists on a func line");
        }
        return new ApiFamily(name, path) { Targets = targets, Items = items };
    }

    /// <summary><c>FUNC:PTR/LEN</c>, for <c>in</c>/<c>ref</c> also <c>FUNC:PTR</c>; PTR, LEN a position or a name.</summary>
    private static bool IsOverloadWord(string word, ApiItemKind kind)
    {
        var parts = word.Split(':');
        if (parts.Length != 2 || !IsName(parts[0]))
        {
            return false;
        }
        var ps = parts[1].Split('/');
        bool lengthOptional = kind is ApiItemKind.In or ApiItemKind.Ref;
        return (ps.Length == 2 || (ps.Length == 1 && lengthOptional)) && ps.All(IsName);
    }

    /// <summary>
    /// A section (<c>2</c>, <c>3p</c>), a page with its section (<c>errno(3)</c>), or a header folder
    /// (<c>ioapiset</c>).
    /// </summary>
    private static bool IsPageWhere(string word)
    {
        int open = word.IndexOf('(');
        if (open > 0 && word.EndsWith(")", StringComparison.Ordinal))
        {
            return IsSection(word.Substring(open + 1, word.Length - open - 2))
                && word.Substring(0, open).All(c => IsNameChar(c) || c is '.' or '-');
        }
        return IsSection(word) || word.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_');
    }

    internal static bool IsSection(string s) =>
        s.Length > 0 && char.IsDigit(s[0]) && s.All(c => char.IsDigit(c) || (c >= 'a' && c <= 'z'));

    private static bool IsName(string s) => s.Length > 0 && s.All(IsNameChar);

    private static bool IsNameChar(char c) => char.IsLetterOrDigit(c) || c == '_';
}
