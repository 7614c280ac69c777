using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace Syscalls.Runtime.Tests;

/// <summary>The README's runtime examples compile as they stand (each a top-level program against Syscalls.Runtime),
/// with no error and no warning, so the README cannot drift from the API.</summary>
public class ReadmeExampleTests
{
    /// <summary>What the SDK adds to a new console project (ImplicitUsings).</summary>
    private const string ImplicitUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;

    [Theory]
    [InlineData("async-server")]
    [InlineData("async-client")]
    public void ReadmeExample_CompilesWithoutWarnings(string marker)
    {
        string readme = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "README.md"));
        Match m = Regex.Match(readme, $@"<!-- readme:{marker} -->\s*```csharp\n(.*?)```", RegexOptions.Singleline);
        Assert.True(m.Success, $"README.md has no example marked readme:{marker}");
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Append(typeof(EventLoop).Assembly.Location)
            .Select(p => MetadataReference.CreateFromFile(p));
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var compilation = CSharpCompilation.Create(marker,
            [CSharpSyntaxTree.ParseText(m.Groups[1].Value, parse, cancellationToken: TestContext.Current.CancellationToken), CSharpSyntaxTree.ParseText(ImplicitUsings, parse, cancellationToken: TestContext.Current.CancellationToken)],
            references,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        Diagnostic[] problems = compilation.GetDiagnostics(TestContext.Current.CancellationToken).Where(d => d.Severity >= DiagnosticSeverity.Warning).ToArray();
        Assert.True(problems.Length == 0, string.Join("\n", problems.Select(d => d.ToString())));
    }
}
