using System;
using System.Collections.Generic;
using System.Linq;
using Syscalls.Generator.Emitter;
using Syscalls.Generator.Facts;

namespace Syscalls.Generator.Roslyn;

/// <summary>One source the host adds to the compilation.</summary>
internal sealed record GeneratedFile(string HintName, string Text);

/// <summary>What the host adds: sources and diagnostics, as values.</summary>
internal sealed record HostOutput(EquatableArray<GeneratedFile> Files, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>
/// Runs the emitter in stub mode, once per OS the selection touches (each OS is its own namespace and its own
/// set of native libraries). Which facts give the layout:
/// <list type="bullet">
/// <item>With a RuntimeIdentifier: its own OS is emitted for it (real P/Invokes); other OSes portable (their
/// functions and architecture-dependent values throw, as they could never run in this build).</item>
/// <item>Without: each OS is emitted for every one of its architectures, and used only when the outputs are equal;
/// otherwise SYSGEN003 names the entries that reach the differing items, and that OS is not emitted at all.</item>
/// </list>
/// </summary>
internal static class HostEmitter
{
    /// <summary>The shipped bindings: namespaces <c>Syscalls.Linux</c>, <c>.Darwin</c>, <c>.Windows</c>.</summary>
    public const string BindingsAssembly = "Syscalls.Bindings";

    /// <summary>The root namespace of Syscalls.Bindings: generated code under it declares its types again.</summary>
    public const string BindingsNamespace = "Syscalls";

    public static HostOutput Emit(EmitRequest request, Catalog catalog, HostOptions options, bool allowUnsafe,
        bool referencesBindings)
    {
        var diagnostics = options.Diagnostics.ToList();
        var files = new List<GeneratedFile>();
        HostOutput Done() => new(files.ToEquatableArray(), diagnostics.ToEquatableArray());

        if (request.Entries.Count == 0 || options.Diagnostics.Count > 0)
        {
            return Done();
        }
        if (!allowUnsafe)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.UnsafeRequired, null));
            return Done();
        }
        if (referencesBindings && options.RootNamespace == BindingsNamespace)
        {
            // The generated Syscalls.Linux.LibC would hide the package's (CS0436), and every member the list does not
            // name would be missing (CS0117): generate nothing and say why.
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.NamespaceCollision, null, options.RootNamespace,
                BindingsAssembly));
            return Done();
        }
        AbiFacts? rid = null;
        if (options.Rid is { } r)
        {
            rid = catalog.Targets.FirstOrDefault(t => t.Target == r);
            if (rid is null)
            {
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.UnknownRid, null, options.RidProperty, r,
                    string.Join(", ", catalog.Targets.Select(t => t.Target))));
                return Done();
            }
        }

        var libraries = catalog.Families.SelectMany(f => f.Items.Where(i => i.Kind == ApiItemKind.Lib).Select(i => i.Name)).Distinct();
        var emitterOptions = new EmitterOptions
        {
            RootNamespace = options.RootNamespace,
            Visibility = options.Visibility,
            Mode = EmitMode.Stub,
            ClassNames = options.ClassNameMap(libraries),
            // The consumer's assembly keeps its own marshalling rules: the stubs are blittable either way.
            EmitAssemblyAttributes = false,
            BuildDescription = rid is null
                ? "this project's generated bindings (no RuntimeIdentifier or SyscallsRid set)"
                : $"this project's generated bindings target {rid.Target} ({options.RidProperty})",
        };
        var byOs = request.Entries.SelectMany(e => e.Names).GroupBy(n => n.Os).OrderBy(g => g.Key, StringComparer.Ordinal);
        foreach (var os in byOs)
        {
            var targets = catalog.TargetsOf(os.Key);
            var input = new EmitInput(targets)
            {
                Families = catalog.Families,
                Selection = new EmitSelection
                {
                    Names = new HashSet<string>(os.Where(n => n.Kind != NameKind.SyscallNumber).Select(n => n.EmitName), StringComparer.Ordinal),
                },
                Options = emitterOptions with
                {
                    Syscalls = os.Where(n => n.Kind == NameKind.SyscallNumber).Select(n => n.EmitName).Distinct().ToList(),
                },
            };
            if (rid is not null || targets.Count == 1)
            {
                // Another OS than the RID's: portable, its code can never run in this build.
                string? emitRid = rid is null ? targets[0].Target : rid.Provenance.Os == os.Key ? rid.Target : null;
                if (TryEmit(input, emitRid, os.Key, diagnostics) is { } result)
                {
                    files.AddRange(result.Files.Select(f => new GeneratedFile(f.Name, f.Text)));
                }
                continue;
            }
            var results = new List<EmitResult>();
            foreach (var t in targets)
            {
                if (TryEmit(input, t.Target, os.Key, diagnostics) is not { } result)
                {
                    break;
                }
                results.Add(result);
            }
            if (results.Count != targets.Count)
            {
                continue;
            }
            string reference = ArchCheck.Normalized(results[0]);
            if (results.Skip(1).All(x => ArchCheck.Normalized(x) == reference))
            {
                files.AddRange(results[0].Files.Select(f => new GeneratedFile(f.Name, f.Text)));
                continue;
            }
            diagnostics.AddRange(ArchCheck.Explain(os.Key, targets, results, request.Entries, options.RootNamespace));
        }
        return Done();
    }

    private static EmitResult? TryEmit(EmitInput input, string? rid, string os, List<DiagnosticInfo> diagnostics)
    {
        try
        {
            return BindingEmitter.Emit(input with { Options = input.Options with { Rid = rid } });
        }
        catch (EmitterException e)
        {
            foreach (var error in e.Errors)
            {
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.EmitterFailed, null, "the " + os + " selection", error));
            }
            return null;
        }
    }
}
