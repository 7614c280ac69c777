using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Syscalls.Generator.Roslyn;
using Xunit;

namespace Syscalls.Generator.Tests.Roslyn;

/// <summary>
/// The generator is incremental (dotnet/runtime LibraryImportGenerator.UnitTests/IncrementalGenerationTests.cs):
/// after an edit that does not touch its inputs, every tracked step reports Cached or Unchanged, so nothing is
/// parsed, resolved or emitted again.
/// </summary>
public sealed class IncrementalGenerationTests
{
    private static GeneratorHarness Consumer() => new()
    {
        List = ["epoll_*", "socket", "EPOLLIN"],
        Properties = { ["RuntimeIdentifier"] = "linux-x64" },
        Sources = ["// consumer code\nnamespace App;\npublic static class Program { public static int Main() => 0; }\n"],
    };

    private static void AssertNothingRegenerated(GeneratorRunResult result)
    {
        foreach (var name in TrackingNames.All)
        {
            Assert.True(result.TrackedSteps.ContainsKey(name), $"step {name} was not tracked");
            foreach (var step in result.TrackedSteps[name])
            {
                foreach (var (_, reason) in step.Outputs)
                {
                    Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
                        $"step {name} output was {reason}");
                }
            }
        }
        Assert.All(result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    private static IncrementalStepRunReason Reason(GeneratorRunResult result, string step) =>
        result.TrackedSteps[step].Single().Outputs.Single().Reason;

    [Fact]
    public void Generator_NewUnrelatedSyntaxTree_RegeneratesNothing()
    {
        var consumer = Consumer();
        var compilation = consumer.Compilation();
        var driver = consumer.Driver().RunGenerators(compilation, TestContext.Current.CancellationToken);
        Assert.NotEmpty(driver.GetRunResult().Results.Single().GeneratedSources);

        var edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText(
            "namespace App; internal static class Added { }", GeneratorHarness.ParseOptions, "/consumer/Added.cs",
            cancellationToken: TestContext.Current.CancellationToken));
        driver = driver.RunGenerators(edited, TestContext.Current.CancellationToken);

        AssertNothingRegenerated(driver.GetRunResult().Results.Single());
    }

    [Fact]
    public void Generator_CommentEditInSource_RegeneratesNothing()
    {
        var consumer = Consumer();
        var compilation = consumer.Compilation();
        var driver = consumer.Driver().RunGenerators(compilation, TestContext.Current.CancellationToken);

        var tree = compilation.SyntaxTrees.Single();
        var newTree = tree.WithChangedText(tree.GetText(TestContext.Current.CancellationToken).Replace(0, "// consumer code".Length, "// consumer code, edited"));
        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(tree, newTree), TestContext.Current.CancellationToken);

        AssertNothingRegenerated(driver.GetRunResult().Results.Single());
    }

    [Fact]
    public void Generator_CommentAddedAtTopOfList_DoesNotEmitAgain()
    {
        var consumer = Consumer();
        var compilation = consumer.Compilation();
        var driver = consumer.Driver().RunGenerators(compilation, TestContext.Current.CancellationToken);

        // Every entry moves one line down: the diagnostics' locations change, what is emitted does not.
        var edited = new GeneratorHarness.MemoryText(GeneratorHarness.ListPath, "# epoll for the server\nepoll_*\nsocket\nEPOLLIN\n");
        driver = driver.ReplaceAdditionalText(consumer.ListText!, edited).RunGenerators(compilation, TestContext.Current.CancellationToken);

        var result = driver.GetRunResult().Results.Single();
        Assert.Equal(IncrementalStepRunReason.Modified, Reason(result, TrackingNames.ListFiles));
        Assert.Equal(IncrementalStepRunReason.Modified, Reason(result, TrackingNames.Selection));
        Assert.Equal(IncrementalStepRunReason.Unchanged, Reason(result, TrackingNames.Request));
        Assert.Equal(IncrementalStepRunReason.Cached, Reason(result, TrackingNames.Emit));
        Assert.All(result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            o => Assert.NotEqual(IncrementalStepRunReason.New, o.Reason));
    }

    [Fact]
    public void Generator_NameAddedToList_EmitsAgain()
    {
        var consumer = Consumer();
        var compilation = consumer.Compilation();
        var driver = consumer.Driver().RunGenerators(compilation, TestContext.Current.CancellationToken);

        var edited = new GeneratorHarness.MemoryText(GeneratorHarness.ListPath, "epoll_*\nsocket\nEPOLLIN\nclose\n");
        driver = driver.ReplaceAdditionalText(consumer.ListText!, edited).RunGenerators(compilation, TestContext.Current.CancellationToken);

        var result = driver.GetRunResult().Results.Single();
        Assert.Equal(IncrementalStepRunReason.Modified, Reason(result, TrackingNames.Emit));
        Assert.Equal(IncrementalStepRunReason.Cached, Reason(result, TrackingNames.Catalog));
        Assert.Contains("public static int close(", result.GeneratedSources.Single(s => s.HintName == "Syscalls.Generated.Linux.LibC.Functions.g.cs").SourceText.ToString());
    }

    [Fact]
    public void Generator_OptionsUnchangedButNewProvider_DoesNotEmitAgain()
    {
        var consumer = Consumer();
        var compilation = consumer.Compilation();
        var driver = consumer.Driver().RunGenerators(compilation, TestContext.Current.CancellationToken);

        // An IDE re-creates the options provider on project changes; equal values must not regenerate.
        var again = new GeneratorHarness { Properties = new Dictionary<string, string>(consumer.Properties) };
        driver = driver.WithUpdatedAnalyzerConfigOptions(again.OptionsProvider()).RunGenerators(compilation, TestContext.Current.CancellationToken);

        var result = driver.GetRunResult().Results.Single();
        Assert.Equal(IncrementalStepRunReason.Unchanged, Reason(result, TrackingNames.Options));
        Assert.Equal(IncrementalStepRunReason.Cached, Reason(result, TrackingNames.Emit));
    }
}
