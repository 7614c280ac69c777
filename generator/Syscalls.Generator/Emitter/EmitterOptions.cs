using System;
using System.Collections.Generic;
using Syscalls.Generator.Facts;

namespace Syscalls.Generator.Emitter;

/// <summary>How the functions become P/Invokes.</summary>
public enum EmitMode
{
    /// <summary><c>[LibraryImport(..., SetLastError = true)] static partial</c>: the SDK's generator writes the stubs.</summary>
    LibraryImport,

    /// <summary>
    /// The blittable stub written out (a <c>static extern</c> <c>[DllImport]</c> inside a method that clears and
    /// captures errno), for hosts whose output the LibraryImport generator does not see (a Roslyn generator, CS8795).
    /// </summary>
    Stub,
}

public enum EmitVisibility
{
    Public,
    Internal,
}

/// <summary>Options of one emission. Every option has the default the shipped bindings use.</summary>
public sealed record EmitterOptions
{
    /// <summary>The OS namespaces are <c>{RootNamespace}.Linux</c>, <c>.Darwin</c>, <c>.Windows</c>.</summary>
    public string RootNamespace { get; init; } = "Syscalls";

    public EmitVisibility Visibility { get; init; } = EmitVisibility.Public;

    public EmitMode Mode { get; init; } = EmitMode.LibraryImport;

    /// <summary>
    /// The runtime identifier being built (<c>linux-x64</c>): its facts give the layouts and values, its OS's functions
    /// are real imports, other OSes' functions throw. Null for the portable build (<c>lib/net10.0</c>): every function
    /// and every architecture-dependent value throws <see cref="PlatformNotSupportedException"/>.
    /// </summary>
    public string? Rid { get; init; }

    /// <summary>Library (<c>libc</c>) to class name (<c>LibC</c>) overrides.</summary>
    public IReadOnlyDictionary<string, string>? ClassNames { get; init; }

    /// <summary>
    /// The <c>__NR_*</c> numbers exposed as <c>SYS_*</c> constants, besides those the syscall-based wrappers use.
    /// The facts hold every number of the target; only the asked-for ones become API (the full lists differ by arch).
    /// </summary>
    public IReadOnlyCollection<string> Syscalls { get; init; } = [];

    /// <summary>How many <c>nint</c> variadic arguments the longest overload of a variadic function takes.</summary>
    public int MaxVariadicArguments { get; init; } = 1;

    /// <summary>Per-function override of <see cref="MaxVariadicArguments"/>; <c>syscall</c> takes six.</summary>
    public IReadOnlyDictionary<string, int> VariadicArguments { get; init; } =
        new Dictionary<string, int>(StringComparer.Ordinal) { ["syscall"] = 6 };

    /// <summary>
    /// What the exception of a member that cannot run in this build calls the build, when it is not the shipped
    /// Syscalls.Bindings (the Roslyn host: "this project's generated bindings, which target win-x64").
    /// </summary>
    public string? BuildDescription { get; init; }

    /// <summary>Emit <c>[assembly: DisableRuntimeMarshalling]</c> (once per assembly; off when the host has its own).</summary>
    public bool EmitAssemblyAttributes { get; init; }
}

/// <summary>Which facts become API. Null members select everything.</summary>
public sealed record EmitSelection
{
    /// <summary>Only items whose <c>family=</c> is one of these (records they need come along).</summary>
    public IReadOnlyCollection<string>? Families { get; init; }

    /// <summary>Only these C names (functions, records, constants, enums, GUIDs; records they need come along).</summary>
    public IReadOnlyCollection<string>? Names { get; init; }

    public static EmitSelection All { get; } = new();

    internal bool Selects(string name, string? family) =>
        (Families is null || (family is not null && Contains(Families, family))) && (Names is null || Contains(Names, name));

    private static bool Contains(IReadOnlyCollection<string> set, string item)
    {
        foreach (var s in set)
        {
            if (string.Equals(s, item, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }
}

/// <summary>The inputs of one emission: the facts of every target (all OSes), the API families, what and how.</summary>
public sealed record EmitInput(IReadOnlyList<AbiFacts> Targets)
{
    /// <summary>The family lists; they give each family's library (<c>lib ws2_32</c>) and its typedef-named records.</summary>
    public IReadOnlyList<ApiFamily> Families { get; init; } = [];

    public EmitSelection Selection { get; init; } = EmitSelection.All;

    public EmitterOptions Options { get; init; } = new();
}
