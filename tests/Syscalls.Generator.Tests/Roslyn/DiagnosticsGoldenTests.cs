using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Syscalls.Generator.Tests.Emitter;
using Xunit;

namespace Syscalls.Generator.Tests.Roslyn;

/// <summary>
/// Golden diagnostics of the Roslyn host: <c>Fixtures/Diagnostics/&lt;stem&gt;.txt</c> is a consumer's Syscalls.txt
/// whose first line holds the MSBuild properties and references (<c># generator: RuntimeIdentifier=linux-x64
/// reference=Syscalls.Bindings</c>); <c>&lt;stem&gt;.diagnostics</c> beside it is every diagnostic the generator reports,
/// one a line (ID, severity, list line:column, message), and whether it generated anything.
/// <c>SYSCALLS_UPDATE_GOLDEN=1</c> rewrites the expectations.
/// </summary>
public sealed class DiagnosticsGoldenTests
{
    private static string Directory => Path.Combine(GeneratorHarness.RepoRoot, "tests", "Syscalls.Generator.Tests", "Fixtures", "Diagnostics");

    public static TheoryData<string> Stems() =>
        new(System.IO.Directory.GetFiles(Directory, "*.txt").Select(Path.GetFileNameWithoutExtension).OrderBy(s => s, StringComparer.Ordinal)!);

    [Theory]
    [MemberData(nameof(Stems))]
    public void Generator_FixtureList_ReportsTheGoldenDiagnostics(string stem)
    {
        var lines = File.ReadAllLines(Path.Combine(Directory, stem + ".txt"));
        const string marker = "# generator:";
        Assert.StartsWith(marker, lines[0]);
        var properties = new Dictionary<string, string>();
        var references = new List<string>();
        foreach (var kv in lines[0].Substring(marker.Length).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(w => w.Split('=', 2)))
        {
            if (kv[0] == "reference")
            {
                references.Add(kv[1]);
            }
            else
            {
                properties[kv[0]] = kv[1];
            }
        }
        var run = new GeneratorHarness { List = lines, Properties = properties, ReferencedAssemblies = [.. references] }.RunOnce();

        var s = new StringBuilder();
        foreach (var d in run.GeneratorDiagnostics.OrderBy(d => d.Location.GetLineSpan().StartLinePosition.Line).ThenBy(d => d.Id, StringComparer.Ordinal))
        {
            var span = d.Location.GetLineSpan();
            string at = d.Location == Location.None ? "-" : $"{span.StartLinePosition.Line + 1}:{span.StartLinePosition.Character + 1}";
            s.Append(d.Id).Append(' ').Append(d.Severity.ToString().ToLowerInvariant()).Append(' ').Append(at).Append(' ')
                .Append(d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
        }
        s.Append("generated: ").Append(string.Join(" ", run.HintNames.OrderBy(h => h, StringComparer.Ordinal))).Append('\n');
        EmitterFixture.AssertGolden(Path.Combine("..", "Diagnostics", stem + ".diagnostics"), s.ToString());
    }
}
