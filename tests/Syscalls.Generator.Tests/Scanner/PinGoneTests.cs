using System.IO;
using Syscalls.Generator.Tool.Cli;
using Xunit;

namespace Syscalls.Generator.Tests.Scanner;

/// <summary>eng/headers.sh's exit 3 (a pinned package vanished from the mirror) reaches the caller unchanged.</summary>
public sealed class PinGoneTests
{
    [Fact]
    public void Scan_HeadersScriptExitsThree_ExitsThreeWithItsMessageAndWritesNothing()
    {
        // A throw-away repository whose eng/headers.sh behaves as the real one does when a pin is gone.
        string repo = ToolHarness.ThrowawayRepo("default-kernel 6.12\n",
            "echo 'headers: pinned linux-libc-dev 6.12.117-1 (all) is no longer served by the mirror; run ./build.sh regen to move the pin' >&2\nexit 3\n");
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        int code = Program.Run(["scan", "--target", "linux-x64", "--repo", repo], stdout, stderr);

        Assert.Equal(3, code);
        Assert.Contains("no longer served by the mirror", stderr.ToString());
        Assert.False(Directory.Exists(Path.Combine(repo, "headers", "facts")));
    }
}
