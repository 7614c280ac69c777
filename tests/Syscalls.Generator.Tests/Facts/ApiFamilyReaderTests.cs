using System.Linq;
using Syscalls.Generator.Facts;
using Xunit;

namespace Syscalls.Generator.Tests.Facts;

public sealed class ApiFamilyReaderTests
{
    [Fact]
    public void Read_NarrowedLinesPatternsAndExclusions_ResolvePerTarget()
    {
        var family = ApiFamilyReader.Read("""
            # comment
            family sockets
            targets linux-x64 osx-arm64
            header sys/socket.h
            func socket bind   # trailing comment
            func.linux accept4
            const SO_* !SO_DETACH* MSG_NOSIGNAL
            lib libc
            errno errno
            """, "sockets.api");

        Assert.Equal(["linux-x64", "osx-arm64"], family.Targets);
        Assert.Equal(["socket", "bind", "accept4"], family.ItemsFor("linux-x64", "linux").Where(i => i.Kind == ApiItemKind.Func).Select(i => i.Name));
        Assert.Equal(["socket", "bind"], family.ItemsFor("osx-arm64", "darwin").Where(i => i.Kind == ApiItemKind.Func).Select(i => i.Name));
        var exclusion = family.Items.Single(i => i.IsExclusion);
        Assert.True(exclusion.Matches("SO_DETACH_FILTER") && !exclusion.Matches("SO_REUSEADDR"));
        Assert.Equal(7, family.Items.Single(i => i.Name == "MSG_NOSIGNAL").Line);
        Assert.Equal("libc", family.LibFor("linux-x64", "linux"));
    }

    [Fact]
    public void Read_FastAndNoErrorLines_AreAskedPerTarget()
    {
        var family = ApiFamilyReader.Read("""
            family time
            func clock_gettime getppid
            func.linux __errno_location
            fast clock_gettime getppid
            fast.linux __errno_location
            noerror getppid
            """, "time.api");

        Assert.True(family.Lists(ApiItemKind.Fast, "clock_gettime", "osx-arm64", "darwin"));
        Assert.True(family.Lists(ApiItemKind.Fast, "__errno_location", "linux-x64", "linux"));
        Assert.False(family.Lists(ApiItemKind.Fast, "__errno_location", "osx-arm64", "darwin"));
        Assert.True(family.Lists(ApiItemKind.NoError, "getppid", "linux-x64", "linux"));
        Assert.False(family.Lists(ApiItemKind.NoError, "clock_gettime", "linux-x64", "linux"));
    }

    [Fact]
    public void Read_ErrorsLines_MatchNamesAndPrefixesPerTarget()
    {
        var family = ApiFamilyReader.Read("""
            family errno
            const E*
            errors E*
            errors.windows WSA_IO_PENDING
            """, "errno.api");

        Assert.True(family.IsError("EADDRINUSE", "linux-x64", "linux"));
        Assert.False(family.IsError("WSA_IO_PENDING", "linux-x64", "linux"));
        Assert.True(family.IsError("WSA_IO_PENDING", "win-x64", "windows"));
        Assert.False(family.IsError("AF_INET", "win-x64", "windows"));
    }

    [Fact]
    public void Read_OverloadAndPageLines_AreAskedPerTarget()
    {
        var family = ApiFamilyReader.Read("""
            family sockets
            func recv bind clock_gettime __errno_location
            span recv:2/3
            in bind:addr/addrlen
            page 2
            page.darwin 3 clock_gettime
            page.linux errno(3) __errno_location
            """, "sockets.api");

        Assert.Equal(["recv:2/3"], family.OverloadsOf("recv", "linux-x64", "linux").Select(i => i.Name));
        Assert.Equal(ApiItemKind.In, family.OverloadsOf("bind", "osx-arm64", "darwin").Single().Kind);
        Assert.Equal("bind", family.OverloadsOf("bind", "osx-arm64", "darwin").Single().Function);
        Assert.Equal("2", family.PageOf("clock_gettime", "linux-x64", "linux")!.Argument);
        Assert.Equal("3", family.PageOf("clock_gettime", "osx-arm64", "darwin")!.Argument);
        Assert.Equal("errno(3)", family.PageOf("__errno_location", "linux-x64", "linux")!.Argument);
        Assert.Equal("2", family.PageOf("recv", "osx-arm64", "darwin")!.Argument);
    }

    [Theory]
    [InlineData("family x\nwidget y\n", 2, "unknown key 'widget'")]
    [InlineData("family x\nerrors !E*\n", 2, "exclusions")]
    [InlineData("family x\nfunc recv\nspan recv:2\n", 3, "expected FUNC:PTR/LEN")]
    [InlineData("family x\nfunc recv\nspan recv\n", 3, "expected FUNC:PTR/LEN")]
    [InlineData("family x\nfunc bind\nin bind:2/3/4\n", 3, "expected FUNC:PTR/LEN or FUNC:PTR")]
    [InlineData("family x\nfunc recv\nspan send:2/3\n", 3, "span 'send': not a function this family lists")]
    [InlineData("family x\nfunc recv\npage 2 send\n", 3, "page 'send': not a function this family lists")]
    [InlineData("family x\nfunc recv\npage Two(\n", 3, "page 'Two(': expected a man-page section")]
    [InlineData("family x\nfunc foo*\n", 2, "patterns")]
    [InlineData("family x\nfunc !foo\n", 2, "exclusions")]
    [InlineData("header a.h\n", 1, "no 'family NAME' line")]
    [InlineData("family x\nfunc a b\nfast a c\n", 3, "fast 'c': not a function this family lists")]
    [InlineData("family x\nfunc a\nnoerror b\n", 3, "noerror 'b': not a function this family lists")]
    public void Read_Malformed_NamesFileAndLine(string text, int line, string reason)
    {
        var e = Assert.Throws<FactsFormatException>(() => ApiFamilyReader.Read(text, "x.api"));

        Assert.Equal(line, e.Line);
        Assert.Contains(reason, e.Message);
    }
}
