using System.IO;
using Syscalls.Generator.Tool.Cli;
using Xunit;

namespace Syscalls.Generator.Tests.Scanner;

/// <summary><c>regen</c> without <c>--kernel</c> uses the kernel the checked-in facts use (pins.txt default-kernel).</summary>
public sealed class RegenDefaultKernelTests
{
    /// <summary>A throw-away repository whose eng/headers.sh reports how it was called, then fails as a gone pin does.</summary>
    private static string Repo() => ToolHarness.ThrowawayRepo("kernel 6.1 bookworm\ndefault-kernel 6.1\n",
        "case \"$1\" in clang) echo /nonexistent ;; *) echo \"called: $*\" >&2; exit 3 ;; esac\n");

    [Fact]
    public void Regen_NoKernelOption_FetchesTheDefaultKernel()
    {
        var stderr = new StringWriter();

        int code = Program.Run(["regen", "--repo", Repo()], new StringWriter(), stderr);

        Assert.True(code == 3, stderr.ToString());
        Assert.Contains("called: fetch linux-x64 --kernel 6.1", stderr.ToString());
    }

    [Fact]
    public void Regen_MovePinsWithoutKernel_MovesTheDefaultKernelsPin()
    {
        var stderr = new StringWriter();

        int code = Program.Run(["regen", "--move-pins", "--repo", Repo()], new StringWriter(), stderr);

        Assert.True(code == 3, stderr.ToString());
        Assert.Contains("called: pin --kernel 6.1", stderr.ToString());
    }
}
