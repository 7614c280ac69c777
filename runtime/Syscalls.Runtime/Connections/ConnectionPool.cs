using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Threading;
using System.Threading.Tasks;

namespace Syscalls.Runtime;

/// <summary>Options of a <see cref="ConnectionPool"/>.</summary>
public sealed class ConnectionPoolOptions
{
    /// <summary>Connections per endpoint at most (rented plus idle); callers beyond it wait for one to come back.</summary>
    public int MaxConnectionsPerEndpoint { get; set; } = 16;

    /// <summary>An idle connection is closed after this long unused.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Time limit of each new connection's connect.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>Keep-alive reuse of outbound connections per endpoint, on one loop: a bounded number per endpoint, idle ones
/// closed after <see cref="ConnectionPoolOptions.IdleTimeout"/>, callers beyond the bound queued in order (the seed's
/// pitfalls: short-lived connections pile up in TIME_WAIT and exhaust ports; a pool smaller than its callers makes
/// them wait: <see cref="Waiting"/>, and the <c>syscalls.pool.waiting</c> gauge, show how many).</summary>
/// <remarks>An idle connection keeps a zero-byte receive pending (it holds no buffer): a peer that closes it, or sends
/// something no one asked for, takes it out of the pool at once, so a rent never hands out a dead connection it could
/// have known about. Thread rules: any thread; the pool's state lives on its loop.</remarks>
public sealed class ConnectionPool : IAsyncDisposable, IDisposable
{
    private static readonly List<WeakReference<ConnectionPool>> s_pools = new();

    private readonly ConnectionPoolOptions _options;
    private readonly Dictionary<NetEndpoint, EndpointPool> _endpoints = new();
    private readonly LoopTimer _sweeper;
    private int _waiting;
    private int _open;
    private bool _disposed;

    static ConnectionPool()
    {
        LoopMetrics.Meter.CreateObservableGauge("syscalls.pool.waiting", ObserveWaiting, "{caller}",
            "Callers waiting for a pooled connection (the pool is smaller than its callers).");
    }

    /// <summary>A pool whose connections live on <paramref name="loop"/>.</summary>
    public ConnectionPool(EventLoop loop, ConnectionPoolOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(loop);
        _options = options ?? new ConnectionPoolOptions();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(_options.MaxConnectionsPerEndpoint, nameof(options));
        Loop = loop;
        _sweeper = loop.CreateTimer(static s => ((ConnectionPool)s!).Sweep(), this);
        lock (s_pools)
            s_pools.Add(new WeakReference<ConnectionPool>(this));
    }

    /// <summary>The loop the pool's connections live on.</summary>
    public EventLoop Loop { get; }

    /// <summary>Callers waiting for a connection now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Connections open now (rented and idle).</summary>
    public int OpenConnections => Volatile.Read(ref _open);

    /// <summary>Connections opened so far.</summary>
    public long ConnectionsOpened { get; private set; }

    /// <summary>A connection to <paramref name="endpoint"/>: an idle one, a new one while under the bound, or the next one
    /// returned. Give it back with <see cref="PooledConnection.Dispose"/> (reusable) or
    /// <see cref="PooledConnection.Discard"/>. The continuation runs on the pool's loop.</summary>
    public async ValueTask<PooledConnection> RentAsync(NetEndpoint endpoint, CancellationToken cancellationToken = default)
    {
        if (!Loop.IsOnLoopThread)
            await Loop.Delay(TimeSpan.Zero, CancellationToken.None).ConfigureAwait(false);   // continue on the loop
        ObjectDisposedException.ThrowIf(_disposed, this);
        EndpointPool pool = Get(endpoint);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (pool.Idle.Count > 0)
            {
                IdleConnection idle = pool.Idle[^1];
                pool.Idle.RemoveAt(pool.Idle.Count - 1);
                if (await idle.TakeBack().ConfigureAwait(false))
                    return new PooledConnection(this, pool, idle.Connection);
                Dropped(pool, idle.Connection);   // closed or written to while idle
                continue;
            }

            if (pool.Count < _options.MaxConnectionsPerEndpoint)
            {
                pool.Count++;
                Interlocked.Increment(ref _open);
                try
                {
                    AsyncConnection c = await AsyncConnection.ConnectAsync(Loop, endpoint, _options.ConnectTimeout, cancellationToken)
                        .ConfigureAwait(false);
                    ConnectionsOpened++;
                    return new PooledConnection(this, pool, c);
                }
                catch
                {
                    pool.Count--;
                    Interlocked.Decrement(ref _open);
                    WakeWaiter(pool);
                    throw;
                }
            }

            var waiter = new TaskCompletionSource(TaskCreationOptions.None);
            pool.Waiters.Enqueue(waiter);
            Interlocked.Increment(ref _waiting);
            try
            {
                await waiter.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
        }
    }

    /// <summary>Closes every idle connection now; rented ones close when returned. Any thread.</summary>
    public void Dispose()
    {
        if (Loop.IsOnLoopThread)
            DisposeOnLoop();
        else
            Loop.TryPost(static s => ((ConnectionPool)s!).DisposeOnLoop(), this);
    }

    /// <summary>As <see cref="Dispose"/>.</summary>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return default;
    }

    internal void Return(EndpointPool pool, AsyncConnection connection, bool reusable)
    {
        if (!Loop.IsOnLoopThread)
        {
            Loop.PostInternal(static s =>
            {
                var (p, ep, c, r) = ((ConnectionPool, EndpointPool, AsyncConnection, bool))s!;
                p.Return(ep, c, r);
            }, (this, pool, connection, reusable));
            return;
        }

        if (!reusable || _disposed || !connection.IsOpen)
        {
            connection.Abort();
            Dropped(pool, connection);
            return;
        }

        var idle = new IdleConnection(connection, Environment.TickCount64);
        idle.Watch(this, pool);
        pool.Idle.Add(idle);
        if (!_sweeper.IsActive)
            _sweeper.Start(SweepPeriod, SweepPeriod);
        WakeWaiter(pool);
    }

    private TimeSpan SweepPeriod => TimeSpan.FromMilliseconds(Math.Max(10, _options.IdleTimeout.TotalMilliseconds / 4));

    private EndpointPool Get(NetEndpoint endpoint)
    {
        if (!_endpoints.TryGetValue(endpoint, out EndpointPool? pool))
            _endpoints.Add(endpoint, pool = new EndpointPool());
        return pool;
    }

    private void Dropped(EndpointPool pool, AsyncConnection connection)
    {
        _ = connection;
        pool.Count--;
        Interlocked.Decrement(ref _open);
        WakeWaiter(pool);
    }

    private static void WakeWaiter(EndpointPool pool)
    {
        while (pool.Waiters.TryDequeue(out TaskCompletionSource? waiter))
        {
            if (waiter.TrySetResult())
                return;
        }
    }

    /// <summary>An idle connection's pending receive completed: the peer closed it or sent something; drop it.</summary>
    private void IdleEnded(EndpointPool pool, IdleConnection idle)
    {
        if (!pool.Idle.Remove(idle))
            return;   // rented meanwhile: the renter saw it through TakeBack
        idle.Connection.Abort();
        Dropped(pool, idle.Connection);
    }

    private void Sweep()
    {
        long now = Environment.TickCount64;
        long limit = (long)_options.IdleTimeout.TotalMilliseconds;
        bool any = false;
        foreach (EndpointPool pool in _endpoints.Values)
        {
            for (int i = pool.Idle.Count - 1; i >= 0; i--)
            {
                IdleConnection idle = pool.Idle[i];
                if (now - idle.Since < limit)
                {
                    any = true;
                    continue;
                }

                pool.Idle.RemoveAt(i);
                idle.Close();
                Dropped(pool, idle.Connection);
            }
        }

        if (!any)
            _sweeper.Stop();
    }

    private void DisposeOnLoop()
    {
        if (_disposed)
            return;
        _disposed = true;
        _sweeper.Stop();
        foreach (EndpointPool pool in _endpoints.Values)
        {
            foreach (IdleConnection idle in pool.Idle)
            {
                idle.Close();
                pool.Count--;
                Interlocked.Decrement(ref _open);
            }

            pool.Idle.Clear();
            while (pool.Waiters.TryDequeue(out TaskCompletionSource? waiter))
                waiter.TrySetException(new ObjectDisposedException(nameof(ConnectionPool)));
        }
    }

    private static IEnumerable<Measurement<int>> ObserveWaiting()
    {
        var result = new List<Measurement<int>>();
        lock (s_pools)
        {
            s_pools.RemoveAll(w => !w.TryGetTarget(out _));
            foreach (WeakReference<ConnectionPool> w in s_pools)
            {
                if (w.TryGetTarget(out ConnectionPool? p))
                    result.Add(new Measurement<int>(p.Waiting, new KeyValuePair<string, object?>("loop", p.Loop.BoxedId)));
            }
        }

        return result;
    }

    /// <summary>One endpoint's connections: how many exist, the idle ones (most recent last), the waiting callers.</summary>
    internal sealed class EndpointPool
    {
        internal readonly List<IdleConnection> Idle = new();
        internal readonly Queue<TaskCompletionSource> Waiters = new();
        internal int Count;
    }

    /// <summary>An idle connection with its watch: a zero-byte receive canceled when the connection is rented.</summary>
    internal sealed class IdleConnection
    {
        private readonly CancellationTokenSource _cancel = new();
        private Task<int>? _watch;

        internal IdleConnection(AsyncConnection connection, long since)
        {
            Connection = connection;
            Since = since;
        }

        internal AsyncConnection Connection { get; }

        internal long Since { get; }

        internal void Watch(ConnectionPool owner, EndpointPool pool)
        {
            _watch = Connection.ReceiveAsync(Memory<byte>.Empty, _cancel.Token).AsTask();
            _watch.ContinueWith(static (t, s) =>
            {
                if (t.IsCanceled)
                    return;
                var (o, p, idle) = ((ConnectionPool, EndpointPool, IdleConnection))s!;
                o.Loop.PostInternal(static x =>
                {
                    var (o2, p2, i2) = ((ConnectionPool, EndpointPool, IdleConnection))x!;
                    o2.IdleEnded(p2, i2);
                }, (o, p, idle));
            }, (owner, pool, this), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        /// <summary>Ends the watch; true when the connection is still good (nothing arrived while idle).</summary>
        internal async Task<bool> TakeBack()
        {
            _cancel.Cancel();
            try
            {
                await _watch!.ConfigureAwait(false);
                return false;   // data or the end of the stream while idle: not reusable
            }
            catch (OperationCanceledException)
            {
                return Connection.IsOpen;
            }
            catch (OsException)
            {
                return false;
            }
            finally
            {
                _cancel.Dispose();
            }
        }

        internal void Close()
        {
            _cancel.Cancel();
            _cancel.Dispose();
            _ = Connection.CloseAsync();
        }
    }
}

/// <summary>A rented connection: use <see cref="Connection"/>, then <see cref="Dispose"/> to give it back for reuse
/// (only when the exchange finished cleanly) or <see cref="Discard"/> to close it.</summary>
public readonly struct PooledConnection : IDisposable
{
    private readonly ConnectionPool? _pool;
    private readonly ConnectionPool.EndpointPool? _endpoint;

    internal PooledConnection(ConnectionPool pool, ConnectionPool.EndpointPool endpoint, AsyncConnection connection)
    {
        _pool = pool;
        _endpoint = endpoint;
        Connection = connection;
    }

    /// <summary>The connection (it lives on the pool's loop).</summary>
    public AsyncConnection Connection { get; }

    /// <summary>Gives the connection back for reuse.</summary>
    public void Dispose() => _pool?.Return(_endpoint!, Connection, reusable: true);

    /// <summary>Closes the connection instead of reusing it (after an error or a half-done exchange).</summary>
    public void Discard() => _pool?.Return(_endpoint!, Connection, reusable: false);
}
