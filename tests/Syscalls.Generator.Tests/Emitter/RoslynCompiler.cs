using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Syscalls.Generator.Emitter;

namespace Syscalls.Generator.Tests.Emitter;

/// <summary>
/// Compiles emitted sources in memory against the running framework. Stub mode is used: its P/Invokes are complete
/// C#, whereas LibraryImport partials need the SDK's generator (the bindings build compiles that mode for real).
/// </summary>
internal static class RoslynCompiler
{
    private static readonly Lazy<List<MetadataReference>> References = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => p.EndsWith(".dll", StringComparison.Ordinal))
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToList());

    public static CSharpCompilation Compile(EmitResult result, string name = "Emitted")
    {
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var trees = result.Files.Select(f => CSharpSyntaxTree.ParseText(f.Text, parse, f.Name));
        return CSharpCompilation.Create(name, trees, References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable, warningLevel: 9999));
    }

    /// <summary>The diagnostics that are errors or warnings, formatted with file and line.</summary>
    public static List<string> Problems(CSharpCompilation compilation) =>
        compilation.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).Select(d => d.ToString()).ToList();

    /// <summary>The emission in stub mode with the assembly attributes, for compiling.</summary>
    public static EmitResult EmitStub(EmitInput input, string? rid, bool portable = false) =>
        BindingEmitter.Emit(input with
        {
            Options = input.Options with
            {
                Mode = EmitMode.Stub,
                EmitAssemblyAttributes = true,
                Rid = portable ? null : rid ?? input.Options.Rid,
            },
        });

    /// <summary>
    /// The public API of a compilation as sorted lines: every public type and member with its signature and, for
    /// constants, its value; layout (offsets, sizes) and bodies are left out.
    /// </summary>
    public static List<string> PublicApi(CSharpCompilation compilation)
    {
        var lines = new List<string>();
        var format = SymbolDisplayFormat.FullyQualifiedFormat
            .WithMemberOptions(SymbolDisplayMemberOptions.IncludeParameters | SymbolDisplayMemberOptions.IncludeType
                | SymbolDisplayMemberOptions.IncludeModifiers | SymbolDisplayMemberOptions.IncludeContainingType
                | SymbolDisplayMemberOptions.IncludeConstantValue)
            .WithParameterOptions(SymbolDisplayParameterOptions.IncludeType | SymbolDisplayParameterOptions.IncludeName);
        void Visit(INamespaceOrTypeSymbol container)
        {
            foreach (var member in container.GetMembers())
            {
                if (member is INamespaceSymbol ns)
                {
                    Visit(ns);
                    continue;
                }
                if (member.DeclaredAccessibility is not (Accessibility.Public or Accessibility.Protected))
                {
                    continue;
                }
                if (member is INamedTypeSymbol type)
                {
                    lines.Add($"type {type.ToDisplayString(format)} {type.TypeKind}"
                        // [StructLayout(Size = N)] is layout, not API: it may differ between architectures.
                        + string.Concat(type.GetAttributes().Where(a => a.AttributeClass?.Name != "StructLayoutAttribute")
                            .Select(a => " [" + a + "]")));
                    Visit(type);
                    continue;
                }
                string extra = member is IFieldSymbol { IsFixedSizeBuffer: true } f ? $" fixed[{f.FixedSize}]" : "";
                lines.Add($"member {member.Kind} {member.ToDisplayString(format)}{extra}");
            }
        }
        Visit(compilation.Assembly.GlobalNamespace);
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }
}
