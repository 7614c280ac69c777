using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using Syscalls.Runtime.Backends.Linux;
using Syscalls.Runtime.Tests.Infrastructure;
using Syscalls.Runtime.Tests.Ring;
using Xunit;

namespace Syscalls.Runtime.Tests;

/// <summary>Wake from other threads while the owner disposes: a Wake may come at any moment (Stop, a post from another
/// thread), so it must never reach the waker's descriptor once Dispose closed it, when its number may already belong
/// to something else. The owner takes the freed numbers back at once with descriptors of its own and reads them: a
/// stray wake-up shows there as a write nobody made.</summary>
[Collection(nameof(CpuHeavy))]
public class WakeDisposeTests
{
    private const string IterationsVariable = "SYSCALLS_TEST_WAKE_ITERATIONS";
    private const string FailedSignalVariable = "SYSCALLS_TEST_FAILED_SIGNAL_BACKEND";

    public static TheoryData<string> Wakeables
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (TheoryDataRow<string> row in TestBackends.Pollers)
                data.Add("poller:" + row.Data);
            foreach (TheoryDataRow<string> row in RingKit.Backends)
                data.Add("ring:" + row.Data);
            if (OperatingSystem.IsWindows() && BackendSelector.ForcedRingBackend is BackendKind.Auto or BackendKind.Iocp)
                data.Add("ring:iocp");
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Wakeables))]
    public void Wake_FromOtherThreadsWhileDisposing_NeverReachesAReusedDescriptor(string backend)
    {
        // Elsewhere the wakers still hammer a disposing owner (no Wake may throw or crash); only Linux can catch a
        // stray write, on an eventfd that takes the freed number.
        bool detect = OperatingSystem.IsLinux();
        int iterations = int.TryParse(Environment.GetEnvironmentVariable(IterationsVariable), out int n) ? n
            : Platform.IsWine ? 50 : 200;
        object? current = null;
        using var stop = new ManualResetEventSlim();
        var inCall = new object?[2];   // what each waker is calling Wake on now
        var failures = new List<Exception>();
        Thread[] wakers = Enumerable.Range(0, inCall.Length).Select(i => new Thread(() =>
        {
            try
            {
                while (!stop.IsSet)
                {
                    object? target = Volatile.Read(ref current);
                    Interlocked.Exchange(ref inCall[i], target);
                    if (!ReferenceEquals(Volatile.Read(ref current), target))
                        target = null;   // the owner moved on meanwhile, and may not wait for this call
                    switch (target)
                    {
                        case IPoller p:
                            p.Wake();
                            break;
                        case IRing r:
                            r.Wake();
                            break;
                    }

                    Interlocked.Exchange(ref inCall[i], null);
                }
            }
            catch (Exception e)
            {
                lock (failures)
                    failures.Add(e);   // Wake must never throw, disposed or not
            }
        }) { IsBackground = true }).ToArray();
        foreach (Thread t in wakers)
            t.Start();
        int stray = 0;
        var events = new PollEvent[8];
        var completions = new RingCompletion[8];
        Span<byte> value = stackalloc byte[8];
        var takers = new List<int>();
        try
        {
            for (int i = 0; i < iterations && failures.Count == 0; i++)
            {
                IDisposable owner = backend.StartsWith("poller:", StringComparison.Ordinal)
                    ? TestBackends.CreatePoller(backend["poller:".Length..])
                    : RingKit.Create(backend["ring:".Length..], 8);
                Volatile.Write(ref current, owner);
                // Waits drain the wake-ups, so the wakers keep signalling; then the owner disposes under them.
                for (int w = 0; w < 3; w++)
                {
                    if (owner is IPoller p)
                        p.Wait(events, 0);
                    else
                        ((IRing)owner).SubmitAndWait(completions, 0);
                }

                // Dispose while a Wake is under way (with the fault shim's delay: inside its write).
                SpinWait.SpinUntil(() => inCall.Any(c => ReferenceEquals(Volatile.Read(ref c), owner)), 5);
                owner.Dispose();
                for (int k = 0; detect && k < 4; k++)
                    takers.Add(Sys.EventFd().Value);   // the lowest free numbers: the ones Dispose just closed
                Thread.SpinWait(100);
                Interlocked.Exchange(ref current, null);
                // Every waker finishes the call it may be making on the disposed owner before the takers are read.
                for (int w = 0; w < inCall.Length; w++)
                    SpinWait.SpinUntil(() => !ReferenceEquals(Volatile.Read(ref inCall[w]), owner));
                foreach (int fd in takers)
                {
                    if (Sys.Read(fd, value).IsSuccess)
                        stray++;   // EAGAIN unless something wrote to it
                    Sys.Close(fd);
                }

                takers.Clear();
            }
        }
        finally
        {
            stop.Set();
            foreach (Thread t in wakers)
                t.Join();
            foreach (int fd in takers)
                Sys.Close(fd);
        }

        Assert.Empty(failures);
        Assert.True(stray == 0, $"{stray} of {iterations} disposals let a Wake write to a descriptor that took the freed number");
    }

    /// <summary>A Wake that lands while the owner drains an earlier one is never lost: wakers hammer the owner while it
    /// waits and drains; then, with the wakers stopped, one more Wake must end a long wait. A drain that let the reset
    /// swallow a racing Wake's signal while its pending mark stayed set would drop that Wake and every later one (an
    /// event loop asleep for good with work queued: seen as a hung acceptor hand-off).</summary>
    [Theory]
    [MemberData(nameof(Wakeables))]
    public void Wake_RacingTheOwnersDrain_IsNeverLost(string backend)
    {
        using IDisposable owner = backend.StartsWith("poller:", StringComparison.Ordinal)
            ? TestBackends.CreatePoller(backend["poller:".Length..])
            : RingKit.Create(backend["ring:".Length..], 8);
        var events = new PollEvent[8];
        var completions = new RingCompletion[8];
        void Wake()
        {
            if (owner is IPoller p)
                p.Wake();
            else
                ((IRing)owner).Wake();
        }

        void WaitOnce(int timeoutMilliseconds)
        {
            if (owner is IPoller p)
                p.Wait(events, timeoutMilliseconds);
            else
                ((IRing)owner).SubmitAndWait(completions, timeoutMilliseconds);
        }

        int rounds = Platform.IsWine ? 20_000 : 200_000;
        using var stop = new ManualResetEventSlim();
        Thread[] wakers = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            while (!stop.IsSet)
                Wake();
        }) { IsBackground = true }).ToArray();
        foreach (Thread t in wakers)
            t.Start();
        for (int i = 0; i < rounds; i++)
            WaitOnce(0);
        stop.Set();
        foreach (Thread t in wakers)
            t.Join();
        for (int i = 0; i < 3; i++)
            WaitOnce(0);   // takes what the last Wakes left

        // A hang detector, not a speed check: the Wake comes at once, so only a lost one lets the wait run its 20 s.
        bool woken = false;
        var last = new Thread(() =>
        {
            Thread.Sleep(50);
            Volatile.Write(ref woken, true);
            Wake();
        });
        var sw = Stopwatch.StartNew();
        last.Start();
        // A signal may end a wait early (EINTR): wait again until the Wake was sent.
        do
            WaitOnce(20_000);
        while (!Volatile.Read(ref woken) && sw.ElapsedMilliseconds < 20_000);
        last.Join();
        Assert.True(sw.ElapsedMilliseconds < 19_000, $"the last Wake was lost: the wait ran {sw.ElapsedMilliseconds} ms"
                                                     + (owner is Syscalls.Runtime.Backends.WindowsPoll.WindowsPoller w ? $" ({w.DescribeWaker()})" : ""));
    }

    /// <summary>A Wake whose signal failed must not keep the pending mark: kept, it would silence every later Wake (on
    /// Wine the WSAPoll waker's send reports WSAEWOULDBLOCK now and then under load, and an event loop slept for good
    /// with work queued). In a child, the fault shim fails the first write(2) the bindings make, which is the first
    /// Wake's eventfd signal; a second Wake must then end a long wait.</summary>
    [Theory]
    [InlineData("epoll")]
    [InlineData("poll")]
    public void Wake_AfterOneWhoseSignalFailed_StillWakes(string backend)
    {
        var env = FaultShim.Environment("write=EIO*1", out string report);
        env[FailedSignalVariable] = backend;
        string test = $"{typeof(WakeDisposeTests).FullName}.{nameof(Wake_AfterOneWhoseSignalFailed_Child)}";
        (int exit, string output) = ChildServer.RunToEnd(env, "-method", test, "-noColor");
        Assert.True(exit == 0 && output.Contains("Failed: 0, Skipped: 0", StringComparison.Ordinal), $"child run failed ({exit}):\n{output}");
        Assert.Equal(1, FaultShim.ReadReport(report)["write"].Injected);
    }

    /// <summary>The child's half of <see cref="Wake_AfterOneWhoseSignalFailed_StillWakes"/>: runs only there.</summary>
    [Fact]
    public void Wake_AfterOneWhoseSignalFailed_Child()
    {
        if (Environment.GetEnvironmentVariable(FailedSignalVariable) is not { Length: > 0 } backend)
        {
            Assert.Skip("runs in the child of Wake_AfterOneWhoseSignalFailed_StillWakes, under the fault shim");
            return;
        }

        using IPoller poller = TestBackends.CreatePoller(backend);
        var events = new PollEvent[8];
        poller.Wake();   // its write fails (the shim's first injection)
        poller.Wait(events, 0);
        var sw = Stopwatch.StartNew();
        var later = new Thread(() =>
        {
            Thread.Sleep(50);
            poller.Wake();
        });
        later.Start();
        poller.Wait(events, 20_000);
        later.Join();
        Assert.True(sw.ElapsedMilliseconds < 19_000, $"the Wake after a failed one was dropped: the wait ran {sw.ElapsedMilliseconds} ms");
    }

    /// <summary>The race made certain: in a child, the fault shim sleeps 20 ms inside every write(2) the bindings make,
    /// after the descriptor number was passed and before the kernel sees it, so every Wake that loses the race to
    /// Dispose would land on the number Dispose freed.</summary>
    [Fact]
    public void Wake_DelayedBetweenNumberAndWrite_NeverReachesAReusedDescriptor()
    {
        var env = FaultShim.Environment("write=DELAY20", out string report);
        env[IterationsVariable] = "10";
        string test = $"{typeof(WakeDisposeTests).FullName}.{nameof(Wake_FromOtherThreadsWhileDisposing_NeverReachesAReusedDescriptor)}";
        (int exit, string output) = ChildServer.RunToEnd(env, "-method", test, "-noColor");
        Assert.True(exit == 0 && output.Contains("Failed: 0, Skipped: 0", StringComparison.Ordinal), $"child run failed ({exit}):\n{output}");
        Assert.True(FaultShim.ReadReport(report)["write"].Injected > 0, "no write was delayed");
    }
}
