using System;
using System.Collections.Generic;
using System.Net.Sockets;
using System.Threading;
using Syscalls.Runtime.Backends.Common;
using Syscalls.Runtime.Servers.Common;
using Syscalls.Runtime.Sockets;

namespace Syscalls.Runtime.Backends.Threads;

/// <summary>Thread-per-connection fallback: blocking sockets, one thread with a small stack per connection, the
/// same <see cref="IServer"/>/<see cref="IConnectionHandler"/> shape as the loop servers. Needs no poller at all, so it
/// runs on every OS the socket layer (<see cref="SocketCalls"/>) knows.</summary>
internal sealed class ThreadServer : IServer, IConnectionTransport
{
    private const int MaxStackBuffer = 16 * 1024;

    private readonly ServerOptions _options;
    private readonly IConnectionHandler _handler;
    private readonly SocketHandle _listener;
    private readonly object _gate = new();
    private readonly List<Worker?> _workers = new();
    private readonly Stack<int> _free = new();
    private readonly ManualResetEventSlim _allClosed = new(true);
    private volatile bool _stopping;
    private int _count;
    private RunState _run;
    private bool _disposed;

    internal ThreadServer(string reason, ServerOptions options, IConnectionHandler handler)
    {
        SelectionReason = reason;
        _options = options;
        _handler = handler;
        _listener = SocketOps.ListenOrThrow(options.Endpoint, options.Backlog, blocking: true);
        LocalEndpoint = SocketOps.GetLocalEndpoint(_listener).Value;
    }

    public BackendKind Backend => BackendKind.Threads;

    public string SelectionReason { get; }

    public NetEndpoint LocalEndpoint { get; }

    public int ConnectionCount => Volatile.Read(ref _count);

    public void Run()
    {
        _run.EnterRun(this);
        var backoff = new AcceptBackoff();
        Worker? spare = null;
        try
        {
            while (!_stopping)
            {
                // The thread comes first: a connection is accepted only when a thread can serve it, so when threads
                // cannot be created (memory, descriptors) connections wait in the backlog instead of being dropped.
                if (spare is null && (spare = TryStartWorker(out string? why)) is null)
                {
                    int ms = backoff.Pause(out _);
                    _options.Log?.Invoke($"threads: cannot start a connection thread ({why}); accept paused for {ms} ms");
                    Thread.Sleep(ms);
                    continue;
                }

                Result<int> accepted = SocketCalls.Accept(_listener.Descriptor, blocking: true);
                if (accepted.TryGetValue(out int fd))
                {
                    if (_stopping)
                    {
                        SocketCalls.Close(fd);   // the wake-up connection of Stop (or a client that came too late)
                        break;
                    }

                    backoff.Reset();
                    Assign(spare, fd);
                    spare = null;
                    continue;
                }

                if (_stopping)
                    break;
                switch (accepted.Error.Kind)
                {
                    case ErrorKind.ConnectionAborted:
                    case ErrorKind.ConnectionReset:
                        continue;
                    case ErrorKind.TooManyOpenFiles:
                    case ErrorKind.OutOfMemory:
                        // EMFILE leaves the connection queued: sleep instead of spinning on accept.
                        int paused = backoff.Pause(out _);
                        _options.Log?.Invoke($"threads: accept paused for {paused} ms: {accepted.Error}");
                        Thread.Sleep(paused);
                        continue;
                    default:
                        _options.Log?.Invoke($"threads: accept failed: {accepted.Error}");
                        Thread.Sleep(backoff.Pause(out _));
                        continue;
                }
            }
        }
        finally
        {
            spare?.Assign(null, default);   // the parked spare thread exits
            _run.ExitRun();
            Shutdown();
        }
    }

    public void Stop()
    {
        if (_stopping)
            return;
        _stopping = true;
        if (OperatingSystem.IsLinux())
        {
            // shutdown(2) on the listener wakes the thread blocked in accept (it returns EINVAL).
            SocketOps.ShutdownBoth(_listener);
            return;
        }

        // Elsewhere shutdown of a listener is ENOTCONN and wakes nobody, and closing it under a blocked accept races
        // with handle reuse: connect to it instead. The connection stays queued, so a Run that has not reached accept
        // yet finds it too.
        WakeAccept();
    }

    private void WakeAccept()
    {
        NetEndpoint target = LocalEndpoint;
        Span<byte> address = stackalloc byte[16];
        target.CopyAddressTo(address);
        if (!address.ContainsAnyExcept((byte)0))   // bound to the wildcard address: connect through loopback
            target = target.Family == AddressFamily.InterNetworkV6 ? NetEndpoint.LoopbackV6(target.Port) : NetEndpoint.Loopback(target.Port);
        Result<SocketHandle> created = SocketOps.CreateTcp(target.Family, blocking: true);
        if (!created.TryGetValue(out SocketHandle? s))
        {
            _options.Log?.Invoke($"threads: cannot wake accept: {created.Error}");
            return;
        }

        using (s)
        {
            Result r = SocketOps.Connect(s, target);
            if (!r.IsSuccess)
                _options.Log?.Invoke($"threads: cannot wake accept: {r.Error}");
        }
    }

    /// <summary>Stops; shuts down here when Run never started, else Run does as it returns (on its thread).</summary>
    public void Dispose()
    {
        Stop();
        if (_run.TryDisposeBeforeRun())
            Shutdown();
    }

    // ---------------------------------------------------------------- IConnectionTransport

    public Result Send(ConnectionId id, ReadOnlySpan<byte> data)
    {
        Worker? w = Find(id);
        if (w is null || w.CloseRequested || w.WriteShutdown)
            return OsError.FromKind(ErrorKind.NotConnected);
        // The reference keeps the descriptor open, and its number out of reuse, until this send is done: the worker
        // may close the connection meanwhile, and a new connection could otherwise take the number.
        if (!w.TryAddRef(out int fd))
            return OsError.FromKind(ErrorKind.NotConnected);
        try
        {
            while (!data.IsEmpty)
            {
                Result<int> sent = SocketCalls.Send(fd, data);
                if (!sent.TryGetValue(out int n))
                {
                    if (sent.Error.Kind == ErrorKind.WouldBlock)
                    {
                        // Only with a send timeout or a descriptor made non-blocking elsewhere; wait a little, go on.
                        Thread.Sleep(1);
                        continue;
                    }

                    w.Fail(sent.Error);
                    return sent.Error;
                }

                data = data[n..];
            }

            return Result.Success;
        }
        finally
        {
            w.ReleaseRef();
        }
    }

    public Result ShutdownWrite(ConnectionId id)
    {
        Worker? w = Find(id);
        if (w is null || !w.TryAddRef(out int fd))
            return OsError.FromKind(ErrorKind.NotConnected);
        try
        {
            w.WriteShutdown = true;
            Result r = SocketCalls.ShutdownWrite(fd);
            if (w.PeerClosed)
                w.CloseRequested = true;
            return r;
        }
        finally
        {
            w.ReleaseRef();
        }
    }

    public void Close(ConnectionId id) => Find(id)?.RequestClose(abort: false);

    public void Abort(ConnectionId id) => Find(id)?.RequestClose(abort: true);

    public bool IsOpen(ConnectionId id) => Find(id) is { CloseRequested: false };

    public int GetPendingSendBytes(ConnectionId id) => 0;   // sends block until written

    // ---------------------------------------------------------------- workers

    private Worker? TryStartWorker(out string? why)
    {
        var w = new Worker(this);
        var thread = new Thread(static state => ((Worker)state!).Run(), _options.ThreadStackSize)
        {
            IsBackground = true,
            Name = "syscalls-conn",
        };
        try
        {
            thread.UnsafeStart(w);
            why = null;
            return w;
        }
        catch (OutOfMemoryException e)
        {
            // pthread_create failed (memory, or a descriptor the runtime needs for the thread).
            why = e.Message;
            return null;
        }
    }

    private void Assign(Worker w, int fd)
    {
        var handle = new SocketHandle(fd);
        if (_options.NoDelay)
            SocketCalls.SetNoDelay(fd, true);
        lock (_gate)
        {
            int slot;
            if (_free.Count > 0)
            {
                slot = _free.Pop();
            }
            else
            {
                slot = _workers.Count;
                _workers.Add(null);
            }

            while (_generations.Count <= slot)
                _generations.Add(0);
            uint generation = ++_generations[slot];
            w.Assign(handle, new ConnectionId(slot, generation));
            _workers[slot] = w;
            if (_count++ == 0)
                _allClosed.Reset();
        }
    }

    private readonly List<uint> _generations = new();

    private Worker? Find(ConnectionId id)
    {
        lock (_gate)
        {
            return (uint)id.Slot < (uint)_workers.Count && _workers[id.Slot] is { } w && w.Id == id ? w : null;
        }
    }

    /// <summary>The connection's id stops resolving (sends fail, the slot can be reused); it still counts as open.</summary>
    private void Remove(Worker w)
    {
        lock (_gate)
        {
            _workers[w.Id.Slot] = null;
            _free.Push(w.Id.Slot);
        }
    }

    /// <summary>After the handler's OnClosed: only now may Shutdown, waiting for the last one, let Stop return.</summary>
    private void Closed()
    {
        lock (_gate)
        {
            if (--_count == 0)
                _allClosed.Set();
        }
    }

    private void Shutdown()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            foreach (Worker? w in _workers)
                w?.Cancel();
        }

        // Workers wake from recv (shutdown makes it return 0) and close themselves.
        _allClosed.Wait(TimeSpan.FromSeconds(10));
        _listener.Dispose();
    }

    private sealed class Worker
    {
        private readonly ThreadServer _server;
        private readonly ManualResetEventSlim _assigned = new();
        private SocketHandle? _handle;
        private OsError _error;
        private volatile bool _canceled;

        internal Worker(ThreadServer server) => _server = server;

        internal ConnectionId Id { get; private set; }

        /// <summary>The descriptor, for the worker's own thread only (it holds the handle until it closes it); other
        /// threads take a reference with <see cref="TryAddRef"/>.</summary>
        private int Fd { get; set; }

        /// <summary>Hands the parked thread its connection (null: exit).</summary>
        internal void Assign(SocketHandle? handle, ConnectionId id)
        {
            _handle = handle;
            Id = id;
            Fd = handle?.Descriptor ?? -1;
            _assigned.Set();
        }

        internal volatile bool CloseRequested;
        internal volatile bool WriteShutdown;
        internal volatile bool PeerClosed;
        private volatile bool _abort;
        private Thread? _thread;

        internal void Fail(OsError error)
        {
            if (_error.IsNone)
                _error = error;
            CloseRequested = true;
        }

        internal void RequestClose(bool abort)
        {
            _abort |= abort;
            CloseRequested = true;
            if ((!ReferenceEquals(Thread.CurrentThread, _thread) || abort) && TryAddRef(out int fd))
            {
                // Wake the worker if it blocks in recv: shutdown makes every later recv return at once, and on
                // Windows, where shutdown does not end a recv already waiting, CancelIoEx ends that one. Under a
                // reference: the worker may be closing the descriptor right now.
                SocketCalls.ShutdownRead(fd);
                SocketCalls.CancelBlockingCalls(fd);
                ReleaseRef();
            }
        }

        internal void Cancel()
        {
            _canceled = true;
            CloseRequested = true;
            if (TryAddRef(out int fd))
            {
                SocketCalls.ShutdownBoth(fd);
                SocketCalls.CancelBlockingCalls(fd);
                ReleaseRef();
            }
        }

        /// <summary>A reference on the connection's handle, so that its descriptor is neither closed nor its number
        /// reused until <see cref="ReleaseRef"/>; false once the worker has closed it.</summary>
        internal bool TryAddRef(out int fd)
        {
            SocketHandle? handle = _handle;
            fd = -1;
            if (handle is null || !HandleRefs.TryAddRef(handle))
                return false;
            fd = handle.Descriptor;
            return true;
        }

        internal void ReleaseRef() => _handle!.DangerousRelease();

        internal void Run()
        {
            _assigned.Wait();
            _assigned.Dispose();
            if (_handle is null)
                return;
            _thread = Thread.CurrentThread;
            var connection = new Connection(_server, Id);
            IConnectionHandler handler = _server._handler;
            // The receive buffer lives on this thread's stack: no heap buffer per connection.
            Span<byte> buffer = stackalloc byte[Math.Min(_server._options.ReceiveBufferSize, MaxStackBuffer)];
            string callback = nameof(IConnectionHandler.OnOpened);
            bool handlerFailed = false;
            try
            {
                handler.OnOpened(connection);
                while (!CloseRequested)
                {
                    Result<int> received = SocketCalls.Recv(Fd, buffer);
                    if (!received.TryGetValue(out int n) && received.Error.Kind == ErrorKind.WouldBlock)
                    {
                        Thread.Sleep(1);
                        continue;
                    }

                    if (!received.IsSuccess)
                    {
                        Fail(received.Error);
                        break;
                    }

                    if (CloseRequested)
                        break;
                    if (n == 0)
                    {
                        OsError pending = SocketCalls.GetPendingError(Fd);
                        if (!pending.IsNone)
                        {
                            // An error pending with the end of stream: the peer reset (under Wine a blocking recv can
                            // return 0 after a reset), not an orderly close.
                            Fail(pending);
                            break;
                        }

                        PeerClosed = true;
                        callback = nameof(IConnectionHandler.OnEndOfStream);
                        handler.OnEndOfStream(connection);
                        if (WriteShutdown)
                            break;
                        // A handler that keeps the connection half-open waits here until it closes it.
                        while (!CloseRequested)
                            Thread.Sleep(10);
                        break;
                    }

                    callback = nameof(IConnectionHandler.OnData);
                    handler.OnData(connection, buffer[..n]);
                }
            }
            catch (Exception e)
            {
                // Only the handler throws here (socket calls return results): failures stay local, as in the loop
                // servers; unhandled on this raw thread, the exception would end the process.
                handlerFailed = true;
                _abort = true;
                HandlerFailures.Report(_server._options, "threads", connection, callback, e);
            }
            finally
            {
                if (_abort)
                    SocketCalls.SetLingerZero(Fd);
                _server.Remove(this);
                _handle.Dispose();
                try
                {
                    handler.OnClosed(connection, handlerFailed ? HandlerFailures.Reason
                        : _canceled ? OsError.FromKind(ErrorKind.Canceled) : _error);
                }
                catch (Exception e)
                {
                    HandlerFailures.Report(_server._options, "threads", connection, nameof(IConnectionHandler.OnClosed), e);
                }
                finally
                {
                    _server.Closed();   // signalled before OnClosed ran, Stop could return with a close unreported
                }
            }
        }
    }
}
