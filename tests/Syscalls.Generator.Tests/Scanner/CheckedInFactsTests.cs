using System.IO;
using System.Linq;
using Xunit;

namespace Syscalls.Generator.Tests.Scanner;

/// <summary>headers/facts/*.abi and *.names must be exactly what the scanner produces now from the pinned headers.</summary>
public sealed class CheckedInFactsTests
{
    [Fact]
    public void CheckedInFacts_RescannedFromPinnedHeaders_AreIdentical()
    {
        string factsDir = Path.Combine(ToolHarness.RepoRoot, "headers", "facts");
        var checkedIn = Directory.Exists(factsDir)
            ? Directory.GetFiles(factsDir, "*.abi").Concat(Directory.GetFiles(factsDir, "*.names")).OrderBy(f => f, System.StringComparer.Ordinal).ToList()
            : [];
        Assert.True(checkedIn.Count > 0, "headers/facts holds no .abi files; run the scanner (scan --all) to create them");
        string outDir = ToolHarness.TempDir();

        var r = ToolHarness.Run("scan", "--all", "--out", outDir);

        Assert.True(r.ExitCode == 0, r.ToString());
        var produced = Directory.GetFiles(outDir, "*.abi").Concat(Directory.GetFiles(outDir, "*.names")).Select(Path.GetFileName)
            .OrderBy(f => f, System.StringComparer.Ordinal);
        Assert.Equal(checkedIn.Select(Path.GetFileName), produced);
        foreach (var file in checkedIn)
        {
            string fresh = File.ReadAllText(Path.Combine(outDir, Path.GetFileName(file)));
            Assert.True(File.ReadAllText(file) == fresh,
                $"{Path.GetFileName(file)} differs from a fresh scan; regenerate headers/facts (scan --all) and review the diff");
        }
    }
}
