using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;

namespace Syscalls.Runtime.Tests.Infrastructure;

/// <summary>Theory data: every backend the host supports, or only the one SYSCALLS_BACKEND / SYSCALLS_RING force (the
/// CI's second pass runs the suite with the fallback forced).</summary>
public static class TestBackends
{
    /// <summary>Server backends usable here: Linux epoll, poll, io_uring, emulated, threads; Windows AFD, WSAPoll,
    /// IOCP, emulated (on AFD), threads.</summary>
    public static TheoryData<string> Servers => Data(ServerKinds());

    /// <summary>Server backends whose model is an event loop (not thread-per-connection).</summary>
    public static TheoryData<string> Loops => Data(ServerKinds().Where(k => k != BackendKind.Threads));

    /// <summary>Poller backends: epoll and poll on Linux, AFD and WSAPoll on Windows, kqueue on macOS.</summary>
    public static TheoryData<string> Pollers
    {
        get
        {
            if (OperatingSystem.IsWindows())
                return Data(new[] { BackendKind.Afd, BackendKind.WsaPoll });
            if (OperatingSystem.IsMacOS())
                return Data(new[] { BackendKind.Kqueue });
            BackendKind forced = BackendSelector.ForcedServerBackend;
            var kinds = forced is BackendKind.Poll or BackendKind.Epoll
                ? new[] { forced }
                : new[] { BackendKind.Epoll, BackendKind.Poll };
            return Data(kinds);
        }
    }

    public static IEnumerable<BackendKind> ServerKinds()
    {
        BackendKind forced = BackendSelector.ForcedServerBackend;
        if (forced != BackendKind.Auto)
            return new[] { BackendSelector.ResolveServerBackend(forced, out _) };
        return BackendSelector.SupportedServerBackends();
    }

    public static BackendKind Kind(string name) => BackendSelector.Parse(name);

    public static IPoller CreatePoller(string name) => BackendSelector.CreatePoller(Kind(name));

    private static TheoryData<string> Data(IEnumerable<BackendKind> kinds)
    {
        var data = new TheoryData<string>();
        foreach (BackendKind k in kinds.Distinct())
            data.Add(BackendSelector.NameOf(k));
        return data;
    }
}
