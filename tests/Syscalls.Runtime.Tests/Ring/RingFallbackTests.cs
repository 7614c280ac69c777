using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net.Sockets;
using System.Threading.Tasks;
using Syscalls.Runtime.Tests.Infrastructure;
using Xunit;

namespace Syscalls.Runtime.Tests.Ring;

/// <summary>io_uring made unavailable in a child process by the LD_PRELOAD shim (setup refused, an opcode hidden from
/// IORING_REGISTER_PROBE): the selector hands out the emulated ring and every request still succeeds.</summary>
public class RingFallbackTests
{
    private const string ChildMarker = "SYSCALLS_RING_TEST_CHILD";

    [Theory]
    [InlineData("io_uring_setup=EPERM", -1, "setup: no (PermissionDenied")]
    [InlineData("io_uring_setup=ENOSYS", -1, "setup: no (NotSupported")]
    [InlineData("io_uring_setup=ENOMEM", -1, "setup: no (OutOfMemory")]
    [InlineData("recv=EINTR*0", 13, "opcodes: no (NotSupported) missing ACCEPT")]
    [InlineData("recv=EINTR*0", 27, "opcodes: no (NotSupported) missing RECV")]
    public void Ring_IoUringUnavailable_SelectorFallsBackToEmulatedWithNoFailedRequest(string faults, int hiddenOpcode, string reason)
    {
        Platform.RequireLinux("the LD_PRELOAD fault shim and io_uring");
        var env = FaultShim.Environment(faults, out string report, hiddenOpcode);
        env[ChildMarker] = "1";
        env["SYSCALLS_LOG"] = "1";
        (int exit, string output) = RunChild(nameof(RingSelector_CreateRing_EchoesOnTheBackendItPicks), env);
        Assert.True(exit == 0, $"child failed ({exit}):\n{output}");
        Assert.Contains("ring backend: emulated (io_uring unavailable: iouring " + reason, output, StringComparison.Ordinal);
        Assert.Contains("ring used: emulated(epoll)", output, StringComparison.Ordinal);
        if (hiddenOpcode < 0)
            Assert.True(FaultShim.ReadReport(report)["io_uring_setup"].Injected >= 1);
    }

    [Fact]
    public void Ring_IoUringEnterInterrupted_RetriesAndEchoesIntact()
    {
        Platform.RequireLinux("the LD_PRELOAD fault shim and io_uring");
        // Every third io_uring_enter fails with EINTR before reaching the kernel: submissions are retried, waits
        // return what is there, and no request fails.
        if (!BackendSelector.Probe().Where(p => p.Backend == BackendKind.IoUring).All(p => p.Available))
            Assert.Skip("io_uring is not usable on this host");
        var env = FaultShim.Environment("io_uring_enter=EINTR/3", out string report);
        env[ChildMarker] = "1";
        (int exit, string output) = RunChild(nameof(RingSelector_CreateRing_EchoesOnTheBackendItPicks), env);
        Assert.True(exit == 0, $"child failed ({exit}):\n{output}");
        Assert.Contains("ring used: io_uring", output, StringComparison.Ordinal);
        Assert.True(FaultShim.ReadReport(report)["io_uring_enter"].Injected > 10, "too few EINTR injected");
    }

    /// <summary>A kernel before 5.19 refuses ASYNC_CANCEL by descriptor (the shim makes this one refuse it too): the
    /// probe says so, and a close through the ring cancels each operation in flight by its id instead, so a receive
    /// in flight at the close still ends as canceled and a server's Stop still closes every connection.</summary>
    [Fact]
    public void Ring_KernelWithoutCancelByFd_CloseCancelsEachOperationInFlight()
    {
        Platform.RequireLinux("the LD_PRELOAD fault shim and io_uring");
        if (!BackendSelector.Probe().Where(p => p.Backend == BackendKind.IoUring).All(p => p.Available))
            Assert.Skip("io_uring is not usable on this host");
        var env = FaultShim.Environment("recv=EINTR*0", out _, noCancelByFd: true);
        env["SYSCALLS_LOG"] = "1";
        (int exit, string output) = ChildServer.RunToEnd(env,
            "-method", $"{typeof(RingDescriptorReuseTests).FullName}.{nameof(RingDescriptorReuseTests.Ring_CloseWithRecvInFlight_LateCompletionRecognisedByGenerationAfterDescriptorReuse)}",
            "-method", $"{typeof(EchoTests).FullName}.{nameof(EchoTests.Echo_StopFromAnotherThread_ClosesConnectionsAsCanceled)}",
            "-noColor");
        Assert.True(exit == 0 && output.Contains("Errors: 0, Failed: 0, Skipped: 0", StringComparison.Ordinal),
            $"child run failed ({exit}):\n{output}");
        Assert.Contains("cancel-by-fd: yes missing (a close cancels each operation by id)", output, StringComparison.Ordinal);
    }

    /// <summary>Runs in every pass (the ring the selector picks here: io_uring, or whatever SYSCALLS_RING forces) and,
    /// with faults, in the child of the test above, which checks that it picked the emulated ring.</summary>
    [Fact]
    public void RingSelector_CreateRing_EchoesOnTheBackendItPicks()
    {
        IRing ring = BackendSelector.CreateRing(new RingOptions { Entries = 64 });
        Console.Error.WriteLine($"ring used: {ring.Name}");
        if (Environment.GetEnvironmentVariable(ChildMarker) is null && BackendSelector.ForcedRingBackend == BackendKind.Auto)
        {
            BackendKind preferred = OperatingSystem.IsWindows() ? BackendKind.Iocp : BackendKind.IoUring;
            bool kernel = BackendSelector.Probe().Where(p => p.Backend == preferred).All(p => p.Available);
            string expected = OperatingSystem.IsWindows() ? (kernel ? "iocp" : "emulated(afd)") : kernel ? "io_uring" : "emulated(epoll)";
            Assert.Equal(expected, ring.Name);
        }

        // IOCP has no multishot operations: its loop re-arms one accept and one receive per completion.
        bool multishot = (ring.Features & RingFeatures.MultishotRecv) != 0;
        using var loop = new RingEchoLoop(ring, multishot, bufferSize: 1024, bufferCount: 32);
        Parallel.For(0, 8, c =>
        {
            using Socket s = Peers.Connect(loop.EndPoint);
            for (int round = 0; round < 10; round++)
                Peers.EchoOnce(s, c, round, 1 + round * 397 % 5000);
        });
        Assert.True(System.Threading.SpinWait.SpinUntil(() => loop.Closed == 8, 10000));
        Assert.Empty(loop.Failures);
    }

    private static (int Exit, string Output) RunChild(string test, IDictionary<string, string> env)
    {
        var psi = ChildServer.AddSelf(new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        });
        psi.ArgumentList.Add("-method");
        psi.ArgumentList.Add($"{typeof(RingFallbackTests).FullName}.{test}");
        psi.ArgumentList.Add("-noColor");
        psi.Environment.Remove(BackendSelector.RingVariable);
        psi.Environment.Remove(BackendSelector.BackendVariable);
        foreach (var (k, v) in env)
            psi.Environment[k] = v;
        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60000))
        {
            p.Kill();
            return (-1, "timed out\n" + stdout.Result + stderr.Result);
        }

        string output = stdout.Result + "\n" + stderr.Result;
        // The child must have run exactly the one test, and passed it.
        if (!output.Contains("Total: 1, Errors: 0, Failed: 0, Skipped: 0", StringComparison.Ordinal))
            return (p.ExitCode == 0 ? -2 : p.ExitCode, output);
        return (p.ExitCode, output);
    }
}
