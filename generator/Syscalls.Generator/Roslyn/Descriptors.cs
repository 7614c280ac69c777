using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Syscalls.Generator.Roslyn;

/// <summary>
/// Every diagnostic the Roslyn host reports. IDs are stable (AnalyzerReleases.Unshipped.md tracks them): a user's
/// <c>.editorconfig</c> and <c>NoWarn</c> refer to them, so an ID is never reused for another meaning.
/// </summary>
internal static class Descriptors
{
    private const string Category = "Syscalls.Generator";

    public static readonly DiagnosticDescriptor UnknownName = new(
        "SYSGEN001", "Unknown name in the Syscalls list",
        "'{0}' is not declared by the ABI facts{1}{2}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "Every name in Syscalls.txt must be a function, struct, union, typedef, enum, enumerator, constant, "
            + "GUID or SYS_ number that the scanned headers of some target declare.");

    public static readonly DiagnosticDescriptor EmptyPattern = new(
        "SYSGEN002", "Pattern in the Syscalls list matches nothing",
        "'{0}' matches no name{1}{2}",
        Category, DiagnosticSeverity.Warning, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor ArchitectureSpecific = new(
        "SYSGEN003", "Architecture-specific item needs a RuntimeIdentifier",
        "'{0}' is architecture-specific on {1}: {2}. The project has no RuntimeIdentifier, so one of these would be "
            + "wrong on the other architecture; set <RuntimeIdentifier> (one of {3}) or <SyscallsRid>.",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "Without a RuntimeIdentifier only items whose layout, value and calling sequence are the same on "
            + "every architecture of their OS can be generated.");

    public static readonly DiagnosticDescriptor UnknownRid = new(
        "SYSGEN004", "No ABI facts for the RuntimeIdentifier",
        "{0} '{1}' has no ABI facts (facts exist for {2}); nothing is generated",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor InvalidOption = new(
        "SYSGEN005", "Invalid Syscalls generator option",
        "{0}='{1}' is not valid: {2}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor EmitterFailed = new(
        "SYSGEN006", "The selection cannot be emitted",
        "The emitter cannot generate {0}: {1}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor BadInputFile = new(
        "SYSGEN007", "Unreadable ABI facts or API family file",
        "{0}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor MissingFacts = new(
        "SYSGEN008", "ABI facts or API family lists missing",
        "The Syscalls list asks for names, but no {0} is among the AdditionalFiles; reference the Syscalls.Generator "
            + "package (its build props add them)",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor InvalidLine = new(
        "SYSGEN009", "Invalid entry in the Syscalls list",
        "'{0}' is not a name or a PREFIX* pattern: {1}",
        Category, DiagnosticSeverity.Warning, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnsafeRequired = new(
        "SYSGEN010", "Unsafe code must be allowed",
        "The generated bindings use pointers; set <AllowUnsafeBlocks>true</AllowUnsafeBlocks> in the project",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor NothingToGenerate = new(
        "SYSGEN011", "Name has no generated form",
        "'{0}' is a typedef ({1}): nothing is generated for it; the signatures that use it have its C# type directly",
        Category, DiagnosticSeverity.Warning, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor OutsideCatalogue = new(
        "SYSGEN012", "Name outside the catalogue",
        "'{0}' is declared by {1}, but no API family lists it, so the package has no facts for it: it is outside the "
            + "catalogue. To add it, {2}.",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "The generator emits what the API families of the package (headers/families/*.api) list and the "
            + "scanner proved; the headers declare more. A name the headers declare but no family lists is added to a "
            + "family, scanned (./build.sh regen) and proven like every other before the generator can emit it.");

    public static readonly DiagnosticDescriptor NamespaceCollision = new(
        "SYSGEN013", "Generated namespace collides with Syscalls.Bindings",
        "SyscallsNamespace '{0}' is the root namespace of {1}, which this project references (directly or through "
            + "Syscalls.Runtime): the generated {0}.Linux.LibC and the others would hide the package's types (CS0436) and "
            + "lose every member the list does not name. Nothing is generated; set another <SyscallsNamespace> "
            + "(the default is Syscalls.Generated), or call {1} directly.",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static readonly Dictionary<string, DiagnosticDescriptor> ById = new[]
    {
        UnknownName, EmptyPattern, ArchitectureSpecific, UnknownRid, InvalidOption, EmitterFailed, BadInputFile,
        MissingFacts, InvalidLine, UnsafeRequired, NothingToGenerate, OutsideCatalogue, NamespaceCollision,
    }.ToDictionary(d => d.Id);

    public static DiagnosticDescriptor Find(string id) => ById[id];
}

/// <summary>A position in an AdditionalFile, as values: a Location has no value equality.</summary>
internal sealed record SourceSpan(string Path, int Start, int Length, int Line, int Column)
{
    public Location ToLocation() =>
        Location.Create(Path, new Microsoft.CodeAnalysis.Text.TextSpan(Start, Length),
            new Microsoft.CodeAnalysis.Text.LinePositionSpan(
                new Microsoft.CodeAnalysis.Text.LinePosition(Line, Column),
                new Microsoft.CodeAnalysis.Text.LinePosition(Line, Column + Length)));
}

/// <summary>
/// A diagnostic as values (descriptor ID, location, message arguments), created into a Diagnostic at output.
/// <see cref="Entry"/> is the index of the list entry it is about, for steps that do not carry locations.
/// </summary>
internal sealed record DiagnosticInfo(string Id, SourceSpan? Where, EquatableArray<string> Args, int Entry = -1)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, SourceSpan? where, params string[] args) =>
        new(descriptor.Id, where, args.ToEquatableArray());

    public static DiagnosticInfo ForEntry(DiagnosticDescriptor descriptor, int entry, params string[] args) =>
        new(descriptor.Id, null, args.ToEquatableArray(), entry);

    public Diagnostic ToDiagnostic() =>
        Diagnostic.Create(Descriptors.Find(Id), Where?.ToLocation() ?? Location.None, Args.Cast<object>().ToArray());
}
