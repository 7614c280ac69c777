using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Syscalls.Generator.Roslyn;

/// <summary>The names of the pipeline steps, for <c>GeneratorRunResult.TrackedSteps</c> (and the incremental test).</summary>
public static class TrackingNames
{
    public const string ListFiles = "Syscalls.ListFiles";
    public const string FactsFiles = "Syscalls.FactsFiles";
    public const string FamilyFiles = "Syscalls.FamilyFiles";
    public const string NamesFiles = "Syscalls.NamesFiles";
    public const string Catalog = "Syscalls.Catalog";
    public const string Options = "Syscalls.Options";
    public const string AllowUnsafe = "Syscalls.AllowUnsafe";
    public const string References = "Syscalls.References";
    public const string Selection = "Syscalls.Selection";
    public const string Request = "Syscalls.Request";
    public const string Emit = "Syscalls.Emit";
    public const string Diagnostics = "Syscalls.Diagnostics";

    public static readonly string[] All =
        [ListFiles, FactsFiles, FamilyFiles, NamesFiles, Catalog, Options, AllowUnsafe, References, Selection, Request, Emit, Diagnostics];
}

/// <summary>
/// The Roslyn host of the emitter (the CsWin32 model): the consumer lists C names or <c>PREFIX*</c> patterns in
/// <c>Syscalls.txt</c> (an AdditionalFile), and gets those items and everything they depend on, generated into its
/// own assembly from the ABI facts the package brings (<c>*.abi</c>, <c>*.api</c>, <c>*.names</c> AdditionalFiles).
/// Its sources are not seen by the SDK's LibraryImport generator (CS8795), so the P/Invokes are emitted in stub
/// mode: the blittable stub LibraryImport would write, errno capture included.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class SyscallsGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var lists = context.AdditionalTextsProvider
            .Where(t => SelectionList.IsListFile(t.Path))
            .Select((t, ct) => t.GetText(ct) is { } text ? SelectionList.Parse(t.Path, text) : null)
            .WithTrackingName(TrackingNames.ListFiles)
            .Where(l => l is not null)
            .Collect();

        var facts = context.AdditionalTextsProvider
            .Where(t => InputFiles.IsFacts(t.Path))
            .Select((t, ct) => InputFiles.LoadFacts(t.Path, t.GetText(ct)?.ToString()))
            .WithTrackingName(TrackingNames.FactsFiles)
            .Collect();

        var families = context.AdditionalTextsProvider
            .Where(t => InputFiles.IsFamily(t.Path))
            .Select((t, ct) => InputFiles.LoadFamily(t.Path, t.GetText(ct)?.ToString()))
            .WithTrackingName(TrackingNames.FamilyFiles)
            .Collect();

        var names = context.AdditionalTextsProvider
            .Where(t => InputFiles.IsNames(t.Path))
            .Select((t, ct) => InputFiles.LoadNames(t.Path, t.GetText(ct)?.ToString()))
            .WithTrackingName(TrackingNames.NamesFiles)
            .Collect();

        var catalog = facts.Combine(families).Combine(names)
            .Select((p, _) => Catalog.Create(p.Left.Left.ToEquatableArray(), p.Left.Right.ToEquatableArray(), p.Right.ToEquatableArray()))
            .WithTrackingName(TrackingNames.Catalog);

        var options = context.AnalyzerConfigOptionsProvider
            .Select((o, _) => HostOptions.Read(o.GlobalOptions))
            .WithTrackingName(TrackingNames.Options);

        var allowUnsafe = context.CompilationProvider
            .Select((c, _) => c is not CSharpCompilation cs || cs.Options.AllowUnsafe)
            .WithTrackingName(TrackingNames.AllowUnsafe);

        // A project that references Syscalls.Bindings (directly or through Syscalls.Runtime) has its Syscalls.Linux,
        // Syscalls.Darwin and Syscalls.Windows namespaces: the generated code must not declare the same types.
        var references = context.CompilationProvider
            .Select((c, _) => c.ReferencedAssemblyNames.Any(a => a.Name == HostEmitter.BindingsAssembly))
            .WithTrackingName(TrackingNames.References);

        var selection = lists.Combine(catalog)
            .Select((p, _) => SelectionResolver.Resolve(p.Left.Select(l => l!).ToList(), p.Right))
            .WithTrackingName(TrackingNames.Selection);

        // Emission sees no locations: moving or commenting lines of the list does not emit again.
        var request = selection
            .Select((s, _) => s.ToRequest())
            .WithTrackingName(TrackingNames.Request);

        var output = request.Combine(catalog).Combine(options).Combine(allowUnsafe).Combine(references)
            .Select((p, _) => HostEmitter.Emit(p.Left.Left.Left.Left, p.Left.Left.Left.Right, p.Left.Left.Right, p.Left.Right, p.Right))
            .WithTrackingName(TrackingNames.Emit);

        var diagnostics = selection.Combine(output)
            .Select((p, _) => p.Left.Place(p.Right.Diagnostics))
            .WithTrackingName(TrackingNames.Diagnostics);

        context.RegisterSourceOutput(output, static (spc, o) =>
        {
            foreach (var f in o.Files)
            {
                spc.AddSource(f.HintName, f.Text);
            }
        });
        context.RegisterSourceOutput(diagnostics, static (spc, ds) =>
        {
            foreach (var d in ds)
            {
                spc.ReportDiagnostic(d.ToDiagnostic());
            }
        });
    }
}
