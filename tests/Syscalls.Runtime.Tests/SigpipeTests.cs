using System;
using System.Collections.Generic;
using Syscalls.Runtime.Tests.Infrastructure;
using Xunit;

namespace Syscalls.Runtime.Tests;

/// <summary>No SIGPIPE, proven where SIGPIPE is live: a child that restores the signal's default action (terminate)
/// before writing to closed peers. The control shows the child dies from a plain write(2); the runtime's sends
/// (MSG_NOSIGNAL on Linux, io_uring's send flags) must leave it alive.</summary>
public class SigpipeTests
{
    private static readonly Dictionary<string, string> Live = new() { [Sigpipe.Variable] = "1" };

    [Fact]
    public void Sigpipe_LiveInChild_WriteWithoutTheFlagKillsIt()
    {
        Platform.RequireLinux("SIGPIPE and its default action");
        (int exit, string output) = ChildServer.RunToEnd(Live, Sigpipe.ControlVerb);
        Assert.True(exit == Sigpipe.KilledExitCode, $"the control child was not killed by SIGPIPE (exit {exit}):\n{output}");
    }

    [Fact]
    public void Sigpipe_LiveInChild_SendsToClosedPeersReportErrorsOnEveryBackend()
    {
        Platform.RequireLinux("SIGPIPE and its default action");
        (int exit, string output) = ChildServer.RunToEnd(Live,
            "-method", $"{typeof(SocketTests).FullName}.{nameof(SocketTests.SocketOps_SendToResetPeer_ReportsErrorWithoutSigpipe)}",
            "-method", $"{typeof(EchoTests).FullName}.{nameof(EchoTests.Echo_SendAfterPeerClosed_ReportsErrorWithoutSigpipe)}",
            "-noColor");
        Assert.True(exit == 0 && output.Contains("Errors: 0, Failed: 0, Skipped: 0", StringComparison.Ordinal),
            $"child run failed (exit {exit}{(exit == Sigpipe.KilledExitCode ? ": killed by SIGPIPE" : "")}):\n{output}");
    }
}
