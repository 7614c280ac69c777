using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Syscalls.Runtime.Tests.Infrastructure;
using Xunit;

namespace Syscalls.Runtime.Tests.Loop;

public class ConnectionPoolTests
{
    [Theory]
    [MemberData(nameof(TestBackends.Loops), MemberType = typeof(TestBackends))]
    public async Task TenThousandExchanges_OpenNoMoreThanTheBound_AndLeaveNoTimeWaitPile(string backend)
    {
        int exchanges = Platform.IsWine ? 1000 : 10_000;
        await using AsyncServer server = AsyncServer.Start(new AsyncServerOptions { Backend = TestBackends.Kind(backend), Loops = 1 },
            c => new ValueTask(LoopKit.EchoOne(c)));
        using EventLoop loop = LoopKit.Start(backend);
        var pool = new ConnectionPool(loop, new ConnectionPoolOptions { MaxConnectionsPerEndpoint = 4 });
        await LoopKit.Off(LoopKit.On(loop, async () =>
        {
            // Four callers in turn, each exchange on a rented connection.
            await Task.WhenAll(Enumerable.Range(0, 4).Select(async caller =>
            {
                var back = new byte[16];
                for (int i = caller; i < exchanges; i += 4)
                {
                    using PooledConnection rented = await pool.RentAsync(server.LocalEndpoint);
                    byte[] request = Peers.Payload(caller, i, 16);
                    await rented.Connection.SendAsync(request);
                    await LoopKit.ReceiveExactly(rented.Connection, back);
                    Assert.Equal(request, back);
                }
            }));
        }));
        Assert.InRange(pool.ConnectionsOpened, 1, 4);
        Assert.InRange(server.AcceptedOn(0), 1, 4);
        pool.Dispose();
        // The pool closed its (at most 4) connections first: the client side holds at most that many in TIME_WAIT.
        // Connection per exchange would leave ~10,000 there.
        if (OperatingSystem.IsLinux())
            Assert.InRange(TimeWaitTo(server.LocalEndpoint.Port), 0, 4);
    }

    [Fact]
    public async Task MoreCallersThanTheBound_WaitInOrder_AndTheGaugeShowsThem()
    {
        var observed = new List<int>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Syscalls.Runtime" && instrument.Name == "syscalls.pool.waiting")
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<int>((_, value, _, _) =>
        {
            lock (observed)
                observed.Add(value);
        });
        listener.Start();
        await using AsyncServer server = AsyncServer.Start(new AsyncServerOptions { Loops = 1 }, c => new ValueTask(LoopKit.EchoOne(c)));
        using EventLoop loop = LoopKit.Start(LoopKit.DefaultBackend);
        var pool = new ConnectionPool(loop, new ConnectionPoolOptions { MaxConnectionsPerEndpoint = 2 });
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int maxWaiting = 0;
        Task work = LoopKit.On(loop, async () =>
        {
            await Task.WhenAll(Enumerable.Range(0, 16).Select(async i =>
            {
                using PooledConnection rented = await pool.RentAsync(server.LocalEndpoint);
                maxWaiting = Math.Max(maxWaiting, pool.Waiting);
                await gate.Task;
                await rented.Connection.SendAsync(new byte[] { (byte)i });
                await LoopKit.ReceiveExactly(rented.Connection, new byte[1]);
            }));
        });
        Assert.True(EchoHandler.WaitFor(() => pool.Waiting == 14), $"waiting {pool.Waiting}");
        listener.RecordObservableInstruments();
        gate.SetResult();
        await LoopKit.Off(work);
        Assert.Equal(0, pool.Waiting);
        Assert.Equal(2, pool.ConnectionsOpened);
        lock (observed)
            Assert.Contains(14, observed);
        pool.Dispose();
    }

    [Theory]
    [MemberData(nameof(TestBackends.Loops), MemberType = typeof(TestBackends))]
    public async Task IdleConnections_ExpireAndOnesThePeerClosedAreNeverRented(string backend)
    {
        var serverSide = new List<AsyncConnection>();
        await using AsyncServer server = AsyncServer.Start(new AsyncServerOptions { Backend = TestBackends.Kind(backend), Loops = 1 }, c =>
        {
            lock (serverSide)
                serverSide.Add(c);
            return new ValueTask(LoopKit.EchoOne(c));
        });
        using EventLoop loop = LoopKit.Start(backend);
        var pool = new ConnectionPool(loop, new ConnectionPoolOptions { IdleTimeout = TimeSpan.FromMilliseconds(200) });
        await LoopKit.Off(LoopKit.On(loop, async () =>
        {
            using (PooledConnection rented = await pool.RentAsync(server.LocalEndpoint))
                await Exchange(rented.Connection);
            Assert.Equal(1, pool.OpenConnections);
            // The server closes the idle connection: the pool notices and drops it, the next rent opens a new one.
            lock (serverSide)
                serverSide[0].Abort();
            await UntilNoneOpen(pool, loop);   // the reset reaches the watch soon, later under qemu: no fixed wait
            Assert.Equal(0, pool.OpenConnections);
            using (PooledConnection rented = await pool.RentAsync(server.LocalEndpoint))
                await Exchange(rented.Connection);
            Assert.Equal(2, pool.ConnectionsOpened);
            // Left idle past the timeout: closed by the sweep.
            await loop.Delay(TimeSpan.FromMilliseconds(300));
            await UntilNoneOpen(pool, loop);
            Assert.Equal(0, pool.OpenConnections);
        }));
        pool.Dispose();
    }

    /// <summary>Waits on the loop until the pool holds no open connection, 10 s at most.</summary>
    private static async Task UntilNoneOpen(ConnectionPool pool, EventLoop loop)
    {
        for (int i = 0; i < 200 && pool.OpenConnections != 0; i++)
            await loop.Delay(TimeSpan.FromMilliseconds(50));
    }

    private static async Task Exchange(AsyncConnection c)
    {
        await c.SendAsync(new byte[] { 1, 2, 3 });
        var back = new byte[3];
        await LoopKit.ReceiveExactly(c, back);
        Assert.Equal(new byte[] { 1, 2, 3 }, back);
    }

    /// <summary>Sockets in TIME_WAIT towards <paramref name="port"/> on 127.0.0.1 (/proc/net/tcp, state 06).</summary>
    private static int TimeWaitTo(int port)
    {
        string remote = ":" + port.ToString("X4", CultureInfo.InvariantCulture);
        return File.ReadLines("/proc/net/tcp").Skip(1)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Count(f => f[2].EndsWith(remote, StringComparison.Ordinal) && f[3] == "06");
    }
}
