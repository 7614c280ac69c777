using System;
using Syscalls.Runtime.Backends.Common;
using Syscalls.Runtime.Servers.Common;
using Syscalls.Runtime.Sockets;

namespace Syscalls.Runtime.Servers;

/// <summary>The readiness-model server: one loop thread over any <see cref="IPoller"/>, level-triggered, one recv into
/// a shared loop buffer and one send per readiness event (like the C reference), unsent tails parked per connection
/// with the connection switched to writability until they drain, reading paused above a high-water mark.</summary>
/// <remarks>Steady state allocates nothing: events go to a preallocated array, data to the shared buffer, tails to
/// pooled arrays. EMFILE in accept pauses the listener (no spinning) until a connection closes or a backoff ends.
/// OS-neutral: sockets go through <see cref="SocketCalls"/>, readiness through whichever poller the selector chose
/// (epoll, poll, AFD, WSAPoll, kqueue).</remarks>
internal sealed class PollerServer : IServer, IConnectionTransport
{
    private const ulong ListenerToken = ulong.MaxValue - 1;

    private readonly IPoller _poller;
    private readonly IConnectionHandler _handler;
    private readonly ServerOptions _options;
    private readonly SocketHandle _listener;
    private readonly SlotTable<PollerSlot> _table;
    private readonly byte[] _receiveBuffer;
    private readonly PollEvent[] _events = new PollEvent[1024];
    private volatile bool _stopping;
    private AcceptBackoff _accept;
    private long _acceptResumeAt;
    private RunState _run;

    internal PollerServer(BackendKind backend, string reason, IPoller poller, ServerOptions options, IConnectionHandler handler)
    {
        Backend = backend;
        SelectionReason = reason;
        _poller = poller;
        _options = options;
        _handler = handler;
        _table = new SlotTable<PollerSlot>(options.InitialConnectionCapacity, uint.MaxValue);
        _receiveBuffer = GC.AllocateUninitializedArray<byte>(Math.Max(options.ReceiveBufferSize, 1024));
        _listener = SocketOps.ListenOrThrow(options.Endpoint, options.Backlog);
        LocalEndpoint = SocketOps.GetLocalEndpoint(_listener).Value;
        Result r = _poller.Register(_listener, ListenerToken, Interest.Readable);
        if (!r.IsSuccess)
        {
            _listener.Dispose();
            r.ThrowIfFailed();
        }
    }

    public BackendKind Backend { get; }

    public string SelectionReason { get; }

    public NetEndpoint LocalEndpoint { get; }

    public int ConnectionCount => _table.Count;

    /// <summary>Waits the loop made (for tests: a loop that spins shows here).</summary>
    internal long LoopIterations { get; private set; }

    public void Run()
    {
        _run.EnterRun(this);
        try
        {
            while (!_stopping)
            {
                int timeout = -1;
                if (_accept.Paused)
                    timeout = (int)Math.Max(0, _acceptResumeAt - Environment.TickCount64);
                LoopIterations++;
                Result<int> waited = _poller.Wait(_events, timeout);
                if (!waited.TryGetValue(out int n))
                {
                    Log($"wait failed: {waited.Error}");
                    break;
                }

                for (int i = 0; i < n; i++)
                {
                    ref readonly PollEvent ev = ref _events[i];
                    if (ev.Token == ListenerToken)
                        AcceptAll();
                    else if (_table.TryGet((int)(uint)ev.Token, (uint)(ev.Token >> 32), out int slot))
                        Dispatch(slot, ev.Readiness);
                    // else: a stale event for a slot closed earlier in this batch; its generation no longer matches.
                }

                FlushCloseQueue();
                if (_accept.Paused && Environment.TickCount64 >= _acceptResumeAt)
                    ResumeAccept();
            }
        }
        finally
        {
            _run.ExitRun();
            Shutdown();
        }
    }

    public void Stop()
    {
        _stopping = true;
        _poller.Wake();
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
        if (!_table.TryGet(id, out int slot))
            return OsError.FromKind(ErrorKind.NotConnected);
        ref PollerSlot s = ref _table[slot];
        if ((s.Flags & (ConnectionFlags.WriteShutdown | ConnectionFlags.ShutdownRequested | ConnectionFlags.CloseRequested)) != 0)
            return OsError.FromKind(ErrorKind.NotConnected);
        if (data.IsEmpty)
            return Result.Success;
        if (s.PendingCount > 0)
        {
            s.AppendPending(data);
            UpdateInterest(slot);
            return Result.Success;
        }

        Result<int> sent = SocketCalls.Send(s.Fd, data);
        if (sent.TryGetValue(out int n))
        {
            if (n == data.Length)
                return Result.Success;
            data = data[n..];
        }
        else if (sent.Error.Kind != ErrorKind.WouldBlock)
        {
            QueueClose(slot, sent.Error);
            return sent.Error;
        }

        s.AppendPending(data);
        UpdateInterest(slot);
        return Result.Success;
    }

    public Result ShutdownWrite(ConnectionId id)
    {
        if (!_table.TryGet(id, out int slot))
            return OsError.FromKind(ErrorKind.NotConnected);
        ref PollerSlot s = ref _table[slot];
        if (s.PendingCount > 0)
        {
            s.Flags |= ConnectionFlags.ShutdownRequested;
            return Result.Success;
        }

        return _table.ShutdownWrite(slot);
    }

    public void Close(ConnectionId id)
    {
        if (!_table.TryGet(id, out int slot))
            return;
        ref PollerSlot s = ref _table[slot];
        if (s.PendingCount == 0)
        {
            QueueClose(slot, default);
            return;
        }

        s.Flags |= ConnectionFlags.CloseRequested;
        UpdateInterest(slot);
    }

    public void Abort(ConnectionId id)
    {
        if (!_table.TryGet(id, out int slot))
            return;
        _table[slot].Flags |= ConnectionFlags.Abort;
        QueueClose(slot, default);
    }

    public bool IsOpen(ConnectionId id) => _table.TryGet(id, out _);

    public int GetPendingSendBytes(ConnectionId id) => _table.TryGet(id, out int slot) ? _table[slot].PendingCount : 0;

    // ---------------------------------------------------------------- loop

    private void Dispatch(int slot, Readiness readiness)
    {
        ref PollerSlot s = ref _table[slot];
        if ((readiness & Readiness.Writable) != 0 && s.PendingCount > 0)
        {
            Flush(slot);
            if (s.State != SlotState.Open)
                return;
        }

        const Readiness ReadSide = Readiness.Readable | Readiness.ReadClosed | Readiness.Closed | Readiness.Error;
        if ((readiness & ReadSide) == 0 || (s.Interest & Interest.Readable) == 0)
        {
            // A poller without ReadClosed (WSAPoll) reports the peer's FIN as a hang-up, and keeps reporting it: after
            // end of stream that is no reset, and the connection stays half-open until it is done writing.
            bool finOnly = (readiness & Readiness.Error) == 0 && (s.Flags & ConnectionFlags.PeerClosed) != 0
                           && (_poller.Capabilities & PollerCapabilities.ReadClosed) == 0;
            if ((readiness & (Readiness.Closed | Readiness.Error)) != 0 && (s.Interest & Interest.Readable) == 0 && !finOnly)
                QueueClose(slot, SocketErrorOr(slot, ErrorKind.ConnectionReset));
            return;
        }

        Result<int> received = SocketCalls.Recv(s.Fd, _receiveBuffer);
        if (received.TryGetValue(out int n))
        {
            var connection = new Connection(this, new ConnectionId(slot, s.Generation));
            if (n > 0)
            {
                try
                {
                    _handler.OnData(connection, _receiveBuffer.AsSpan(0, n));
                }
                catch (Exception e)
                {
                    HandlerThrew(connection, nameof(IConnectionHandler.OnData), e);
                }

                return;
            }

            if ((readiness & Readiness.Error) != 0)
            {
                // An error was reported with the end of stream: the peer reset (Wine's AFD and WSAPoll report the
                // reset, then recv returns 0), not an orderly close.
                QueueClose(slot, SocketErrorOr(slot, ErrorKind.ConnectionReset));
                return;
            }

            s.Flags |= ConnectionFlags.PeerClosed;
            UpdateInterest(slot);
            try
            {
                _handler.OnEndOfStream(connection);
            }
            catch (Exception e)
            {
                HandlerThrew(connection, nameof(IConnectionHandler.OnEndOfStream), e);
            }

            return;
        }

        if (received.Error.Kind != ErrorKind.WouldBlock)
            QueueClose(slot, received.Error);
    }

    private void Flush(int slot)
    {
        ref PollerSlot s = ref _table[slot];
        Result<int> sent = SocketCalls.Send(s.Fd, s.Pending.AsSpan(s.PendingStart, s.PendingCount));
        if (sent.TryGetValue(out int n))
        {
            s.ConsumePending(n);
        }
        else if (sent.Error.Kind != ErrorKind.WouldBlock)
        {
            QueueClose(slot, sent.Error);
            return;
        }

        if (s.PendingCount == 0)
        {
            if ((s.Flags & ConnectionFlags.CloseRequested) != 0)
            {
                QueueClose(slot, default);
                return;
            }

            if ((s.Flags & ConnectionFlags.ShutdownRequested) != 0)
                _table.ShutdownWrite(slot);
        }

        UpdateInterest(slot);
    }

    /// <summary>Watches readable unless the peer closed, a close is pending, or the tail is above the high-water
    /// mark; writable while a tail is parked.</summary>
    private void UpdateInterest(int slot)
    {
        ref PollerSlot s = ref _table[slot];
        if (s.State != SlotState.Open)
            return;
        Interest want = Interest.None;
        bool stopReading = (s.Flags & (ConnectionFlags.PeerClosed | ConnectionFlags.CloseRequested)) != 0 || s.PendingCount > _options.MaxPendingSendBytes;
        if (!stopReading)
            want |= Interest.Readable;
        if (s.PendingCount > 0)
            want |= Interest.Writable;
        if (want == s.Interest)
            return;
        Result r = _poller.Modify(s.Handle!, PollerSlot.Token(slot, s.Generation), want);
        if (r.IsSuccess)
            s.Interest = want;
        else
            QueueClose(slot, r.Error);
    }

    private void AcceptAll()
    {
        while (!_stopping)
        {
            Result<int> accepted = SocketCalls.Accept(_listener.Descriptor, blocking: false);
            if (accepted.TryGetValue(out int fd))
            {
                AddConnection(fd);
                continue;
            }

            switch (accepted.Error.Kind)
            {
                case ErrorKind.WouldBlock:
                    return;
                case ErrorKind.TooManyOpenFiles:
                case ErrorKind.OutOfMemory:
                    PauseAccept(accepted.Error);
                    return;
                case ErrorKind.ConnectionAborted:
                case ErrorKind.ConnectionReset:
                    continue;   // the peer gave up while queued; the next one may be fine
                default:
                    Log($"accept failed: {accepted.Error}");
                    PauseAccept(accepted.Error);
                    return;
            }
        }
    }

    private void AddConnection(int fd)
    {
        var handle = new SocketHandle(fd);
        if (_options.NoDelay)
            SocketCalls.SetNoDelay(fd, true);
        int slot = _table.Allocate(handle);
        ref PollerSlot s = ref _table[slot];
        s.Fd = fd;
        Result r = _poller.Register(handle, PollerSlot.Token(slot, s.Generation), Interest.Readable);
        if (!r.IsSuccess)
        {
            Log($"register failed: {r.Error}");
            _table.Release(slot);
            handle.Dispose();
            return;
        }

        s.Interest = Interest.Readable;
        _accept.Reset();
        var connection = new Connection(this, _table.IdOf(slot));
        try
        {
            _handler.OnOpened(connection);
        }
        catch (Exception e)
        {
            HandlerThrew(connection, nameof(IConnectionHandler.OnOpened), e);
        }
    }

    private void PauseAccept(OsError error)
    {
        int ms = _accept.Pause(out bool first);
        if (first)
        {
            Log($"accept paused for {ms} ms: {error}");
            _poller.Modify(_listener, ListenerToken, Interest.None);
        }

        _acceptResumeAt = Environment.TickCount64 + ms;
    }

    private void ResumeAccept()
    {
        _accept.Resume();
        _poller.Modify(_listener, ListenerToken, Interest.Readable);
    }

    private void QueueClose(int slot, OsError reason) => _table.QueueClose(slot, reason);

    private void FlushCloseQueue()
    {
        for (int i = 0; i < _table.ClosingCount; i++)
            FinishClose(_table.ClosingAt(i));
        bool freed = _table.ClosingCount > 0;
        _table.ClearClosing();
        if (freed && _accept.Paused)
            ResumeAccept();   // a descriptor was freed: EMFILE may be over
    }

    private void FinishClose(int slot)
    {
        ref PollerSlot s = ref _table[slot];
        SocketHandle handle = s.Handle!;
        var connection = new Connection(this, new ConnectionId(slot, s.Generation));
        OsError reason = s.CloseReason;
        _poller.Deregister(handle);
        if ((s.Flags & ConnectionFlags.Abort) != 0)
            SocketCalls.SetLingerZero(s.Fd);
        handle.Dispose();
        s.ReturnPending();
        _table.Release(slot);
        try
        {
            _handler.OnClosed(connection, reason);
        }
        catch (Exception e)
        {
            HandlerFailures.Report(_options, _poller.Name, connection, nameof(IConnectionHandler.OnClosed), e);
        }
    }

    /// <summary>A callback threw: reported, and this connection alone is aborted.</summary>
    private void HandlerThrew(Connection connection, string callback, Exception e)
    {
        HandlerFailures.Report(_options, _poller.Name, connection, callback, e);
        _table.Fail(connection.Id, HandlerFailures.Reason);
    }

    private OsError SocketErrorOr(int slot, ErrorKind fallback)
    {
        OsError so = SocketCalls.GetPendingError(_table[slot].Fd);
        return so.IsNone ? OsError.FromKind(fallback) : so;
    }

    /// <summary>Exactly once (see <see cref="RunState"/>): closes every connection as canceled, then the listener and
    /// the poller.</summary>
    private void Shutdown()
    {
        for (int slot = 0; slot < _table.Capacity; slot++)
        {
            ref PollerSlot s = ref _table[slot];
            if (s.State == SlotState.Open)
            {
                s.State = SlotState.Closing;
                s.CloseReason = OsError.FromKind(ErrorKind.Canceled);
                FinishClose(slot);
            }
            else if (s.State == SlotState.Closing)
            {
                FinishClose(slot);
            }
        }

        _table.ClearClosing();
        _poller.Deregister(_listener);
        _listener.Dispose();
        _poller.Dispose();
    }

    private void Log(string message) => _options.Log?.Invoke($"{_poller.Name}: {message}");
}
