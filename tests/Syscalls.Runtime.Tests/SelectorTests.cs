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
    public void BackendSelector_Parse_AcceptsEveryName(string name, BackendKind kind)
    {
        Assert.Equal(kind, BackendSelector.Parse(name));
        Assert.Equal(kind, BackendSelector.Parse(BackendSelector.NameOf(kind)));
    }

    [Fact]
    public void BackendSelector_Probe_ReportsEveryBackend()
    {
        IReadOnlyList<BackendProbe> probes = BackendSelector.Probe();
        foreach (BackendKind k in new[] { BackendKind.Epoll, BackendKind.Poll, BackendKind.Threads, BackendKind.IoUring, BackendKind.Emulated })
            Assert.Contains(probes, p => p.Backend == k);
        Assert.Contains(probes, p => p.Backend == BackendKind.Epoll && p.Available);
        Assert.Contains(probes, p => p.Backend == BackendKind.Poll && p.Available);
    }

    [Theory]
    [InlineData("poll")]
    [InlineData("threads")]
    [InlineData("epoll")]
    public void BackendSelector_EnvironmentVariable_ForcesBackend(string backend)
    {
        using ChildServer child = ChildServer.Start("auto", new Dictionary<string, string> { ["SYSCALLS_BACKEND"] = backend });
        Assert.Contains($"backend {backend} (forced by SYSCALLS_BACKEND)", child.Output);
        Assert.Equal(0, child.Stop());
    }

    [Theory]
    [InlineData("uring")]
    [InlineData("emulated")]
    public void BackendSelector_RingBackendUnavailable_FallsBackToEpollAndSaysWhy(string backend)
    {
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
        string expected = BackendSelector.ForcedServerBackend == BackendKind.Poll ? "poll" : "epoll";
        Assert.Equal(expected, poller.Name);
    }
}
