using System;
using System.Buffers;
using Syscalls.Runtime.Backends.Common;
using Syscalls.Runtime.Sockets;

namespace Syscalls.Runtime;

/// <summary>A connection on a readiness loop (epoll, kqueue, poll, AFD, WSAPoll): every operation tries its
/// non-blocking call at once and parks only on EAGAIN, as dotnet/runtime's SocketAsyncContext does; receives go
/// straight into the caller's memory; unsent bytes beyond what the kernel took are copied into a per-connection buffer
/// rented only while backlogged, up to the send window.</summary>
/// <remarks>Edge-triggered pollers (epoll, kqueue) register the socket once for both directions and keep a readiness
/// hint per direction (set by an event, cleared by EAGAIN); level-triggered ones watch only the directions with a
/// parked operation or queued bytes, so an idle connection costs the poller nothing. Loop thread only.</remarks>
internal sealed partial class PollerConnection : AsyncConnection, IReadinessTarget
{
    private readonly PollerDriver _driver;
    private readonly bool _edge;
    private ulong _token;
    private bool _registered;
    private Interest _interest;
    private bool _readHint;
    private bool _hintFromEvent;   // the poller reported readable since the last recv: the hint is fresh
    private bool _readEnded;   // the poller reported the peer's FIN, a hang-up or an error: no new event will follow
    private bool _errorReported;   // the poller reported an error: an end of stream read after it is a reset
    private bool _writeHint;
    private bool _endOfStream;
    private OsError _error;
    private byte[]? _queue;
    private int _queueStart;
    private int _queueCount;
    private bool _shutdownAfterDrain;
    private bool _closeAfterDrain;
    private LoopTimer? _lingerTimer;

    private PollerConnection(EventLoop loop, PollerDriver driver, SocketHandle handle, NetEndpoint local, NetEndpoint remote)
        : base(loop, handle, local, remote)
    {
        _driver = driver;
        _edge = driver.EdgeTriggered;
    }

    public override int PendingSendBytes => _queueCount;

    private int Fd => Handle.Descriptor;

    /// <summary>Wraps an accepted (or connected) non-blocking socket; loop thread.</summary>
    internal static Result<AsyncConnection> Adopt(EventLoop loop, PollerDriver driver, SocketHandle handle, NetEndpoint local, NetEndpoint remote)
    {
        var c = new PollerConnection(loop, driver, handle, local, remote);
        Result r = c.RegisterInitial(Interest.None);
        if (!r.IsSuccess)
        {
            handle.Dispose();
            return r.Error;
        }

        c.Track();
        c.MarkOpened();
        return c;
    }

    private Result RegisterInitial(Interest levelInterest)
    {
        Interest interest = _edge ? Interest.Readable | Interest.Writable : levelInterest;
        Result<ulong> token = _driver.Register(Handle, this, interest, _edge ? TriggerMode.Edge : TriggerMode.Level);
        if (!token.TryGetValue(out _token))
            return token.Error;
        _registered = true;
        _interest = interest;
        return Result.Success;
    }

    // ---------------------------------------------------------------- receive

    private protected override bool TryReceive(Span<byte> buffer, out int received, out OsError error)
    {
        received = 0;
        error = default;
        if (State == ConnectionState.Closed || State == ConnectionState.Closing)
        {
            error = OsError.FromKind(CloseReason.IsNone || State == ConnectionState.Closing ? ErrorKind.ConnectionAborted : CloseReason.Kind);
            return true;
        }

        if (!_error.IsNone)
        {
            error = _error;
            return true;
        }

        if (_endOfStream)
            return true;
        // A zero-byte receive completes, taking nothing, when an edge-triggered poller said readable since the last
        // read: no call (the wait-then-rent pattern of Kestrel and the async echo pays nothing for it). Otherwise a
        // one-byte peek says: a hint left over by a read that filled its buffer exactly may be stale, and so may a
        // level poller's report (AFD under Wine delivered a readable state after the data was read), and a pool
        // watching an idle connection must not take a stale hint for the peer's close.
        if (buffer.IsEmpty && _readHint && _hintFromEvent && _edge)
            return true;
        Result<int> r = buffer.IsEmpty
            ? _readHint ? SocketCalls.Peek(Fd) : OsError.FromKind(ErrorKind.WouldBlock)
            : SocketCalls.Recv(Fd, buffer);
        if (buffer.IsEmpty && r.IsSuccess)
            return true;   // data or the end of the stream is there; the next receive takes it
        _hintFromEvent = false;
        if (r.TryGetValue(out received))
        {
            if (received == 0 && _errorReported)
            {
                // An end of stream after an error event: the peer reset. Wine's AFD and WSAPoll report the reset, then
                // recv returns 0 (and SO_ERROR 0) where Windows fails it with WSAECONNRESET.
                OsError pending = SocketCalls.GetPendingError(Fd);
                _error = pending.IsNone ? OsError.FromKind(ErrorKind.ConnectionReset) : pending;
                error = _error;
            }
            else if (received == 0)
                _endOfStream = true;
            else if (received < buffer.Length && !_readEnded)
                _readHint = false;   // the stream is drained; what arrives after this recv raises a new event
            return true;
        }

        if (r.Error.Kind == ErrorKind.WouldBlock)
        {
            _readHint = false;
            return false;
        }

        if (r.Error.Kind == ErrorKind.Interrupted)
            return false;   // retried when the poller reports readable (level) or at once below (edge hint stays)
        _error = r.Error;
        error = r.Error;
        return true;
    }

    private protected override void ParkReceive() => UpdateInterest();

    private protected override void CancelReceive() => UpdateInterest();

    private void CompleteReceive()
    {
        ReceiveOperation op = PendingReceive;
        if (!TryReceive(op.Buffer.Span, out int received, out OsError error))
            return;
        if (error.IsNone)
            op.Complete(received);
        else
            op.Fail(new OsException(error));
    }

    // ---------------------------------------------------------------- send

    private protected override OsError SendRefusal()
    {
        if (!_error.IsNone)
            return _error;
        return State == ConnectionState.Open ? default : OsError.FromKind(ErrorKind.NotConnected);
    }

    private protected override bool TrySend(ref ReadOnlySequence<byte> data, out OsError error)
    {
        error = default;
        if (_queueCount == 0 && data.IsSingleSegment)
        {
            // The common case: nothing waits ahead of this data, send it straight from the caller's memory.
            Result<int> sent = SocketCalls.Send(Fd, data.FirstSpan);
            if (sent.TryGetValue(out int n))
            {
                data = data.Slice(n);
                if (data.IsEmpty)
                    return true;
            }
            else if (sent.Error.Kind == ErrorKind.WouldBlock)
            {
                _writeHint = false;
            }
            else if (sent.Error.Kind != ErrorKind.Interrupted)
            {
                _error = sent.Error;
                error = sent.Error;
                return true;
            }
        }

        // Behind queued bytes (order), or several segments (coalesced into one send): copy into the window, again and
        // again while the kernel takes all of it (an edge poller reports writability only after a send hit EAGAIN).
        while (true)
        {
            int room = SendWindow - _queueCount;
            if (room > 0 && !data.IsEmpty)
            {
                int take = (int)Math.Min(room, data.Length);
                Append(data.Slice(0, take));
                data = data.Slice(take);
            }

            if (_queueCount > 0 && (!_edge || _writeHint))
            {
                if (!FlushQueue(out error))
                    return true;
            }

            if (data.IsEmpty || _queueCount > 0)
                break;
        }

        UpdateInterest();
        return data.IsEmpty;
    }

    private protected override void ParkSend() => UpdateInterest();

    private protected override void CancelSend()
    {
        PendingSend.Remaining = default;
        UpdateInterest();
    }

    /// <summary>Copies into the queue buffer (rented on first use, returned once drained).</summary>
    private void Append(in ReadOnlySequence<byte> data)
    {
        int needed = _queueCount + (int)data.Length;
        if (_queue is null || _queueStart + needed > _queue.Length)
        {
            byte[] buffer = _queue is not null && needed <= _queue.Length ? _queue : ArrayPool<byte>.Shared.Rent(Math.Max(needed, 4096));
            if (_queue is not null)
            {
                Buffer.BlockCopy(_queue, _queueStart, buffer, 0, _queueCount);
                if (!ReferenceEquals(buffer, _queue))
                    ArrayPool<byte>.Shared.Return(_queue);
            }

            _queue = buffer;
            _queueStart = 0;
        }

        data.CopyTo(_queue.AsSpan(_queueStart + _queueCount));
        _queueCount += (int)data.Length;
    }

    /// <summary>Sends queued bytes until EAGAIN or empty; false when the connection failed.</summary>
    private bool FlushQueue(out OsError error)
    {
        error = default;
        while (_queueCount > 0)
        {
            Result<int> sent = SocketCalls.Send(Fd, _queue.AsSpan(_queueStart, _queueCount));
            if (sent.TryGetValue(out int n))
            {
                _queueStart += n;
                _queueCount -= n;
                continue;
            }

            if (sent.Error.Kind == ErrorKind.WouldBlock)
            {
                _writeHint = false;
                break;
            }

            if (sent.Error.Kind == ErrorKind.Interrupted)
                continue;
            _error = sent.Error;
            error = sent.Error;
            DropQueue();
            return false;
        }

        if (_queueCount == 0)
            DropQueue();
        return true;
    }

    private void DropQueue()
    {
        if (_queue is not null)
            ArrayPool<byte>.Shared.Return(_queue);
        _queue = null;
        _queueStart = _queueCount = 0;
    }

    /// <summary>Writable: drain the queue, move the parked send's remaining bytes in, then a pending FIN or close.</summary>
    private void OnWritable()
    {
        if (_queueCount > 0 && !FlushQueue(out OsError error))
        {
            FailPendingSend(error);
            if (_closeAfterDrain)
                FinishClose(error);
            return;
        }

        SendOperation op = PendingSend;
        if (op.IsPending)
        {
            ReadOnlySequence<byte> rest = op.Remaining;
            bool done = TrySend(ref rest, out OsError sendError);
            op.Remaining = rest;
            if (done)
            {
                if (sendError.IsNone)
                    op.Complete(0);
                else
                    op.Fail(new OsException(sendError));
            }

            if (State == ConnectionState.Closed)
                return;
        }

        AfterDrain();
    }

    /// <summary>Once nothing is queued or pending: the FIN or the close that waited for it.</summary>
    private void AfterDrain()
    {
        if (_queueCount > 0 || PendingSend.IsPending)
            return;
        if (_shutdownAfterDrain)
        {
            _shutdownAfterDrain = false;
            SocketCalls.ShutdownWrite(Fd);
        }

        if (_closeAfterDrain)
            FinishClose(default);
    }

    // ---------------------------------------------------------------- readiness

    public void OnReadiness(Readiness readiness)
    {
        if (State == ConnectionState.Closed)
            return;
        if (OnConnectReadiness(readiness))
            return;
        const Readiness ReadSide = Readiness.Readable | Readiness.ReadClosed | Readiness.Closed | Readiness.Error;
        const Readiness WriteSide = Readiness.Writable | Readiness.Closed | Readiness.Error;
        if ((readiness & ReadSide) != 0)
        {
            _readHint = true;
            _hintFromEvent = true;
            if ((readiness & Readiness.Error) != 0)
                _errorReported = true;
            if ((readiness & (Readiness.ReadClosed | Readiness.Closed | Readiness.Error)) != 0)
                _readEnded = true;   // the FIN or error waits behind the data: a short read must keep the hint
            if (PendingReceive.IsPending)
                CompleteReceive();
            if (State == ConnectionState.Closed)
                return;
        }

        if ((readiness & WriteSide) != 0)
        {
            _writeHint = true;
            if (_queueCount > 0 || PendingSend.IsPending)
                OnWritable();
            if (State == ConnectionState.Closed)
                return;
        }

        if (!_edge && (readiness & (Readiness.Closed | Readiness.Error)) != 0 && !PendingReceive.IsPending && !PendingSend.IsPending
            && _queueCount == 0)
        {
            // A level-triggered poller reports a hang-up or an error even to a registration that watches nothing, on
            // every wait: stop watching until an operation parks (it then finds the error at once).
            StopWatching();
            return;
        }

        UpdateInterest();
    }

    public void OnDispatchFailed(Exception error) => DispatchFailed(error);

    /// <summary>Level mode: watch exactly the directions something waits for.</summary>
    private void UpdateInterest()
    {
        if (_edge || State == ConnectionState.Closed || IsConnecting)
            return;
        Interest want = Interest.None;
        if (PendingReceive.IsPending)
            want |= Interest.Readable;
        if (_queueCount > 0 || PendingSend.IsPending)
            want |= Interest.Writable;
        if (!_registered)
        {
            if (want == Interest.None)
                return;
            Result r = RegisterInitial(want);
            if (!r.IsSuccess)
                AbortOnLoop(r.Error, reset: true);
            return;
        }

        if (want == _interest)
            return;
        Result m = _driver.Modify(Handle, _token, want, TriggerMode.Level);
        if (m.IsSuccess)
            _interest = want;
        else
            AbortOnLoop(m.Error, reset: true);
    }

    private void StopWatching()
    {
        if (!_registered)
            return;
        _driver.Deregister(Handle, _token);
        _registered = false;
        _interest = Interest.None;
    }

    // ---------------------------------------------------------------- shutdown and close

    private protected override void ShutdownWriteOnLoop()
    {
        if (State != ConnectionState.Open)
            return;
        State = ConnectionState.WriteShutdown;
        if (_queueCount > 0 || PendingSend.IsPending)
            _shutdownAfterDrain = true;
        else
            SocketCalls.ShutdownWrite(Fd);
    }

    private protected override void CloseOnLoop(TimeSpan lingerTimeout)
    {
        if (State is ConnectionState.Closing or ConnectionState.Closed)
            return;
        if (IsConnecting)
        {
            AbortOnLoop(OsError.FromKind(ErrorKind.ConnectionAborted), reset: true);
            return;
        }

        State = ConnectionState.Closing;
        FailPendingReceive(OsError.FromKind(ErrorKind.ConnectionAborted));
        if (_queueCount == 0 && !PendingSend.IsPending)
        {
            FinishClose(default);
            return;
        }

        _closeAfterDrain = true;
        _lingerTimer = Loop.CreateTimer(static s => ((PollerConnection)s!).AbortOnLoop(OsError.FromKind(ErrorKind.TimedOut), reset: true), this);
        _lingerTimer.Start(lingerTimeout);
        UpdateInterest();
    }

    private protected override void AbortOnLoop(OsError reason, bool reset)
    {
        if (State == ConnectionState.Closed)
            return;
        if (reset && !IsConnecting)
            SocketCalls.SetLingerZero(Fd);
        DropQueue();
        FailConnect(reason);
        FailPendingReceive(reason);
        FailPendingSend(reason);
        FinishClose(reason);
    }

    private void FinishClose(OsError reason)
    {
        if (State == ConnectionState.Closed)
            return;
        _lingerTimer?.Stop();
        StopWatching();
        DropQueue();
        Handle.Dispose();
        MarkClosed(reason);
    }

    private protected override bool IsDrained => State == ConnectionState.Closed;
}
