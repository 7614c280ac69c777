using System;
using System.Buffers;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Syscalls.Runtime.Backends.Common;
using Syscalls.Runtime.Sockets;

namespace Syscalls.Runtime;

/// <summary>The send side (a FIFO of pinned send buffers, the head one in flight), shutdown, close and connect.</summary>
internal sealed partial class RingConnection
{
    private int _sendHead = -1;
    private int _sendTail = -1;
    private int _queued;
    private bool _sendInFlight;
    private bool _shutdownAfterDrain;
    private bool _closeAfterDrain;
    private bool _closeBegun;
    private bool _closeInFlight;
    private bool _connectInFlight;
    private LoopTimer? _timer;     // linger of a graceful close, or the connect timeout
    private ConnectOperation? _connect;
    private OsError _connectFailure;

    private PinnedBufferSet Buffers => _ring.SendBuffers;

    private protected override OsError SendRefusal()
    {
        if (!_error.IsNone)
            return _error;
        return State == ConnectionState.Open ? default : OsError.FromKind(ErrorKind.NotConnected);
    }

    /// <summary>Copies what fits in the send window; the submission happens before the loop waits.</summary>
    private protected override bool TrySend(ref ReadOnlySequence<byte> data, out OsError error)
    {
        error = default;
        if (!_error.IsNone)
        {
            error = _error;
            return true;
        }

        long room = SendWindow - _queued;
        if (room <= 0)
            return false;
        ReadOnlySequence<byte> take = data.Length <= room ? data : data.Slice(0, room);
        foreach (ReadOnlyMemory<byte> segment in take)
            CopyIn(segment.Span);
        data = data.Slice(take.Length);
        RequestFlush();
        return data.IsEmpty;
    }

    private protected override void ParkSend()
    {
        // Waits for OnSendCompletion to make room.
    }

    private protected override void CancelSend() => PendingSend.Remaining = default;

    private void CopyIn(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            int tail = _sendTail;
            // The buffer in flight is not appended to: its range was fixed when it was submitted.
            if (tail < 0 || Buffers.End(tail) == Buffers.BufferSize || (tail == _sendHead && _sendInFlight))
            {
                tail = Buffers.Rent();
                if (_sendTail >= 0)
                    Buffers.Next(_sendTail) = tail;
                else
                    _sendHead = tail;
                _sendTail = tail;
            }

            Span<byte> room = Buffers.Room(tail);
            int n = Math.Min(room.Length, data.Length);
            data[..n].CopyTo(room);
            Buffers.End(tail) += n;
            _queued += n;
            data = data[n..];
        }
    }

    private void SubmitSend()
    {
        _sendInFlight = true;
        _ring.Submit(RingOperation.Send(Handle, Buffers.Unsent(_sendHead), Tagged(TagSend)));
    }

    private void OnSendCompletion(in RingCompletion c)
    {
        _sendInFlight = false;
        if (!c.IsSuccess || State == ConnectionState.Closed || _closeBegun)
        {
            if (!c.IsSuccess && c.Error.Kind != ErrorKind.Canceled && _error.IsNone)
                _error = c.Error;   // EPIPE, ECONNRESET: the peer is gone
            DropSendQueue();
            FailPendingSend(_error);
            if (_closeAfterDrain && !_closeBegun)
                BeginClose(_error);
            TryRelease();
            return;
        }

        int head = _sendHead;
        Buffers.Start(head) += c.Result;
        _queued -= c.Result;
        if (Buffers.Start(head) == Buffers.End(head))
        {
            _sendHead = Buffers.Next(head);
            if (_sendHead < 0)
                _sendTail = -1;
            Buffers.Return(head);
        }

        SendOperation op = PendingSend;
        if (op.IsPending)
        {
            ReadOnlySequence<byte> rest = op.Remaining;
            bool done = TrySend(ref rest, out OsError error);
            op.Remaining = rest;
            if (done)
            {
                if (error.IsNone)
                    op.Complete(0);
                else
                    op.Fail(new OsException(error));
            }

            if (State == ConnectionState.Closed || _closeBegun)
                return;
        }

        if (_sendHead >= 0)
        {
            SubmitSend();
            return;
        }

        AfterDrain();
    }

    private void AfterDrain()
    {
        if (_sendHead >= 0 || _sendInFlight || PendingSend.IsPending)
            return;
        if (_shutdownAfterDrain)
        {
            _shutdownAfterDrain = false;
            SocketCalls.ShutdownWrite(Handle.Descriptor);
        }

        if (_closeAfterDrain && !_closeBegun)
            BeginClose(default);
    }

    /// <summary>Gives back every queued buffer except the one a send still has in flight.</summary>
    private void DropSendQueue()
    {
        int keep = _sendInFlight ? _sendHead : -1;
        for (int r = keep >= 0 ? Buffers.Next(keep) : _sendHead; r >= 0;)
        {
            int next = Buffers.Next(r);
            Buffers.Return(r);
            r = next;
        }

        _sendHead = _sendTail = keep;
        _queued = 0;
        if (keep >= 0)
            Buffers.Next(keep) = -1;
    }

    // ---------------------------------------------------------------- shutdown and close

    private protected override void ShutdownWriteOnLoop()
    {
        if (State != ConnectionState.Open)
            return;
        State = ConnectionState.WriteShutdown;
        if (_sendHead >= 0 || _sendInFlight || PendingSend.IsPending)
            _shutdownAfterDrain = true;
        else
            SocketCalls.ShutdownWrite(Handle.Descriptor);
    }

    private protected override void CloseOnLoop(TimeSpan lingerTimeout)
    {
        if (State is ConnectionState.Closing or ConnectionState.Closed)
            return;
        if (State == ConnectionState.Connecting)
        {
            AbortOnLoop(OsError.FromKind(ErrorKind.ConnectionAborted), reset: true);
            return;
        }

        State = ConnectionState.Closing;
        FailPendingReceive(OsError.FromKind(ErrorKind.ConnectionAborted));
        DropChunks();
        if (_sendHead < 0 && !_sendInFlight && !PendingSend.IsPending)
        {
            BeginClose(default);
            return;
        }

        _closeAfterDrain = true;
        _timer?.Stop();
        _timer = Loop.CreateTimer(static s => ((RingConnection)s!).AbortOnLoop(OsError.FromKind(ErrorKind.TimedOut), reset: true), this);
        _timer.Start(lingerTimeout);
    }

    private protected override void AbortOnLoop(OsError reason, bool reset)
    {
        if (State == ConnectionState.Closed || _closeBegun)
            return;
        if (reset && !Handle.IsClosed && !Handle.IsInvalid && State != ConnectionState.Connecting)
            SocketCalls.SetLingerZero(Handle.Descriptor);
        State = ConnectionState.Closing;
        DropSendQueue();
        FailPendingReceive(reason);
        FailPendingSend(reason);
        FailConnect(reason);
        BeginClose(reason);
    }

    /// <summary>Closes through the ring, which cancels the receive and send in flight first.</summary>
    private void BeginClose(OsError reason)
    {
        if (_closeBegun)
            return;
        _closeBegun = true;
        State = ConnectionState.Closing;
        if (CloseReason.IsNone)
            CloseReason = reason;
        _timer?.Stop();
        DropChunks();
        _closeInFlight = true;
        _ring.Submit(RingOperation.Close(Handle, Tagged(TagClose)));
    }

    /// <summary>The connection is released, and told, only after the last final completion of its operations.</summary>
    private void TryRelease()
    {
        if (!_closeBegun || _closeInFlight || _recvArmed || _sendInFlight || _cancelsInFlight > 0 || _connectInFlight
            || State == ConnectionState.Closed)
            return;
        DropSendQueue();
        DropChunks();
        if (_recvBuffer >= 0)
        {
            _ring.ReturnReceiveBuffer(_recvBuffer);
            _recvBuffer = -1;
        }

        _ring.Release(_id);
        Handle.Dispose();   // the ring took the descriptor; this only drops the handle's own reference
        MarkClosed(CloseReason);
    }

    // ---------------------------------------------------------------- connect

    /// <summary>Starts a connect on the loop thread; completes with the open connection.</summary>
    internal static ValueTask<AsyncConnection> ConnectOnLoop(EventLoop loop, RingDriver ring, NetEndpoint remote, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        Result<SocketHandle> created = SocketOps.CreateTcp(remote.Family);
        if (!created.TryGetValue(out SocketHandle? handle))
            return ValueTask.FromException<AsyncConnection>(new OsException(created.Error, $"socket for {remote}"));
        SocketCalls.SetNoDelay(handle.Descriptor, true);
        var c = new RingConnection(loop, ring, handle, default, remote) { State = ConnectionState.Connecting };
        c.Track();
        c._connect = new ConnectOperation(c);
        short token = c._connect.Start(cancellationToken);
        c._connectInFlight = true;
        ring.Submit(RingOperation.Connect(handle, remote, c.Tagged(TagConnect)));
        if (timeout > TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            c._timer = loop.CreateTimer(static s => ((RingConnection)s!).ConnectTimedOut(), c);
            c._timer.Start(timeout);
        }

        return new ValueTask<AsyncConnection>(c._connect, token);
    }

    private void OnConnectCompletion(in RingCompletion c)
    {
        _connectInFlight = false;
        _timer?.Stop();
        ConnectOperation? op = _connect;
        _connect = null;
        if (op is null || _closeBegun)
        {
            TryRelease();
            return;
        }

        if (!c.IsSuccess)
        {
            // A cancel we asked for reports why we asked (time-out, token); otherwise the kernel's reason.
            OsError why = c.Error.Kind == ErrorKind.Canceled && !_connectFailure.IsNone ? _connectFailure : c.Error;
            BeginClose(why);
            if (why.Kind == ErrorKind.Canceled && op.CancellationToken.IsCancellationRequested)
                op.FailCanceled();
            else
                op.Fail(PollerConnection.ConnectError(why, RemoteEndpoint));
            return;
        }

        LocalEndpoint = SocketCalls.GetLocalEndpoint(Handle.Descriptor).GetValueOrDefault(default);
        MarkOpened();
        ArmReceive();
        op.Complete(this);
    }

    private void ConnectTimedOut() => CancelConnectWith(OsError.FromKind(ErrorKind.TimedOut));

    private void CancelConnectWith(OsError why)
    {
        if (!_connectInFlight || !_connectFailure.IsNone)
            return;
        _connectFailure = why;
        SubmitCancel(TagConnect);
    }

    /// <summary>Abort or loop shutdown while connecting: the connect fails with the reason at once.</summary>
    private void FailConnect(OsError reason)
    {
        ConnectOperation? op = _connect;
        if (op is null)
            return;
        _connect = null;
        op.Fail(PollerConnection.ConnectError(reason, RemoteEndpoint));
    }

    /// <summary>The pending connect of a client connection.</summary>
    private sealed class ConnectOperation : LoopOperation<AsyncConnection>
    {
        private readonly RingConnection _owner;

        internal ConnectOperation(RingConnection owner)
            : base(owner.Loop) => _owner = owner;

        protected override string Kind => "connect";

        protected override string OwnerKind => "connection";

        protected override void OnCancel() => _owner.CancelConnectWith(OsError.FromKind(ErrorKind.Canceled));
    }
}
