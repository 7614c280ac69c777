using System.IO;
using System.Linq;
using Syscalls.Generator.Facts;
using Syscalls.Generator.Tests.Roslyn;
using Xunit;

namespace Syscalls.Generator.Tests.Facts;

/// <summary>The declared-names files: their format round-trips, mistakes name file and line, the checked-in ones hold what the issue asked about.</summary>
public sealed class DeclaredNamesTests
{
    [Fact]
    public void Write_ThenRead_SameNames()
    {
        var names = new DeclaredNames("linux-x64", ["sys/socket.h", "sys/sendfile.h"],
        [
            new("IP_TOS", DeclaredKind.Macro, "bits/in.h", "netinet/in.h"),
            new("sendfile", DeclaredKind.Func, "sys/sendfile.h", "sys/sendfile.h"),
            new("sockaddr", DeclaredKind.Struct, "bits/socket.h", "sys/socket.h"),
        ]);

        var back = DeclaredNames.Read(names.Write(), "x.names");

        Assert.Equal("linux-x64", back.Target);
        Assert.Equal(names.Headers, back.Headers);
        Assert.Equal(names.Names, back.Names);
        Assert.Equal("const", back.Find("IP_TOS")!.FamilyKey);
        Assert.Null(back.Find("nope"));
    }

    [Theory]
    [InlineData("@format 1\n@target t\nwidget x file=a.h\n", 3, "expected KIND NAME")]
    [InlineData("@format 1\n@target t\nfunc x\n", 3, "expected KIND NAME")]
    [InlineData("@format 1\n@target t\nfunc x via=a.h\n", 3, "no file=")]
    [InlineData("@format 1\n@target t\nfunc x size=4\n", 3, "unknown key")]
    [InlineData("@format 2\n", 1, "only '@format 1'")]
    [InlineData("@format 1\nfunc x file=a.h\n", 1, "no '@target' line")]
    public void Read_Malformed_NamesFileAndLine(string text, int line, string reason)
    {
        var e = Assert.Throws<FactsFormatException>(() => DeclaredNames.Read(text, "x.names"));

        Assert.Equal(line, e.Line);
        Assert.Contains(reason, e.Message);
    }

    [Theory]
    [InlineData("linux-x64", "sendfile", DeclaredKind.Func, "sys/sendfile.h", "sys/sendfile.h")]
    [InlineData("linux-x64", "timerfd_create", DeclaredKind.Func, "sys/timerfd.h", "sys/timerfd.h")]
    [InlineData("linux-arm64", "SO_REUSEPORT", DeclaredKind.Macro, "asm-generic/socket.h", "sys/socket.h")]
    [InlineData("osx-arm64", "sendfile", DeclaredKind.Func, "sys/socket.h", "sys/socket.h")]
    [InlineData("win-x64", "TransmitFile", DeclaredKind.Func, "mswsock.h", "mswsock.h")]
    public void CheckedIn_NamesFiles_HoldWhatTheHeadersDeclare(string target, string name, DeclaredKind kind, string file, string via)
    {
        var names = DeclaredNames.Read(File.ReadAllText(Path.Combine(GeneratorHarness.RepoRoot, "headers", "facts", target + ".names")));

        Assert.Equal(new DeclaredName(name, kind, file, via), names.Find(name));
        Assert.DoesNotContain(names.Names, n => n.Name.StartsWith('_'));
        Assert.Equal(names.Names.OrderBy(n => n.Name, System.StringComparer.Ordinal).Select(n => n.Name), names.Names.Select(n => n.Name));
    }
}
