using System;
using System.Collections.Generic;
using System.Linq;
using Syscalls.Generator.Emitter;
using Syscalls.Generator.Facts;

namespace Syscalls.Generator.Roslyn;

/// <summary>What a name in the list is, and so how it is handed to the emitter.</summary>
internal enum NameKind
{
    Function,
    Record,

    /// <summary>A typedef naming a record (<c>epoll_data_t</c>, Windows <c>OVERLAPPED</c>): selects the record.</summary>
    RecordTypedef,
    Constant,
    Enum,

    /// <summary>Selects its whole enum: the enumerators are constants of one C type.</summary>
    Enumerator,
    Guid,

    /// <summary>An entry point with no libc wrapper (io_uring_setup): a <c>syscall(2)</c> wrapper.</summary>
    SyscallWrapper,

    /// <summary><c>SYS_name</c>: the target's <c>__NR_name</c>.</summary>
    SyscallNumber,

    /// <summary>A typedef of a function pointer (<c>LPFN_ACCEPTEX</c>): a one-field struct named after it.</summary>
    FunctionPointerTypedef,

    /// <summary>A typedef of a scalar or pointer (<c>socklen_t</c>): no C# declaration of its own.</summary>
    ScalarTypedef,
}

/// <summary>A name the facts of one OS declare: its kind and the name the emitter selects it by.</summary>
internal sealed record KnownName(string Name, NameKind Kind, string EmitName, string? Detail);

/// <summary>A name the headers of one OS declare outside the catalogue, on which of its targets.</summary>
internal sealed record OutsideName(DeclaredName Name, IReadOnlyList<string> Targets);

/// <summary>
/// Every facts file, family list and declared-names file, with the names each OS declares. Equal when the files are
/// equal: the index is derived from them.
/// </summary>
internal sealed class Catalog : IEquatable<Catalog>
{
    private Catalog(EquatableArray<InputFile<AbiFacts>> facts, EquatableArray<InputFile<ApiFamily>> families,
        EquatableArray<InputFile<DeclaredNames>> names)
    {
        Files = facts;
        FamilyFiles = families;
        NamesFiles = names;
        Targets = facts.Where(f => f.Value is not null).Select(f => f.Value!)
            .GroupBy(f => f.Target, StringComparer.Ordinal).Select(g => g.First())
            .OrderBy(f => f.Target, StringComparer.Ordinal).ToList();
        Families = families.Where(f => f.Value is not null).Select(f => f.Value!).ToList();
        Oses = Targets.Select(t => t.Provenance.Os).Distinct().OrderBy(o => o, StringComparer.Ordinal).ToList();
        foreach (var os in Oses)
        {
            _names[os] = Index(TargetsOf(os));
        }
        var declared = names.Where(n => n.Value is not null).Select(n => n.Value!).ToList();
        foreach (var os in Oses)
        {
            var targets = TargetsOf(os).Select(t => t.Target).ToList();
            var outside = new Dictionary<string, OutsideName>(StringComparer.Ordinal);
            var ofOs = declared.Where(d => targets.Contains(d.Target)).OrderBy(d => targets.IndexOf(d.Target));
            foreach (var list in ofOs)
            {
                foreach (var n in list.Names)
                {
                    outside[n.Name] = outside.TryGetValue(n.Name, out var seen)
                        ? seen with { Targets = [.. seen.Targets, list.Target] }
                        : new OutsideName(n, [list.Target]);
                }
            }
            _outside[os] = outside;
        }
    }

    private readonly Dictionary<string, IReadOnlyDictionary<string, KnownName>> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, OutsideName>> _outside = new(StringComparer.Ordinal);

    public EquatableArray<InputFile<AbiFacts>> Files { get; }
    public EquatableArray<InputFile<ApiFamily>> FamilyFiles { get; }
    public EquatableArray<InputFile<DeclaredNames>> NamesFiles { get; }

    /// <summary>The readable facts, one per target, sorted by target name.</summary>
    public IReadOnlyList<AbiFacts> Targets { get; }

    public IReadOnlyList<ApiFamily> Families { get; }

    /// <summary>The OSes (linux, darwin, windows) some facts describe, sorted.</summary>
    public IReadOnlyList<string> Oses { get; }

    private static Catalog? s_last;

    /// <summary>The catalog of these files; the previous one when the files are the same (see <see cref="LastParsed{T}"/>).</summary>
    public static Catalog Create(EquatableArray<InputFile<AbiFacts>> facts,
        EquatableArray<InputFile<ApiFamily>> families, EquatableArray<InputFile<DeclaredNames>> names)
    {
        var sortedFacts = ByPath(facts);
        var sortedFamilies = ByPath(families);
        var sortedNames = ByPath(names);
        var last = s_last;
        if (last is not null && last.Files.Equals(sortedFacts) && last.FamilyFiles.Equals(sortedFamilies)
            && last.NamesFiles.Equals(sortedNames))
        {
            return last;
        }
        return s_last = new Catalog(sortedFacts, sortedFamilies, sortedNames);
    }

    /// <summary>Every name the headers of <paramref name="os"/> declare (<c>*.names</c>), catalogued or not.</summary>
    public IEnumerable<string> DeclaredNamesOf(string os) => _outside.TryGetValue(os, out var names) ? names.Keys : [];

    /// <summary>
    /// What the headers of <paramref name="os"/> declare under <paramref name="name"/> (the <c>*.names</c> files), or
    /// null. Asked for a name the catalogue lacks, it tells one outside the catalogue from one no header declares.
    /// </summary>
    public OutsideName? OutsideOf(string os, string name) =>
        _outside.TryGetValue(os, out var names) && names.TryGetValue(name, out var hit) ? hit : null;

    private static EquatableArray<InputFile<T>> ByPath<T>(EquatableArray<InputFile<T>> files)
        where T : class =>
        new(files.OrderBy(f => f.Path, StringComparer.Ordinal));

    /// <summary>The targets of one OS, x64 first (the emitter's order).</summary>
    public IReadOnlyList<AbiFacts> TargetsOf(string os) =>
        Targets.Where(t => t.Provenance.Os == os).OrderBy(t => Platform.ArchOrder(t.Provenance.Arch)).ToList();

    /// <summary>The names <paramref name="os"/> declares, by C name.</summary>
    public IReadOnlyDictionary<string, KnownName> NamesOf(string os) =>
        _names.TryGetValue(os, out var names) ? names : new Dictionary<string, KnownName>();

    public IEnumerable<DiagnosticInfo> Errors =>
        Files.Select(f => f.Error).Concat(FamilyFiles.Select(f => f.Error)).Concat(NamesFiles.Select(f => f.Error))
            .Where(e => e is not null)!;

    private static Dictionary<string, KnownName> Index(IReadOnlyList<AbiFacts> targets)
    {
        var names = new Dictionary<string, KnownName>(StringComparer.Ordinal);
        void Add(string name, NameKind kind, string emit, string? detail = null)
        {
            if (!names.ContainsKey(name))
            {
                names[name] = new KnownName(name, kind, emit, detail);
            }
        }
        foreach (var t in targets)
        {
            foreach (var f in t.Functions)
            {
                Add(f.Name, NameKind.Function, f.Name);
            }
            foreach (var r in t.Records.Where(r => !r.IsUnnamed && !TypeMapper.IsGuidRecord(r.Name)))
            {
                Add(r.Name, NameKind.Record, r.Name);
            }
            foreach (var c in t.Constants)
            {
                Add(c.Name, NameKind.Constant, c.Name);
            }
            foreach (var e in t.Enums)
            {
                Add(e.Name, NameKind.Enum, e.Name);
                foreach (var x in e.Enumerators)
                {
                    Add(x.Name, NameKind.Enumerator, e.Name);
                }
            }
            foreach (var g in t.Guids)
            {
                Add(g.Name, NameKind.Guid, g.Name);
            }
            foreach (var s in t.Syscalls)
            {
                Add("SYS_" + s.Name, NameKind.SyscallNumber, s.Name);
            }
            if (t.Provenance.IsLinux)
            {
                foreach (var w in SyscallWrappers.All.Where(w => t.Syscalls.Any(s => s.Name == w.Name)))
                {
                    Add(w.Name, NameKind.SyscallWrapper, w.Name);
                }
            }
        }
        // Typedefs last: a record, function or constant of the same name is what the user means.
        foreach (var t in targets)
        {
            foreach (var td in t.Typedefs)
            {
                if (td.Type is RecordRefType r && t.FindRecord(r.Name) is not null && !TypeMapper.IsGuidRecord(r.Name))
                {
                    Add(td.Name, NameKind.RecordTypedef, r.Name);
                }
                else if (td.Type is PointerType { Pointee: FunctionType { IsVariadic: false } })
                {
                    Add(td.Name, NameKind.FunctionPointerTypedef, td.Name);
                }
                else
                {
                    Add(td.Name, NameKind.ScalarTypedef, td.Name, $"{td.Type}, C '{td.CSpelling}'");
                }
            }
        }
        return names;
    }

    public bool Equals(Catalog? other) =>
        other is not null && Files.Equals(other.Files) && FamilyFiles.Equals(other.FamilyFiles)
        && NamesFiles.Equals(other.NamesFiles);

    public override bool Equals(object? obj) => Equals(obj as Catalog);

    public override int GetHashCode() => Files.GetHashCode() ^ FamilyFiles.GetHashCode() ^ NamesFiles.GetHashCode();
}
