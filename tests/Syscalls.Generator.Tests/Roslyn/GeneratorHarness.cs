using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using Syscalls.Generator.Roslyn;

namespace Syscalls.Generator.Tests.Roslyn;

/// <summary>
/// Drives <see cref="SyscallsGenerator"/> the way the compiler does: a small consumer compilation, the checked-in
/// facts, declared-names files and family lists as AdditionalFiles (what the package's build props add), a <c>Syscalls.txt</c>, and the
/// MSBuild properties as <c>build_property.*</c> global options.
/// </summary>
internal sealed class GeneratorHarness
{
    public const string ListPath = "/consumer/Syscalls.txt";

    public static string RepoRoot { get; } = FindRepoRoot();

    private static readonly Lazy<List<MetadataReference>> References = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => p.EndsWith(".dll", StringComparison.Ordinal))
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToList());

    private static readonly Lazy<List<AdditionalText>> PackageFiles = new(() =>
    {
        string headers = Path.Combine(RepoRoot, "headers");
        return Directory.GetFiles(Path.Combine(headers, "facts"), "*.abi")
            .Concat(Directory.GetFiles(Path.Combine(headers, "facts"), "*.names"))
            .Concat(Directory.GetFiles(Path.Combine(headers, "families"), "*.api"))
            .OrderBy(p => p, StringComparer.Ordinal)
            .Select(p => (AdditionalText)new MemoryText(p, File.ReadAllText(p))).ToList();
    });

    public static CSharpParseOptions ParseOptions { get; } = new(LanguageVersion.Latest);

    /// <summary>The list file's lines; null for a consumer without one.</summary>
    public string[]? List { get; init; }

    /// <summary><c>build_property.NAME</c> values: RuntimeIdentifier, SyscallsVisibility, ...</summary>
    public Dictionary<string, string> Properties { get; init; } = [];

    /// <summary>The consumer's own sources.</summary>
    public string[] Sources { get; init; } = [];

    public bool AllowUnsafe { get; init; } = true;

    public bool WithPackageFiles { get; init; } = true;

    /// <summary>
    /// Names of empty assemblies the consumer references (<c>Syscalls.Bindings</c>: what a project using Syscalls.Runtime
    /// gets), compiled on the fly so the generator sees them among the compilation's references.
    /// </summary>
    public string[] ReferencedAssemblies { get; init; } = [];

    /// <summary>More AdditionalFiles: (path, text).</summary>
    public (string Path, string Text)[] ExtraFiles { get; init; } = [];

    private AdditionalText? _listText;

    /// <summary>The list as the AdditionalFile handed to the driver (one object, so a test can replace it).</summary>
    public AdditionalText? ListText => List is null ? null : _listText ??= new MemoryText(ListPath, string.Join("\n", List) + "\n");

    public AnalyzerConfigOptionsProvider OptionsProvider() => new PropertiesProvider(Properties);

    public CSharpCompilation Compilation() =>
        CSharpCompilation.Create("Consumer",
            Sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, $"/consumer/Source{i}.cs")),
            References.Value.Concat(ReferencedAssemblies.Select(name =>
                CSharpCompilation.Create(name, [], References.Value, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary))
                    .ToMetadataReference())),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: AllowUnsafe,
                nullableContextOptions: NullableContextOptions.Enable));

    public GeneratorDriver Driver()
    {
        var texts = (WithPackageFiles ? PackageFiles.Value : []).ToList();
        if (ListText is { } list)
        {
            texts.Add(list);
        }
        texts.AddRange(ExtraFiles.Select(f => (AdditionalText)new MemoryText(f.Path, f.Text)));
        return CSharpGeneratorDriver.Create(
            [new SyscallsGenerator().AsSourceGenerator()], texts, ParseOptions,
            OptionsProvider(),
            new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
    }

    /// <summary>Runs the generator once: the driver (for a second run), the output compilation, its diagnostics.</summary>
    public Run RunOnce()
    {
        var compilation = Compilation();
        var driver = Driver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        return new Run(driver, (CSharpCompilation)output, generatorDiagnostics);
    }

    internal sealed record Run(GeneratorDriver Driver, CSharpCompilation Output, ImmutableArray<Diagnostic> GeneratorDiagnostics)
    {
        public GeneratorRunResult Result => Driver.GetRunResult().Results.Single();

        public IEnumerable<string> HintNames => Result.GeneratedSources.Select(s => s.HintName);

        public string Source(string hintSuffix) =>
            Result.GeneratedSources.Single(s => s.HintName.EndsWith(hintSuffix, StringComparison.Ordinal)).SourceText.ToString();

        /// <summary>Errors and warnings of the compilation with the generated sources in it.</summary>
        public List<string> CompileProblems() =>
            Output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).Select(d => d.ToString()).ToList();

        public string DiagnosticText => string.Join("\n", GeneratorDiagnostics.Select(d => d.ToString()));

        /// <summary>Emits the output compilation to memory and loads it into a collectible context.</summary>
        public Assembly Load()
        {
            using var pe = new MemoryStream();
            var emit = Output.Emit(pe);
            if (!emit.Success)
            {
                throw new InvalidOperationException(string.Join("\n", emit.Diagnostics));
            }
            pe.Position = 0;
            return new AssemblyLoadContext("generated-" + Guid.NewGuid(), isCollectible: true).LoadFromStream(pe);
        }
    }

    /// <summary>Calls a static method of the loaded consumer assembly (public or not).</summary>
    public static object? Call(Assembly assembly, string type, string method, params object[] args)
    {
        var t = assembly.GetType(type, throwOnError: true)!;
        var m = t.GetMethod(method, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            ?? throw new MissingMethodException(type, method);
        try
        {
            return m.Invoke(null, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }

    private static string FindRepoRoot()
    {
        string from = Environment.GetEnvironmentVariable("SYSCALLS_REPO") ?? AppContext.BaseDirectory;
        for (var dir = new DirectoryInfo(from); dir is not null; dir = dir.Parent)
        {
            if (Directory.Exists(Path.Combine(dir.FullName, "headers", "facts")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException("no headers/facts above " + AppContext.BaseDirectory);
    }

    internal sealed class MemoryText(string path, string text) : AdditionalText
    {
        private readonly SourceText _text = SourceText.From(text);

        public override string Path { get; } = path;

        public override SourceText GetText(CancellationToken cancellationToken = default) => _text;
    }

    private sealed class PropertiesProvider(Dictionary<string, string> properties) : AnalyzerConfigOptionsProvider
    {
        private static readonly Options Empty = new([]);

        public override AnalyzerConfigOptions GlobalOptions { get; } =
            new Options(properties.ToDictionary(p => "build_property." + p.Key, p => p.Value));

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => Empty;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => Empty;
    }

    private sealed class Options(Dictionary<string, string> values) : AnalyzerConfigOptions
    {
        public override bool TryGetValue(string key, out string value) => values.TryGetValue(key, out value!);
    }
}
