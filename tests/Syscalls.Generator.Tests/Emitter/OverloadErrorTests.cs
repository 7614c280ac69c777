using System.Linq;
using Syscalls.Generator.Emitter;
using Syscalls.Generator.Facts;
using Xunit;

namespace Syscalls.Generator.Tests.Emitter;

/// <summary>
/// A family's overload and page lines that do not fit the function stop the emitter with an error naming the line;
/// a Linux function without a page line gets no link rather than a guessed section.
/// </summary>
public sealed class OverloadErrorTests
{
    /// <summary>The epoll fixture's facts with its family list replaced by <paramref name="lines"/> (after the func line).</summary>
    private static EmitInput Epoll(string lines)
    {
        var input = EmitterFixture.Load("epoll").Input;
        var family = ApiFamilyReader.Read("family epoll\ntargets linux-x64 linux-arm64\nfunc epoll_create1 epoll_ctl epoll_wait\n"
            + "struct epoll_event epoll_data\ntype epoll_data_t\nconst EPOLL*\nlib libc\nerrno errno\n" + lines, "epoll.api");
        return input with { Families = [family] };
    }

    /// <summary>Every error of the emission (one per target the family applies to), one per line.</summary>
    private static string Error(string lines) =>
        string.Join("\n", Assert.Throws<EmitterException>(() => BindingEmitter.Emit(Epoll(lines))).Errors);

    [Theory]
    [InlineData("span epoll_wait:1/3\n", "epoll.api:9: span epoll_wait:1/3: linux-x64: parameter 1 (epfd) is int, not a pointer")]
    [InlineData("span epoll_wait:2/9\n", "no parameter 9 (it takes 4)")]
    [InlineData("span epoll_wait:2/nope\n", "no parameter named nope (epfd, events, maxevents, timeout)")]
    [InlineData("span epoll_wait:2/2\n", "parameter 2 (events) is taken twice")]
    [InlineData("span epoll_wait:2/3\nin epoll_wait:2\n", "parameter 2 (events) is taken twice")]
    [InlineData("in epoll_ctl:4/4\n", "parameter 4 (@event) is taken twice")]
    public void Overload_NotFittingTheSignature_ErrorNamesTheLine(string lines, string expected)
    {
        Assert.Contains(expected, Error(lines));
    }

    [Fact]
    public void Page_LinuxFunctionWithoutPageLine_HasNoLink()
    {
        var result = BindingEmitter.Emit(Epoll("page 2 epoll_wait\n"));
        string text = string.Concat(result.Files.Select(f => f.Text));

        Assert.Contains("man2/epoll_wait.2.html", text);
        Assert.DoesNotContain("epoll_ctl.2.html", text);
        Assert.Contains("func Syscalls.Linux.LibC.epoll_ctl ", result.Manifest);
        Assert.DoesNotContain("epoll_ctl.2.html", result.Manifest);
    }

    [Fact]
    public void Page_HeaderFolderOnLinux_IsAnError()
    {
        Assert.Contains("page 'winsock2' for epoll_wait: a linux page is a man-page section", Error("page winsock2\n"));
    }
}
