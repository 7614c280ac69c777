using System;
using System.Diagnostics;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Syscalls.Runtime.Sockets;
using Syscalls.Runtime.Tests.Infrastructure;
using Xunit;

namespace Syscalls.Runtime.Tests;

public class PollerTests
{
    [Theory]
    [MemberData(nameof(TestBackends.Pollers), MemberType = typeof(TestBackends))]
    public void Poller_NothingReady_TimesOutAfterTimeout(string backend)
    {
        using IPoller poller = TestBackends.CreatePoller(backend);
        using var pair = new Pair();
        Assert.True(poller.Register(pair.Server, 7, Interest.Readable).IsSuccess);
        var events = new PollEvent[8];
        var sw = Stopwatch.StartNew();
        // A signal may end a wait early with no events (EINTR, as the contract says; SIGCHLD from the child processes
        // other tests start does it): wait again for the rest. A poller that ignored the timeout would need many calls.
        int calls = 0;
        do
        {
            Result<int> n = poller.Wait(events, (int)Math.Max(0, 150 - sw.ElapsedMilliseconds));
            calls++;
            Assert.True(n.IsSuccess);
            Assert.Equal(0, n.Value);
        }
        while (sw.ElapsedMilliseconds < 140 && calls < 10);
        sw.Stop();
        Assert.True(calls <= 3, $"{calls} waits for one 150 ms timeout: the timeout is not honoured");
        Assert.InRange(sw.ElapsedMilliseconds, 140, 2000);
        Assert.True(poller.Deregister(pair.Server).IsSuccess);
    }

    [Theory]
    [MemberData(nameof(TestBackends.Pollers), MemberType = typeof(TestBackends))]
    public void Poller_DataArrives_ReportsReadableWithToken(string backend)
    {
        using IPoller poller = TestBackends.CreatePoller(backend);
        using var pair = new Pair();
        Assert.True(poller.Register(pair.Server, 0xDEAD_BEEF_0000_0001, Interest.Readable).IsSuccess);
        pair.Client.Send(new byte[] { 1, 2, 3 });
        var events = new PollEvent[8];
        int n = WaitForSome(poller, events, 5000);
        Assert.Equal(1, n);
        Assert.Equal(0xDEAD_BEEF_0000_0001UL, events[0].Token);
        Assert.True((events[0].Readiness & Readiness.Readable) != 0);
        poller.Deregister(pair.Server);
    }

    [Theory]
    [MemberData(nameof(TestBackends.Pollers), MemberType = typeof(TestBackends))]
    public async Task Poller_WakeFromAnotherThread_InterruptsWait(string backend)
    {
        using IPoller poller = TestBackends.CreatePoller(backend);
        var events = new PollEvent[8];
        var sw = Stopwatch.StartNew();
        int woken = 0;
        var waker = Task.Run(() =>
        {
            Thread.Sleep(100);
            Volatile.Write(ref woken, 1);
            poller.Wake();
        }, TestContext.Current.CancellationToken);
        // A signal may end the wait early with no events (EINTR, as the contract says): wait again until the wake was
        // sent; then the wait must return promptly, not after its 10 s.
        Result<int> n;
        int calls = 0;
        do
        {
            n = poller.Wait(events, 10000);
            calls++;
        }
        while (n is { IsSuccess: true, Value: 0 } && Volatile.Read(ref woken) == 0 && calls < 10);
        sw.Stop();
        await waker;
        Assert.True(n.IsSuccess);
        Assert.Equal(0, n.Value);
        Assert.True(calls <= 3, $"{calls} waits returned before the wake was sent");
        Assert.InRange(sw.ElapsedMilliseconds, 90, 5000);
        // Coalesced wakes are consumed: the next wait times out normally.
        poller.Wake();
        poller.Wake();
        Assert.Equal(0, poller.Wait(events, 1000).Value);
        Assert.Equal(0, poller.Wait(events, 50).Value);
    }

    [Theory]
    [MemberData(nameof(TestBackends.Pollers), MemberType = typeof(TestBackends))]
    public void Poller_Oneshot_ReportsOnceUntilRearmed(string backend)
    {
        using IPoller poller = TestBackends.CreatePoller(backend);
        Assert.True((poller.Capabilities & PollerCapabilities.Oneshot) != 0);
        using var pair = new Pair();
        Assert.True(poller.Register(pair.Server, 1, Interest.Readable, TriggerMode.Oneshot).IsSuccess);
        pair.Client.Send(new byte[] { 1 });
        var events = new PollEvent[8];
        Assert.Equal(1, WaitForSome(poller, events, 5000));
        Assert.Equal(0, poller.Wait(events, 50).Value);     // data still unread, but disarmed
        Assert.True(poller.Modify(pair.Server, 2, Interest.Readable, TriggerMode.Oneshot).IsSuccess);
        Assert.Equal(1, WaitForSome(poller, events, 5000));
        Assert.Equal(2UL, events[0].Token);
        poller.Deregister(pair.Server);
    }

    [Theory]
    [MemberData(nameof(TestBackends.Pollers), MemberType = typeof(TestBackends))]
    public void Poller_Edge_ReportsOnceUntilNewDataOrRefusedWhenUnsupported(string backend)
    {
        using IPoller poller = TestBackends.CreatePoller(backend);
        using var pair = new Pair();
        Result r = poller.Register(pair.Server, 1, Interest.Readable, TriggerMode.Edge);
        if ((poller.Capabilities & PollerCapabilities.EdgeTriggered) == 0)
        {
            Assert.Equal(ErrorKind.NotSupported, r.Error.Kind);
            return;
        }

        Assert.True(r.IsSuccess);
        pair.Client.Send(new byte[] { 1 });
        var events = new PollEvent[8];
        Assert.Equal(1, WaitForSome(poller, events, 5000));
        Assert.Equal(0, poller.Wait(events, 50).Value);     // no new edge while the byte sits unread
        pair.Client.Send(new byte[] { 2 });
        Assert.Equal(1, WaitForSome(poller, events, 5000));
        poller.Deregister(pair.Server);
    }

    [Theory]
    [MemberData(nameof(TestBackends.Pollers), MemberType = typeof(TestBackends))]
    public void Poller_Deregistered_ReportsNothingMore(string backend)
    {
        using IPoller poller = TestBackends.CreatePoller(backend);
        using var pair = new Pair();
        poller.Register(pair.Server, 1, Interest.Readable);
        Assert.True(poller.Deregister(pair.Server).IsSuccess);
        Assert.Equal(ErrorKind.NotFound, poller.Deregister(pair.Server).Error.Kind);
        pair.Client.Send(new byte[] { 1 });
        var events = new PollEvent[8];
        Assert.Equal(0, poller.Wait(events, 100).Value);
    }

    [Theory]
    [MemberData(nameof(TestBackends.Pollers), MemberType = typeof(TestBackends))]
    public void Poller_RegisterTwice_ReportsAlreadyExists(string backend)
    {
        using IPoller poller = TestBackends.CreatePoller(backend);
        using var pair = new Pair();
        Assert.True(poller.Register(pair.Server, 1, Interest.Readable).IsSuccess);
        Assert.Equal(ErrorKind.AlreadyExists, poller.Register(pair.Server, 2, Interest.Readable).Error.Kind);
        poller.Deregister(pair.Server);
    }

    [Theory]
    [MemberData(nameof(TestBackends.Pollers), MemberType = typeof(TestBackends))]
    public void Poller_RegisteredHandleDisposed_NumberNotReusedUntilDeregistered(string backend)
    {
        using IPoller poller = TestBackends.CreatePoller(backend);
        using var first = new Pair();
        int number = first.Server.Descriptor;
        Assert.True(poller.Register(first.Server, 1, Interest.Readable).IsSuccess);
        first.Server.Dispose();   // deferred: the registration holds a reference
        using var second = new Pair();
        Assert.NotEqual(number, second.Server.Descriptor);
        Assert.True(poller.Register(second.Server, 2, Interest.Readable).IsSuccess);
        second.Client.Send(new byte[] { 9 });
        var events = new PollEvent[8];
        int n = WaitForSome(poller, events, 5000);
        Assert.Equal(1, n);
        Assert.Equal(2UL, events[0].Token);
        Assert.True(poller.Deregister(first.Server).IsSuccess);   // now the descriptor really closes
        using var third = new Pair();
        Assert.True(poller.Register(third.Server, 3, Interest.Readable).IsSuccess);
        third.Client.Send(new byte[] { 1 });
        n = WaitForSome(poller, events, 5000);
        Assert.All(events[..n], e => Assert.NotEqual(1UL, e.Token));
        poller.Deregister(second.Server);
        poller.Deregister(third.Server);
    }

    [Theory]
    [MemberData(nameof(TestBackends.Pollers), MemberType = typeof(TestBackends))]
    public void Poller_PeerShutsDownWrite_ReportsReadClosed(string backend)
    {
        using IPoller poller = TestBackends.CreatePoller(backend);
        using var pair = new Pair();
        poller.Register(pair.Server, 1, Interest.Readable);
        pair.Client.Shutdown(SocketShutdown.Send);
        var events = new PollEvent[8];
        Assert.Equal(1, WaitForSome(poller, events, 5000));
        // WSAPoll has no separate read-closed bit: the FIN shows as a readable hang-up, and the read finds the end.
        Readiness expected = (poller.Capabilities & PollerCapabilities.ReadClosed) != 0 ? Readiness.ReadClosed : Readiness.Readable | Readiness.Closed;
        Assert.True((events[0].Readiness & expected) == expected, events[0].ToString());
        Assert.Equal(0, SocketOps.Receive(pair.Server, new byte[16]).Value);
        poller.Deregister(pair.Server);
    }

    [Theory]
    [MemberData(nameof(TestBackends.Pollers), MemberType = typeof(TestBackends))]
    public void Poller_ConnectToClosedPort_ReportsConnectionRefused(string backend)
    {
        using IPoller poller = TestBackends.CreatePoller(backend);
        int port;
        using (SocketHandle probe = SocketOps.Listen(NetEndpoint.Loopback(0)).Value)
            port = SocketOps.GetLocalEndpoint(probe).Value.Port;   // closed again: nothing listens there now
        using SocketHandle s = SocketOps.CreateTcp().Value;
        Result r = SocketOps.Connect(s, NetEndpoint.Loopback(port));
        if (!r.IsSuccess && r.Error.Kind == ErrorKind.ConnectionRefused)
            return;   // loopback may refuse synchronously
        Assert.Equal(ErrorKind.InProgress, r.Error.Kind);
        poller.Register(s, 5, Interest.Writable);
        var events = new PollEvent[8];
        Assert.Equal(1, WaitForSome(poller, events, 5000));
        Assert.True((events[0].Readiness & (Readiness.Error | Readiness.Closed)) != 0, events[0].ToString());
        Assert.Equal(ErrorKind.ConnectionRefused, SocketOps.GetPendingError(s).Kind);
        poller.Deregister(s);
    }

    [Theory]
    [MemberData(nameof(TestBackends.Pollers), MemberType = typeof(TestBackends))]
    public void Poller_ManyReadyMoreThanSpan_ReportsAllAcrossWaits(string backend)
    {
        using IPoller poller = TestBackends.CreatePoller(backend);
        var pairs = new Pair[20];
        for (int i = 0; i < pairs.Length; i++)
        {
            pairs[i] = new Pair();
            poller.Register(pairs[i].Server, (ulong)i, Interest.Readable, TriggerMode.Oneshot);
            pairs[i].Client.Send(new byte[] { 1 });
        }

        var seen = new bool[pairs.Length];
        var events = new PollEvent[3];
        var deadline = Stopwatch.StartNew();
        while (Array.IndexOf(seen, false) >= 0 && deadline.ElapsedMilliseconds < 5000)
        {
            int n = poller.Wait(events, 1000).Value;
            for (int i = 0; i < n; i++)
                seen[events[i].Token] = true;
        }

        Assert.DoesNotContain(false, seen);
        foreach (Pair p in pairs)
        {
            poller.Deregister(p.Server);
            p.Dispose();
        }
    }

    [Theory]
    [MemberData(nameof(TestBackends.Pollers), MemberType = typeof(TestBackends))]
    public void Poller_LevelReadyMoreThanSpan_EveryDescriptorReportedWithinAFewWaits(string backend)
    {
        // Level-triggered and never drained: every wait could report the same first few descriptors. The poller must
        // rotate (epoll moves reported items to the back of its ready list; poll scans from a moving cursor).
        using IPoller poller = TestBackends.CreatePoller(backend);
        var pairs = new Pair[20];
        for (int i = 0; i < pairs.Length; i++)
        {
            pairs[i] = new Pair();
            Assert.True(poller.Register(pairs[i].Server, (ulong)i, Interest.Readable).IsSuccess);
            pairs[i].Client.Send(new byte[] { 1 });
        }

        var seen = new bool[pairs.Length];
        var events = new PollEvent[3];
        for (int wait = 0; wait < 2 * pairs.Length && Array.IndexOf(seen, false) >= 0; wait++)
        {
            int n = poller.Wait(events, 1000).Value;
            for (int i = 0; i < n; i++)
                seen[events[i].Token] = true;
        }

        Assert.True(Array.IndexOf(seen, false) < 0, "never reported: " + string.Join(",", Enumerable.Range(0, seen.Length).Where(i => !seen[i])));
        foreach (Pair p in pairs)
        {
            poller.Deregister(p.Server);
            p.Dispose();
        }
    }

    /// <summary>Waits until at least one event arrives or the timeout passes. A signal may end a wait early with no
    /// events (EINTR, which the contract allows: SIGCHLD from the child processes other tests start does it), so a
    /// test that expects an event waits on.</summary>
    private static int WaitForSome(IPoller poller, PollEvent[] events, int timeoutMs)
    {
        long end = Environment.TickCount64 + timeoutMs;
        while (true)
        {
            int n = poller.Wait(events, (int)Math.Max(0, end - Environment.TickCount64)).Value;
            if (n > 0 || Environment.TickCount64 >= end)
                return n;
        }
    }
}
