using System;
using System.IO;
using System.Linq;
using Xunit;

namespace Syscalls.Generator.Tests.Scanner;

/// <summary>Every kind of bad input fails with a message naming file, line and symbol, a non-zero exit, and no output.</summary>
public sealed class BadInputTests
{
    private static string ErrorFixture(string name) => Path.Combine(ToolHarness.FixturesDir, "Errors", name);

    /// <summary>A families folder holding one API list, and an empty output folder.</summary>
    private static (string Families, string Out) Family(string name, string text)
    {
        string families = ToolHarness.TempDir();
        File.WriteAllText(Path.Combine(families, name + ".api"), text);
        return (families, ToolHarness.TempDir());
    }

    private static void AssertNoOutput(string outDir) => Assert.Empty(Directory.GetFiles(outDir));

    [Fact]
    public void Scan_HeaderDoesNotExist_NamesApiLineAndHeader()
    {
        var (families, outDir) = Family("ghost", "family ghost\ntargets linux-x64\nheader sys/no_such_header.h\nfunc socket\n");

        var r = ToolHarness.Run("scan", "--target", "linux-x64", "--families", families, "--out", outDir);

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("ghost.api:3:", r.Stderr);
        Assert.Contains("sys/no_such_header.h", r.Stderr);
        Assert.Contains("not found", r.Stderr);
        AssertNoOutput(outDir);
    }

    [Fact]
    public void ScanFile_SyntaxError_NamesHeaderAndLine()
    {
        string outDir = ToolHarness.TempDir();

        var r = ToolHarness.Run("scan-file", ErrorFixture("syntax_error.h"), "--target", "linux-x64", "--out", outDir);

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("syntax_error.h:3:", r.Stderr);
        Assert.Contains("expected ';'", r.Stderr);
        AssertNoOutput(outDir);
    }

    [Fact]
    public void Scan_UnknownTarget_UsageErrorListsKnownTargets()
    {
        string outDir = ToolHarness.TempDir();

        var r = ToolHarness.Run("scan", "--target", "linux-sparc", "--out", outDir);

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("unknown target 'linux-sparc'", r.Stderr);
        Assert.Contains("linux-x64", r.Stderr);
        AssertNoOutput(outDir);
    }

    [Fact]
    public void Scan_UndeclaredSymbol_NamesApiFileLineAndSymbol()
    {
        var (families, outDir) = Family("ghost", "family ghost\ntargets linux-x64\nheader sys/socket.h\n# comment\nfunc socket not_a_function\n");

        var r = ToolHarness.Run("scan", "--target", "linux-x64", "--families", families, "--out", outDir);

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("ghost.api:5:", r.Stderr);
        Assert.Contains("func not_a_function is not declared", r.Stderr);
        AssertNoOutput(outDir);
    }

    [Fact]
    public void Scan_PatternMatchesNothing_NamesApiFileLineAndPattern()
    {
        var (families, outDir) = Family("ghost", "family ghost\ntargets linux-x64\nheader sys/socket.h\nconst NO_SUCH_PREFIX_*\n");

        var r = ToolHarness.Run("scan", "--target", "linux-x64", "--families", families, "--out", outDir);

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("ghost.api:4:", r.Stderr);
        Assert.Contains("NO_SUCH_PREFIX_*", r.Stderr);
        AssertNoOutput(outDir);
    }

    [Fact]
    public void ScanFile_MacroNotConstant_NamesHeaderLineAndMacro()
    {
        string outDir = ToolHarness.TempDir();

        var r = ToolHarness.Run("scan-file", ErrorFixture("bad_macro.h"), "--target", "linux-x64", "--out", outDir);

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("bad_macro.h:4:", r.Stderr);
        Assert.Contains("macro NOT_CONSTANT cannot be evaluated", r.Stderr);
        Assert.DoesNotContain("GOOD", r.Stderr);
        AssertNoOutput(outDir);
    }

    [Fact]
    public void ScanFile_RecordAlignedBeyondEight_NamesHeaderLineAndRecord()
    {
        string outDir = ToolHarness.TempDir();

        var r = ToolHarness.Run("scan-file", ErrorFixture("over_aligned.h"), "--target", "linux-x64", "--out", outDir);

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("over_aligned.h:2:", r.Stderr);
        Assert.Contains("struct over_aligned has alignment 16", r.Stderr);
        AssertNoOutput(outDir);
    }

    [Fact]
    public void Scan_OneTargetFails_PreviousFactsUntouchedAndNothingWritten()
    {
        var (families, outDir) = Family("mixed",
            "family mixed\ntargets linux-x64 osx-arm64\nheader sys/socket.h\nfunc socket\nfunc.osx-arm64 only_missing_on_macos\n");
        string old = Path.Combine(outDir, "linux-x64.abi");
        File.WriteAllText(old, "previous facts\n");

        var r = ToolHarness.Run("scan", "--target", "linux-x64", "--target", "osx-arm64", "--families", families, "--out", outDir);

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("mixed.api:5:", r.Stderr);
        Assert.Contains("only_missing_on_macos", r.Stderr);
        Assert.Equal("previous facts\n", File.ReadAllText(old));
        Assert.Equal(["linux-x64.abi"], Directory.GetFiles(outDir).Select(Path.GetFileName));
    }

    [Fact]
    public void Run_UnknownCommand_ExitsWithUsage()
    {
        var r = ToolHarness.Run("frobnicate");

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("unknown command 'frobnicate'", r.Stderr);
    }

    [Fact]
    public void Diff_MissingFile_InputError()
    {
        var r = ToolHarness.Run("diff", "/nonexistent/a.abi", "/nonexistent/b.abi");

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("/nonexistent/a.abi", r.Stderr);
    }
}
