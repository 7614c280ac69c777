using System;
using System.IO;
using System.Linq;
using Syscalls.Generator.Emitter;
using Syscalls.Generator.Facts;
using Syscalls.Generator.Tests.Scanner;
using Xunit;

namespace Syscalls.Generator.Tests.Emitter;

/// <summary>
/// A maintainer's next regeneration: the newest pinned kernel headers (7.2, sid) scan, emit and compile for both Linux
/// RIDs with one public API. 7.2 brings what 6.12 has not: io_uring_task_restriction holds a zero-size
/// anonymous record (<c>__DECLARE_FLEX_ARRAY</c>), and io_uring_sqe gains fields inside its unions.
/// </summary>
public sealed class NewerKernelEmitTests
{
    [Fact]
    public void Regen_Kernel72_EmitsAndCompilesForBothLinuxRids()
    {
        string outDir = ToolHarness.TempDir();
        var scan = ToolHarness.Run("scan", "--target", "linux-x64", "--target", "linux-arm64", "--kernel", "7.2", "--out", outDir);
        Assert.True(scan.ExitCode == 0, scan.ToString());
        string familiesDir = Path.Combine(ToolHarness.RepoRoot, "headers", "families");
        var input = new EmitInput(Directory.GetFiles(outDir, "*.abi").OrderBy(f => f, StringComparer.Ordinal).Select(FactsReader.ReadFile).ToList())
        {
            Families = Directory.GetFiles(familiesDir, "*.api").OrderBy(f => f, StringComparer.Ordinal).Select(f => ApiFamilyReader.ReadFile(f)).ToList(),
        };
        Assert.Contains("struct io_uring_task_restriction__anon1 size=0", File.ReadAllText(Path.Combine(outDir, "linux-x64.abi")));

        string? surface = null;
        foreach (string rid in new[] { "linux-x64", "linux-arm64" })
        {
            var result = RoslynCompiler.EmitStub(input, rid);
            Assert.Empty(RoslynCompiler.Problems(RoslynCompiler.Compile(result, "Kernel72_" + rid.Replace('-', '_'))));
            Assert.Contains("omitted", result.Manifest); // the zero-size record is left out and listed
            surface ??= result.ApiSurface;
            Assert.Equal(surface, result.ApiSurface);
        }
        Assert.Contains("io_uring_task_restriction", surface);
    }
}
