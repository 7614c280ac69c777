using System;
using System.Collections.Generic;
using System.Linq;
using Syscalls.Runtime.Tests.Infrastructure;
using Xunit;

namespace Syscalls.Runtime.Tests;

public class SelectorTests
{
    [Theory]
    [InlineData("epoll", BackendKind.Epoll)]
    [InlineData("poll", BackendKind.Poll)]
    [InlineData("uring", BackendKind.IoUring)]
    [InlineData("io_uring", BackendKind.IoUring)]
    [InlineData("emulated", BackendKind.Emulated)]
    [InlineData("threads", BackendKind.Threads)]
    [InlineData("kqueue", BackendKind.Kqueue)]
    [InlineData("wsapoll", BackendKind.WsaPoll)]
    [InlineData("iocp", BackendKind.Iocp)]
    [InlineData("afd", BackendKind.Afd)]
    public void BackendSelector_Parse_AcceptsEveryName(string name, BackendKind kind)
    {
        Assert.Equal(kind, BackendSelector.Parse(name));
        Assert.Equal(kind, BackendSelector.Parse(BackendSelector.NameOf(kind)));
    }

    [Fact]
    public void BackendSelector_Probe_ReportsEveryBackend()
    {
        IReadOnlyList<BackendProbe> probes = BackendSelector.Probe();
        BackendKind[] expected = OperatingSystem.IsWindows()
            ? [BackendKind.Afd, BackendKind.WsaPoll, BackendKind.Iocp, BackendKind.Emulated, BackendKind.Threads]
            : [BackendKind.Epoll, BackendKind.Poll, BackendKind.Threads, BackendKind.IoUring, BackendKind.Emulated];
        foreach (BackendKind k in expected)
            Assert.Contains(probes, p => p.Backend == k);
        BackendKind[] pollers = OperatingSystem.IsWindows() ? [BackendKind.Afd, BackendKind.WsaPoll] : [BackendKind.Epoll, BackendKind.Poll];
        foreach (BackendKind k in pollers)
            Assert.Contains(probes, p => p.Backend == k && p.Available);
        Assert.DoesNotContain(probes, p => Array.IndexOf(expected, p.Backend) < 0);
    }

    [Theory]
    [InlineData("poll")]
    [InlineData("threads")]
    [InlineData("epoll")]
    public void BackendSelector_EnvironmentVariable_ForcesBackend(string backend)
    {
        Platform.RequireLinux("epoll and the ring-to-epoll fallback");
        using ChildServer child = ChildServer.Start("auto", new Dictionary<string, string> { ["SYSCALLS_BACKEND"] = backend });
        Assert.Contains($"backend {backend} (forced by SYSCALLS_BACKEND)", child.Output);
        Assert.Equal(0, child.Stop());
    }

    [Theory]
    [InlineData("uring")]
    [InlineData("emulated")]
    public void BackendSelector_RingBackendUnavailable_FallsBackToEpollAndSaysWhy(string backend)
    {
        Platform.RequireLinux("epoll and the ring-to-epoll fallback");
        if (BackendSelector.SupportedServerBackends().Contains(BackendSelector.Parse(backend)))
            Assert.Skip($"{backend} is available here; the fallback is covered by the fault-injection tests");
        var lines = new List<string>();
        using IServer server = BackendSelector.CreateServer(
            new ServerOptions { Backend = BackendSelector.Parse(backend), Log = lines.Add }, new EchoHandler());
        Assert.Equal(BackendKind.Epoll, server.Backend);
        Assert.Contains("falling back to epoll", server.SelectionReason);
        Assert.Contains(lines, l => l.Contains("server backend: epoll", StringComparison.Ordinal));
    }

    [Fact]
    public void BackendSelector_CreatePoller_DefaultsToEpollOrForcedPoll()
    {
        using IPoller poller = BackendSelector.CreatePoller();
        string expected = OperatingSystem.IsWindows() ? "afd" : BackendSelector.ForcedServerBackend == BackendKind.Poll ? "poll" : "epoll";
        Assert.Equal(expected, poller.Name);
    }

    [Fact]
    public void BackendSelector_ParseUnknownName_FailsListingOnlyThisOsBackends()
    {
        var e = Assert.Throws<ArgumentException>(() => BackendSelector.Parse("bogus"));
        Assert.Contains("'bogus'", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", e.Message, StringComparison.Ordinal);
        Assert.Contains("threads", e.Message, StringComparison.Ordinal);
        string foreign = OperatingSystem.IsWindows() ? "epoll" : "iocp";
        Assert.DoesNotContain(foreign, e.Message, StringComparison.Ordinal);
        Assert.False(BackendSelector.TryParse("bogus", out _));
    }

    [Theory]
    [InlineData("SYSCALLS_BACKEND", "bogus", "is not a backend;")]
    [InlineData("SYSCALLS_RING", "bogus", "is not a backend;")]
    [InlineData("SYSCALLS_RING", "threads", "is not a ring backend of")]
    public void BackendSelector_UnknownNameInEnvironment_FailsNamingVariableValueAndThisOsBackends(string variable, string value, string why)
    {
        var env = new Dictionary<string, string> { [variable] = value };
        (int exit, string output) = variable == BackendSelector.RingVariable
            ? ChildServer.RunToEnd(env, ChildServer.RingVerb)
            : ChildServer.RunToEnd(env, ChildServer.Verb, "auto");
        Assert.NotEqual(0, exit);
        Assert.Contains($"{variable}={value} {why}", output, StringComparison.Ordinal);
        string mine = OperatingSystem.IsWindows() ? "iocp" : "emulated";
        string foreign = OperatingSystem.IsWindows() ? "epoll" : "iocp";
        Assert.Contains(mine, output, StringComparison.Ordinal);
        Assert.DoesNotContain(foreign, output, StringComparison.Ordinal);
        Assert.DoesNotContain("listening", output, StringComparison.Ordinal);   // no silent fallback to a default
    }

    [Fact]
    public void BackendSelector_BackendOfAnotherOs_FailsNamingWhatThisOsHas()
    {
        BackendKind foreign = OperatingSystem.IsWindows() ? BackendKind.Epoll : BackendKind.Iocp;
        var e = Assert.Throws<PlatformNotSupportedException>(() => BackendSelector.ResolveServerBackend(foreign, out _));
        Assert.Contains("is not available on", e.Message, StringComparison.Ordinal);
        Assert.Contains("threads", e.Message, StringComparison.Ordinal);
        Assert.Throws<PlatformNotSupportedException>(() => BackendSelector.CreatePoller(OperatingSystem.IsWindows() ? BackendKind.Kqueue : BackendKind.WsaPoll));
    }
}
