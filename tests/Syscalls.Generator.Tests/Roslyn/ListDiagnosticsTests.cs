using System.IO;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Syscalls.Generator.Roslyn;
using Xunit;

namespace Syscalls.Generator.Tests.Roslyn;

/// <summary>What the consumer is told about its list: stable IDs, the line of the entry, a did-you-mean.</summary>
public sealed class ListDiagnosticsTests
{
    private static GeneratorHarness.Run Generate(params string[] list) => new GeneratorHarness
    {
        List = list,
        Properties = { ["RuntimeIdentifier"] = "linux-x64" },
    }.RunOnce();

    private static Diagnostic Single(GeneratorHarness.Run run, string id)
    {
        Assert.True(run.GeneratorDiagnostics.Length == 1, run.DiagnosticText);
        var d = run.GeneratorDiagnostics[0];
        Assert.Equal(id, d.Id);
        return d;
    }

    [Fact]
    public void UnknownName_Misspelled_ReportsSysgen001WithDidYouMean()
    {
        var run = Generate("socket", "epoll_wiat");

        var d = Single(run, "SYSGEN001");
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Equal("'epoll_wiat' is not declared by the ABI facts. Did you mean 'epoll_wait'?", d.GetMessage());
        var span = d.Location.GetLineSpan();
        Assert.Equal(GeneratorHarness.ListPath, span.Path);
        Assert.Equal(1, span.StartLinePosition.Line);
        Assert.Equal((0, 10), (span.StartLinePosition.Character, span.EndLinePosition.Character));
    }

    [Fact]
    public void UnknownName_WrongCase_SuggestsTheCName()
    {
        var d = Single(Generate("EpollIn"), "SYSGEN001");

        Assert.EndsWith("Did you mean 'EPOLLIN'?", d.GetMessage());
    }

    [Fact]
    public void UnknownName_NothingClose_HasNoSuggestion()
    {
        var d = Single(Generate("zzqx_frobnicate"), "SYSGEN001");

        Assert.DoesNotContain("Did you mean", d.GetMessage());
    }

    [Fact]
    public void UnknownName_OnlyOnAnotherOs_SaysWhere()
    {
        var d = Single(Generate("linux:kqueue"), "SYSGEN001");

        Assert.Equal("'kqueue' is not declared by the ABI facts for linux; it exists for darwin", d.GetMessage());
    }

    [Fact]
    public void UnknownName_OtherEntries_AreStillGenerated()
    {
        var run = Generate("close", "clsoe");

        Assert.Equal("SYSGEN001", Single(run, "SYSGEN001").Id);
        Assert.Contains("public static int close(", run.Source("Syscalls.Generated.Linux.LibC.Functions.g.cs"));
    }

    [Fact]
    public void Pattern_MatchingNothing_ReportsSysgen002WithDidYouMean()
    {
        var d = Single(Generate("linux:epol_*"), "SYSGEN002");

        Assert.Equal(DiagnosticSeverity.Warning, d.Severity);
        Assert.Equal("'linux:epol_*' matches no name for linux. Did you mean 'epoll_*'?", d.GetMessage());
    }

    [Theory]
    [InlineData("epoll-wait", "'-' cannot appear in a C name")]
    [InlineData("*", "a pattern needs a prefix")]
    [InlineData("EPOLL*IN", "only a trailing * is a pattern")]
    [InlineData("bsd:socket", "'bsd' before ':' is not an OS")]
    public void InvalidEntry_ReportsSysgen009(string entry, string why)
    {
        var d = Single(Generate(entry), "SYSGEN009");

        Assert.Contains(why, d.GetMessage());
    }

    [Fact]
    public void ScalarTypedef_ReportsSysgen011AndGeneratesNothing()
    {
        var run = Generate("linux:socklen_t");

        var d = Single(run, "SYSGEN011");
        Assert.Contains("'socklen_t' is a typedef (u32", d.GetMessage());
        Assert.Empty(run.HintNames);
    }

    [Fact]
    public void Comments_AndSeveralNamesPerLine_AreRead()
    {
        var run = Generate("# the server's calls", "linux:close linux:socket   # two on one line", "", "   # indented comment");

        Assert.Empty(run.GeneratorDiagnostics);
        string functions = run.Source("Syscalls.Generated.Linux.LibC.Functions.g.cs");
        Assert.Contains("public static int close(", functions);
        Assert.Contains("public static int socket(", functions);
    }

    [Fact]
    public void Descriptors_Every_IsTrackedInTheReleaseFile()
    {
        string unshipped = File.ReadAllText(Path.Combine(GeneratorHarness.RepoRoot,
            "generator", "Syscalls.Generator", "Roslyn", "AnalyzerReleases.Unshipped.md"));
        var descriptors = typeof(SyscallsGenerator).Assembly.GetType("Syscalls.Generator.Roslyn.Descriptors")!
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => f.GetValue(null)).OfType<DiagnosticDescriptor>().ToList();

        Assert.Equal(13, descriptors.Count);
        Assert.Equal(descriptors.Count, descriptors.Select(d => d.Id).Distinct().Count());
        foreach (var d in descriptors)
        {
            Assert.Matches("^SYSGEN0[0-9][0-9]$", d.Id);
            Assert.Contains($"{d.Id} | Syscalls.Generator | {d.DefaultSeverity} |", unshipped);
        }
    }
}
