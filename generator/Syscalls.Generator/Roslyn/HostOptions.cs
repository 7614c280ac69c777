using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Syscalls.Generator.Emitter;

namespace Syscalls.Generator.Roslyn;

/// <summary>A library's class name override: <c>libc</c> -> <c>Posix</c>. Library <c>*</c> stands for every library.</summary>
internal sealed record LibraryClass(string Library, string ClassName);

/// <summary>
/// The MSBuild properties the host reads (declared CompilerVisibleProperty by the package's build props):
/// <c>SyscallsVisibility</c> (public|internal, default internal), <c>SyscallsNamespace</c> (default Syscalls.Generated),
/// <c>SyscallsClassName</c> (<c>Native</c> for every library, or <c>libc=Posix;ws2_32=Winsock</c>), and the target:
/// <c>SyscallsRid</c>, else <c>RuntimeIdentifier</c>.
/// </summary>
internal sealed record HostOptions(
    string RootNamespace,
    EmitVisibility Visibility,
    EquatableArray<LibraryClass> ClassNames,
    string? Rid,
    string RidProperty,
    EquatableArray<DiagnosticInfo> Diagnostics)
{
    /// <summary>
    /// Not <c>Syscalls</c>: that is Syscalls.Bindings' root (Syscalls.Linux.LibC), which a project using Syscalls.Runtime
    /// references; generated types under it would hide the package's (CS0436) and lose every member not listed.
    /// </summary>
    public const string DefaultNamespace = "Syscalls.Generated";

    /// <summary>The library names the emitter knows a class for; <c>*</c> maps each of them.</summary>
    private static readonly string[] KnownLibraries = ["libc", "ws2_32", "kernel32", "mswsock", "ntdll"];

    public static HostOptions Read(AnalyzerConfigOptions global)
    {
        var diagnostics = new List<DiagnosticInfo>();
        string? Get(string name) =>
            global.TryGetValue("build_property." + name, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
        void Invalid(string property, string value, string why) =>
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidOption, null, property, value, why));

        var visibility = EmitVisibility.Internal;
        if (Get("SyscallsVisibility") is { } vis)
        {
            if (vis.Equals("public", StringComparison.OrdinalIgnoreCase))
            {
                visibility = EmitVisibility.Public;
            }
            else if (!vis.Equals("internal", StringComparison.OrdinalIgnoreCase))
            {
                Invalid("SyscallsVisibility", vis, "expected public or internal");
            }
        }

        string root = DefaultNamespace;
        if (Get("SyscallsNamespace") is { } ns)
        {
            if (ns.Split('.').All(IsIdentifier))
            {
                root = ns;
            }
            else
            {
                Invalid("SyscallsNamespace", ns, "expected a namespace such as MyApp.Native");
            }
        }

        var classes = new List<LibraryClass>();
        if (Get("SyscallsClassName") is { } cls)
        {
            foreach (var part in cls.Split([';', ','], StringSplitOptions.RemoveEmptyEntries).Select(p => p.Trim()))
            {
                int eq = part.IndexOf('=');
                string lib = eq < 0 ? "*" : part.Substring(0, eq).Trim();
                string name = eq < 0 ? part : part.Substring(eq + 1).Trim();
                if (!IsIdentifier(name) || lib.Length == 0)
                {
                    Invalid("SyscallsClassName", cls, "expected a class name (Native) or library=class pairs (libc=Posix;ws2_32=Winsock)");
                    classes.Clear();
                    break;
                }
                classes.Add(new LibraryClass(lib, name));
            }
        }

        string? rid = Get("SyscallsRid");
        string ridProperty = "SyscallsRid";
        if (rid is null)
        {
            rid = Get("RuntimeIdentifier");
            ridProperty = "RuntimeIdentifier";
        }
        return new HostOptions(root, visibility, classes.ToEquatableArray(), rid, ridProperty, diagnostics.ToEquatableArray());
    }

    /// <summary>The emitter's library -> class map: explicit pairs win over <c>*</c>.</summary>
    public IReadOnlyDictionary<string, string>? ClassNameMap(IEnumerable<string> libraries)
    {
        if (ClassNames.Count == 0)
        {
            return null;
        }
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (ClassNames.FirstOrDefault(c => c.Library == "*") is { } all)
        {
            foreach (var lib in KnownLibraries.Concat(libraries))
            {
                map[lib] = all.ClassName;
            }
        }
        foreach (var c in ClassNames.Where(c => c.Library != "*"))
        {
            map[c.Library] = c.ClassName;
        }
        return map;
    }

    private static bool IsIdentifier(string s) =>
        SyntaxFacts.IsValidIdentifier(s) && SyntaxFacts.GetKeywordKind(s) == SyntaxKind.None;
}
