using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;

namespace Syscalls.Generator.Tests.Roslyn;

/// <summary>The MSBuild properties the generator honours, and what it says about a project it cannot serve.</summary>
public sealed class OptionsTests
{
    private static GeneratorHarness.Run Generate(Dictionary<string, string> properties, string[]? list = null, bool allowUnsafe = true,
        bool withPackageFiles = true)
    {
        properties.TryAdd("RuntimeIdentifier", "linux-x64");
        return new GeneratorHarness
        {
            List = list ?? ["close", "epoll_event"],
            Properties = properties,
            AllowUnsafe = allowUnsafe,
            WithPackageFiles = withPackageFiles,
        }.RunOnce();
    }

    private static INamedTypeSymbol Type(GeneratorHarness.Run run, string metadataName) =>
        run.Output.GetTypeByMetadataName(metadataName) ?? throw new Xunit.Sdk.XunitException(
            $"no type {metadataName}; generated: {string.Join(", ", run.HintNames)}");

    [Fact]
    public void Defaults_AreInternalInTheSyscallsGeneratedNamespace()
    {
        var run = Generate([]);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Equal(Accessibility.Internal, Type(run, "Syscalls.Generated.Linux.LibC").DeclaredAccessibility);
        Assert.Equal(Accessibility.Internal, Type(run, "Syscalls.Generated.Linux.epoll_event").DeclaredAccessibility);
    }

    [Fact]
    public void VisibilityNamespaceClassName_AreHonoured()
    {
        var run = Generate(new() { ["SyscallsVisibility"] = "internal", ["SyscallsNamespace"] = "My.Native", ["SyscallsClassName"] = "Posix" });

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompileProblems());
        var posix = Type(run, "My.Native.Linux.Posix");
        Assert.Equal(Accessibility.Internal, posix.DeclaredAccessibility);
        Assert.Contains(posix.GetMembers("close"), m => m is IMethodSymbol);
        Assert.Equal(Accessibility.Internal, Type(run, "My.Native.Linux.epoll_event").DeclaredAccessibility);
        Assert.Null(run.Output.GetTypeByMetadataName("Syscalls.Generated.Linux.LibC"));
        Assert.Null(run.Output.GetTypeByMetadataName("My.Native.Linux.LibC"));
    }

    [Fact]
    public void VisibilityPublic_MakesEveryTypePublic()
    {
        var run = Generate(new() { ["SyscallsVisibility"] = "Public" }, ["close", "socket", "epoll_event"]);

        Assert.Empty(run.CompileProblems());
        Assert.Equal(Accessibility.Public, Type(run, "Syscalls.Generated.Linux.LibC").DeclaredAccessibility);
        Assert.Equal(Accessibility.Public, Type(run, "Syscalls.Generated.Linux.epoll_event").DeclaredAccessibility);
        Assert.Equal(Accessibility.Public, Type(run, "Syscalls.Generated.Windows.Ws2_32").DeclaredAccessibility);
    }

    [Fact]
    public void ClassNamePerLibrary_RenamesOnlyThatLibrary()
    {
        var run = Generate(new() { ["SyscallsClassName"] = "libc=Posix" }, ["close", "socket"]);

        Assert.Empty(run.CompileProblems());
        Assert.NotNull(Type(run, "Syscalls.Generated.Linux.Posix").GetMembers("close").SingleOrDefault());
        Assert.NotNull(Type(run, "Syscalls.Generated.Windows.Ws2_32").GetMembers("socket").SingleOrDefault());
    }

    [Theory]
    [InlineData("SyscallsVisibility", "protected")]
    [InlineData("SyscallsNamespace", "My..Native")]
    [InlineData("SyscallsNamespace", "class")]
    [InlineData("SyscallsClassName", "libc=2Posix")]
    public void InvalidOption_ReportsSysgen005AndGeneratesNothing(string property, string value)
    {
        var run = Generate(new() { [property] = value });

        var d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("SYSGEN005", d.Id);
        Assert.StartsWith($"{property}='{value}' is not valid", d.GetMessage());
        Assert.Empty(run.HintNames);
    }

    [Fact]
    public void UnsafeNotAllowed_ReportsSysgen010()
    {
        var run = Generate([], allowUnsafe: false);

        Assert.Equal("SYSGEN010", Assert.Single(run.GeneratorDiagnostics).Id);
        Assert.Empty(run.HintNames);
    }

    [Fact]
    public void NoFactsAmongAdditionalFiles_ReportsSysgen008()
    {
        var run = Generate([], withPackageFiles: false);

        var d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("SYSGEN008", d.Id);
        Assert.Contains("ABI facts file (*.abi)", d.GetMessage());
    }

    [Fact]
    public void MalformedFactsFile_ReportsSysgen007AtItsLine()
    {
        var run = new GeneratorHarness
        {
            List = ["linux:close"],
            Properties = { ["RuntimeIdentifier"] = "linux-x64" },
            ExtraFiles = [("/pkg/facts/broken.abi", "@format 1\n@target linux-riscv64\nbogus line here\n")],
        }.RunOnce();

        var d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("SYSGEN007", d.Id);
        Assert.StartsWith("/pkg/facts/broken.abi:", d.GetMessage());
        Assert.Equal("/pkg/facts/broken.abi", d.Location.GetLineSpan().Path);
        Assert.Contains("Syscalls.Generated.Linux.LibC.Functions.g.cs", run.HintNames); // the readable facts still serve
    }

    [Fact]
    public void ListAddedTwice_IsReadOnce()
    {
        var run = new GeneratorHarness
        {
            List = ["linux:close", "clsoe"],
            Properties = { ["RuntimeIdentifier"] = "linux-x64" },
            ExtraFiles = [(GeneratorHarness.ListPath, "linux:close\nclsoe\n")],
        }.RunOnce();

        Assert.Equal("SYSGEN001", Assert.Single(run.GeneratorDiagnostics).Id);
    }

    [Fact]
    public void NoList_GeneratesNothingAndSaysNothing()
    {
        var run = new GeneratorHarness { Properties = { ["RuntimeIdentifier"] = "linux-x64" } }.RunOnce();

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.HintNames);
    }
}
