using System.IO;
using System.Linq;
using Syscalls.Generator.Facts;
using Xunit;

namespace Syscalls.Generator.Tests.Scanner;

/// <summary>
/// rust-bindgen style golden tests: each <c>Fixtures/Scanner/&lt;stem&gt;.h</c> names its targets on its first line and
/// is scanned with everything it declares as the API list; the facts must equal <c>&lt;stem&gt;.&lt;target&gt;.abi</c>.
/// <c>SYSCALLS_UPDATE_GOLDEN=1</c> rewrites the expectations instead.
/// </summary>
public sealed class GoldenFixtureTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var header in Directory.GetFiles(ToolHarness.FixturesDir, "*.h").OrderBy(h => h, System.StringComparer.Ordinal))
        {
            foreach (var target in ToolHarness.FixtureTargets(header))
            {
                data.Add(Path.GetFileNameWithoutExtension(header), target);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ScanFile_Fixture_MatchesGoldenFacts(string stem, string target)
    {
        string header = Path.Combine(ToolHarness.FixturesDir, stem + ".h");
        string expectedPath = Path.Combine(ToolHarness.FixturesDir, $"{stem}.{target}.abi");

        var result = ToolHarness.Run("scan-file", header, "--target", target);

        Assert.True(result.ExitCode == 0, result.ToString());
        string actual = ToolHarness.WithoutPackages(result.Stdout);
        if (ToolHarness.UpdateGolden)
        {
            File.WriteAllText(expectedPath, actual);
            return;
        }
        Assert.True(File.Exists(expectedPath), $"{expectedPath} is missing; run the tests with SYSCALLS_UPDATE_GOLDEN=1 to create it");
        Assert.Equal(File.ReadAllText(expectedPath), actual);
    }

    [Fact]
    public void EpollEvent_PerTarget_PackedOnX64NaturalOnArm64()
    {
        var x64 = Scan("epoll_event", "linux-x64").FindRecord("epoll_event")!;
        var arm64 = Scan("epoll_event", "linux-arm64").FindRecord("epoll_event")!;

        Assert.Equal((12L, true, 4L), (x64.Size, x64.IsPacked, x64.Fields.Single(f => f.Name == "data").Offset));
        Assert.Equal((16L, false, 8L), (arm64.Size, arm64.IsPacked, arm64.Fields.Single(f => f.Name == "data").Offset));
    }

    [Fact]
    public void SockaddrIn_PerTarget_LinuxTwoByteFamilyMacOsLenAndOneByteFamily()
    {
        var linux = Scan("sockaddr_in", "linux-x64").FindRecord("sockaddr_in")!;
        var mac = Scan("sockaddr_in", "osx-arm64").FindRecord("sockaddr_in")!;

        Assert.Equal(["sin_family", "sin_port", "sin_addr", "sin_zero"], linux.Fields.Select(f => f.Name));
        Assert.Equal((0L, 2L), (linux.Fields[0].Offset, linux.Fields[0].Size));
        Assert.Equal(["sin_len", "sin_family", "sin_port", "sin_addr", "sin_zero"], mac.Fields.Select(f => f.Name));
        Assert.Equal((1L, 1L), (mac.Fields[1].Offset, mac.Fields[1].Size));
    }

    private static AbiFacts Scan(string stem, string target)
    {
        var result = ToolHarness.Run("scan-file", Path.Combine(ToolHarness.FixturesDir, stem + ".h"), "--target", target);
        Assert.True(result.ExitCode == 0, result.ToString());
        return FactsReader.Read(result.Stdout, $"{stem}.{target}.abi");
    }
}
