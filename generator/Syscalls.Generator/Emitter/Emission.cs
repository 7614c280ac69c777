using System.Collections.Generic;
using System.Linq;

namespace Syscalls.Generator.Emitter;

/// <summary>The choices one emission has made: which RID, which of its OSes are native, names and visibility.</summary>
internal sealed class Emission
{
    public Emission(EmitterOptions options, IReadOnlyList<string> targets, string? ridOs, string? ridArch)
    {
        Options = options;
        Targets = targets;
        RidOs = ridOs;
        RidArch = ridArch;
    }

    public EmitterOptions Options { get; }

    /// <summary>Every target the facts cover, sorted: the RIDs with a build of their own.</summary>
    public IReadOnlyList<string> Targets { get; }

    public string? Rid => Options.Rid;
    public string? RidOs { get; }
    public string? RidArch { get; }
    public bool IsPortable => Rid is null;
    public bool IsStub => Options.Mode == EmitMode.Stub;

    public string Visibility => Options.Visibility == EmitVisibility.Public ? "public" : "internal";

    public string Namespace(OsModel os) => Options.RootNamespace + "." + os.Platform.NamespaceSuffix;

    /// <summary>True when this build calls the OS's functions for real (the RID's own OS).</summary>
    public bool IsNative(OsModel os) => !IsPortable && os.Platform.Os == RidOs;

    /// <summary>Whether the values that differ between architectures are known here (not in the portable build).</summary>
    public bool KnowsArchValues => !IsPortable;

    /// <summary>The target whose layouts and values this emission prints for <paramref name="os"/>.</summary>
    public TargetModel LayoutOf(OsModel os) => os.LayoutFor(RidArch);

    public string Origin(TargetModel layout)
    {
        var p = layout.Facts.Provenance;
        return $"headers/facts/{layout.Target}.abi ({p.Triple}{(p.Kernel is null ? "" : ", kernel " + p.Kernel)})"
            + (IsPortable ? ", portable build" : ", " + Rid + " build");
    }

    /// <summary>C# text of the exception a member throws where it has no meaning in this build.</summary>
    public string Throw(OsModel os, string member)
    {
        string why = Options.BuildDescription is { } build
            ? $"{member} is a {os.Platform.DisplayName} API; {build} cannot call it."
            : IsPortable
            ? $"{member}: Syscalls.Bindings has no build for this runtime identifier (builds exist for {string.Join(", ", Targets)})."
            : $"{member} is a {os.Platform.DisplayName} API; this is the {Rid} build of Syscalls.Bindings.";
        return "throw new global::System.PlatformNotSupportedException(" + Identifiers.Literal(why) + ")";
    }

    /// <summary>C# text of the exception a constant throws on an architecture whose headers do not define it.</summary>
    public string ThrowUndefined(string member, string target) =>
        "throw new global::System.PlatformNotSupportedException("
        + Identifiers.Literal($"{member} is not defined on {target} (only on other architectures of its OS).") + ")";

    public static (string Os, string Arch)? ParseRid(string rid, IEnumerable<Facts.AbiFacts> targets) =>
        targets.FirstOrDefault(t => t.Target == rid) is { } f ? (f.Provenance.Os, f.Provenance.Arch) : null;
}
