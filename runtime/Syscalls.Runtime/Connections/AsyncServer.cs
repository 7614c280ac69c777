using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Syscalls.Runtime.Sockets;

namespace Syscalls.Runtime;

/// <summary>Options of <see cref="AsyncServer.Start"/>.</summary>
public sealed class AsyncServerOptions
{
    /// <summary>Address to listen on; default 127.0.0.1 with a port chosen by the OS.</summary>
    public NetEndpoint Endpoint { get; set; } = NetEndpoint.Loopback(0);

    /// <summary>The backend; <see cref="BackendKind.Auto"/> lets the selector (and SYSCALLS_BACKEND) choose.
    /// <see cref="BackendKind.Threads"/>: one thread per connection, each running a loop of its own.</summary>
    public BackendKind Backend { get; set; } = BackendKind.Auto;

    /// <summary>Loops serving the endpoint, each on its own thread; 0 (the default): one per processor. Each connection
    /// lives on one loop for its whole life. Ignored by <see cref="BackendKind.Threads"/>.</summary>
    public int Loops { get; set; }

    /// <summary>How connections reach the loops: with SO_REUSEPORT every loop listens and the kernel balances (the
    /// default on Linux); otherwise one acceptor hands them out in turn (macOS, whose SO_REUSEPORT does not balance,
    /// and Windows).</summary>
    public bool? ReusePort { get; set; }

    /// <summary>Listener settings (backlog, TCP_NODELAY, accept queue bound).</summary>
    public ListenerOptions Listener { get; set; } = new();

    /// <summary>Settings of the loops (receive buffers, send window, log).</summary>
    public LoopOptions Loop { get; set; } = new();

    /// <summary>Stack size of each connection thread of <see cref="BackendKind.Threads"/>.</summary>
    public int ThreadStackSize { get; set; } = 256 * 1024;
}

/// <summary>A TCP server that runs an async handler per connection on N event loops: the handler's code runs on the
/// connection's loop, so it must not block. When the handler returns, the connection is closed gracefully; when it
/// throws, only that connection is aborted and the exception is reported through <see cref="HandlerFailed"/> (and
/// the log); the loops and the other connections go on.</summary>
/// <remarks>Thread rules: any thread. <see cref="HandlerFailed"/> is raised on the failing connection's loop.</remarks>
public sealed class AsyncServer : IAsyncDisposable, IDisposable
{
    private readonly Func<AsyncConnection, ValueTask> _handler;
    private readonly AsyncServerOptions _options;
    private readonly List<EventLoop> _loops = new();
    private readonly List<AsyncListener> _listeners = new();
    private readonly long[] _accepted;
    private readonly ThreadLoops? _threads;
    private long _open;
    private int _next;
    private int _stopped;

    private AsyncServer(AsyncServerOptions options, Func<AsyncConnection, ValueTask> handler)
    {
        _options = options;
        _handler = handler;
        bool threads = options.Backend == BackendKind.Threads
                       || (options.Backend == BackendKind.Auto && BackendSelector.ForcedServerBackend == BackendKind.Threads);
        int count = threads ? 1 : options.Loops > 0 ? options.Loops : Environment.ProcessorCount;
        _accepted = new long[count];
        for (int i = 0; i < count; i++)
        {
            LoopOptions lo = options.Loop.Clone();
            lo.Backend = threads ? BackendKind.Threads : options.Backend;
            lo.ThreadName = $"syscalls-loop-{i}";
            _loops.Add(EventLoop.Start(lo));
        }

        if (threads)
            _threads = new ThreadLoops(this);
    }

    /// <summary>Binds, starts the loops and serves until disposed.</summary>
    /// <exception cref="OsException">Bind or listen failed (the message names the address).</exception>
    public static AsyncServer Start(AsyncServerOptions options, Func<AsyncConnection, ValueTask> handler)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(handler);
        var server = new AsyncServer(options, handler);
        try
        {
            server.Listen();
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>The bound address (with the real port when 0 was asked for).</summary>
    public NetEndpoint LocalEndpoint { get; private set; }

    /// <summary>The backend in use (after any fallback).</summary>
    public BackendKind Backend => _threads is not null ? BackendKind.Threads : _loops[0].Backend;

    /// <summary>Why it was chosen.</summary>
    public string SelectionReason => _loops[0].SelectionReason;

    /// <summary>The serving loops (with <see cref="BackendKind.Threads"/>: the acceptor's loop; each connection has a loop
    /// of its own).</summary>
    public IReadOnlyList<EventLoop> Loops => _loops;

    /// <summary>Connections open now.</summary>
    public long ConnectionCount => Interlocked.Read(ref _open);

    /// <summary>Connections accepted by loop <paramref name="index"/> of <see cref="Loops"/> so far.</summary>
    public long AcceptedOn(int index) => Interlocked.Read(ref _accepted[index]);

    /// <summary>True when connections are spread by SO_REUSEPORT listeners, one per loop.</summary>
    public bool UsesReusePort { get; private set; }

    /// <summary>Raised on the connection's loop when a handler throws; the connection has been aborted.</summary>
    public event Action<AsyncConnection, Exception>? HandlerFailed;

    /// <summary>Stops accepting at once (the listeners close; connections already accepted go on, and the loops keep
    /// running until <see cref="StopAsync"/> or <see cref="Dispose"/>): what a host's "unbind" needs. Any thread;
    /// idempotent.</summary>
    public void StopAccepting()
    {
        foreach (AsyncListener l in _listeners)
            l.Dispose();
    }

    /// <summary>Stops accepting, lets running handlers finish for up to <paramref name="grace"/> (default 5 s), then stops
    /// the loops (what is still open is closed, its pending operations fail with <see cref="ErrorKind.Canceled"/>).</summary>
    public async Task StopAsync(TimeSpan grace = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
            return;
        foreach (AsyncListener l in _listeners)
            l.Dispose();
        long deadline = Environment.TickCount64 + (long)(grace == default ? TimeSpan.FromSeconds(5) : grace).TotalMilliseconds;
        while (ConnectionCount > 0 && Environment.TickCount64 < deadline)
            await Task.Delay(10).ConfigureAwait(false);
        _threads?.StopAll();
        foreach (EventLoop loop in _loops)
            loop.Dispose();
    }

    /// <summary>Stops (see <see cref="StopAsync"/>) with no grace period for running handlers.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
            return;
        foreach (AsyncListener l in _listeners)
            l.Dispose();
        _threads?.StopAll();
        foreach (EventLoop loop in _loops)
            loop.Dispose();
    }

    /// <summary>As <see cref="StopAsync"/>.</summary>
    public ValueTask DisposeAsync() => new(StopAsync());

    private void Listen()
    {
        bool reusePort = _options.ReusePort ?? OperatingSystem.IsLinux();
        UsesReusePort = reusePort && _loops.Count > 1 && _threads is null;
        NetEndpoint endpoint = _options.Endpoint;
        for (int i = 0; i < (UsesReusePort ? _loops.Count : 1); i++)
        {
            var lo = new ListenerOptions
            {
                Backlog = _options.Listener.Backlog,
                NoDelay = _options.Listener.NoDelay,
                AcceptQueueLimit = _options.Listener.AcceptQueueLimit,
                ReusePort = UsesReusePort,
            };
            // Port 0: the first bind picks the port, the other loops bind that one.
            AsyncListener listener = AsyncListener.Listen(_loops[i], endpoint, lo);
            _listeners.Add(listener);
            endpoint = listener.LocalEndpoint;
        }

        LocalEndpoint = _listeners[0].LocalEndpoint;
        if (_threads is not null)
        {
            _listeners[0].Loop.Post(static s => ((AsyncServer)s!).DistributeFrom(0, ((AsyncServer)s!)._threads!.Start), this);
            return;
        }

        if (UsesReusePort || _loops.Count == 1)
        {
            for (int i = 0; i < _listeners.Count; i++)
            {
                int index = i;
                _loops[i].Post(_ => _ = AcceptLoop(_listeners[index], index), null);
            }

            return;
        }

        _loops[0].Post(static s => ((AsyncServer)s!).DistributeFrom(0, ((AsyncServer)s!).HandOut), this);
    }

    /// <summary>One acceptor: accepted sockets go to <paramref name="target"/> (loop thread of the listener).</summary>
    private void DistributeFrom(int listener, Action<SocketHandle> target) => _listeners[listener].DistributeTo(target);

    /// <summary>The acceptor hands each connection to the next loop in turn; it is created there.</summary>
    private void HandOut(SocketHandle accepted)
    {
        int index = _next++ % _loops.Count;
        Interlocked.Increment(ref _accepted[index]);
        if (!_loops[index].TryPost(static s =>
            {
                var (server, loop, socket) = ((AsyncServer, EventLoop, SocketHandle))s!;
                server.Adopted(loop, socket);
            }, (this, _loops[index], accepted)))
            accepted.Dispose();
    }

    private void Adopted(EventLoop loop, SocketHandle socket)
    {
        if (!loop.IsAcceptingWork)
        {
            socket.Dispose();
            return;
        }

        Result<AsyncConnection> adopted = AsyncConnection.Adopt(loop, socket);
        if (adopted.TryGetValue(out AsyncConnection? c))
            Serve(c);
        else
            loop.Log($"connection dropped: {adopted.Error}");
    }

    private async Task AcceptLoop(AsyncListener listener, int index)
    {
        while (true)
        {
            AsyncConnection? c;
            try
            {
                c = await listener.AcceptAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is OsException or ObjectDisposedException)
            {
                return;
            }

            if (c is null)
                return;
            Interlocked.Increment(ref _accepted[index]);
            Serve(c);
        }
    }

    /// <summary>Runs the handler on the connection's loop; its end closes the connection, its exception aborts it.</summary>
    internal void Serve(AsyncConnection c)
    {
        Interlocked.Increment(ref _open);
        ValueTask running;
        try
        {
            running = _handler(c);
        }
        catch (Exception e)
        {
            Failed(c, e);
            return;
        }

        if (running.IsCompletedSuccessfully)
            Finished(c);
        else
            _ = Await(running, c);
    }

    private async Task Await(ValueTask running, AsyncConnection c)
    {
        try
        {
            await running.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Failed(c, e);
            return;
        }

        Finished(c);
    }

    private void Finished(AsyncConnection c)
    {
        _ = c.CloseAsync();
        c.Closed.ContinueWith(static (_, s) => Interlocked.Decrement(ref ((AsyncServer)s!)._open), this, CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        _threads?.Finished(c);
    }

    private void Failed(AsyncConnection c, Exception e)
    {
        c.Abort();
        Interlocked.Decrement(ref _open);
        _threads?.Finished(c);
        if (Volatile.Read(ref _stopped) != 0 && e is OsException { Error.Kind: ErrorKind.Canceled or ErrorKind.ConnectionAborted })
            return;   // the server's own shutdown ended the handler's pending operation: not a handler failure
        Action<AsyncConnection, Exception>? handler = HandlerFailed;
        if (handler is null)
        {
            c.Loop.Log($"handler failed on {c}, connection aborted: {e}");
            return;
        }

        try
        {
            handler(c, e);
        }
        catch (Exception inner)
        {
            c.Loop.Log($"the HandlerFailed handler threw: {inner}");
        }
    }

    /// <summary>Thread per connection: each accepted socket gets a thread running a loop of its own (the plain poller of
    /// the OS), which ends when the connection's handler is done and the connection closed.</summary>
    private sealed class ThreadLoops
    {
        private readonly AsyncServer _server;
        private readonly HashSet<EventLoop> _live = new();

        internal ThreadLoops(AsyncServer server) => _server = server;

        internal void Start(SocketHandle accepted)
        {
            Interlocked.Increment(ref _server._accepted[0]);
            LoopOptions lo = _server._options.Loop.Clone();
            lo.Backend = BackendKind.Threads;
            lo.ThreadName = "syscalls-conn";
            lo.ThreadStackSize = _server._options.ThreadStackSize;
            EventLoop loop;
            try
            {
                loop = EventLoop.Start(lo);
            }
            catch (Exception e) when (e is OsException or OutOfMemoryException)
            {
                _server._loops[0].Log($"threads: no loop for a connection ({e.Message}); it is closed");
                accepted.Dispose();
                return;
            }

            lock (_live)
                _live.Add(loop);
            loop.Post(static s =>
            {
                var (server, l, socket) = ((AsyncServer, EventLoop, SocketHandle))s!;
                server.Adopted(l, socket);
            }, (_server, loop, accepted));
        }

        /// <summary>The handler ended: the loop stops once the connection is closed.</summary>
        internal void Finished(AsyncConnection c)
        {
            c.Closed.ContinueWith(static (_, s) =>
            {
                var (threads, loop) = ((ThreadLoops, EventLoop))s!;
                lock (threads._live)
                    threads._live.Remove(loop);
                loop.Stop();
            }, (this, c.Loop), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        internal void StopAll()
        {
            EventLoop[] loops;
            lock (_live)
                loops = [.. _live];
            foreach (EventLoop l in loops)
                l.Dispose();
        }
    }
}
