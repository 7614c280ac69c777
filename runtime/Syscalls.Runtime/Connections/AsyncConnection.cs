using System;
using System.Buffers;
using System.Threading;
using System.Threading.Tasks;
using Syscalls.Runtime.Sockets;

namespace Syscalls.Runtime;

/// <summary>A TCP connection on an <see cref="EventLoop"/>, server or client side, with <c>ValueTask</c> operations
/// whose continuations run on that loop: receive, send (waiting while the send window is full), shut down, close.
/// Accept one from an <see cref="AsyncListener"/>, open one with
/// <see cref="ConnectAsync(EventLoop, NetEndpoint, TimeSpan, CancellationToken)"/>.</summary>
/// <remarks>
/// <para>Thread rules: every member may be called from any thread; operations started off the loop are handed to it
/// (no allocation). Continuations run on the loop thread, so code after an <c>await</c> of this connection runs
/// there: it must not block. One receive and one send may be pending at a time (a second one of the same kind throws
/// <see cref="InvalidOperationException"/>). Each <c>ValueTask</c> is awaited once.</para>
/// <para>Steady state allocates nothing: one reusable operation per direction, no buffer held while idle (a ring loop
/// receives into its shared buffer group and copies; a poller loop reads straight into the caller's memory).
/// <see cref="CancellationToken"/>s cancel the kernel operation (deregistration, io_uring cancel, CancelIoEx).</para>
/// <para>Errors: an OS error surfaces as <see cref="OsException"/> (its <see cref="OsException.Error"/> has the kind
/// and the native number); an operation on a closed connection throws <see cref="OsException"/> with
/// <see cref="ErrorKind.NotConnected"/>, after a local close <see cref="ErrorKind.ConnectionAborted"/>.</para>
/// </remarks>
public abstract partial class AsyncConnection : IAsyncDisposable, IDisposable, ILoopResource
{
    private static readonly Action<object?> s_startReceive = static s => ((AsyncConnection)s!).StartReceiveOnLoop();
    private static readonly Action<object?> s_startSend = static s => ((AsyncConnection)s!).StartSendOnLoop();

    private readonly ReceiveOperation _receive;
    private readonly SendOperation _send;
    private TaskCompletionSource? _closed;
    private int _sendWindow;
    private bool _countedOpen;

    private protected AsyncConnection(EventLoop loop, SocketHandle handle, NetEndpoint local, NetEndpoint remote)
    {
        Loop = loop;
        Handle = handle;
        LocalEndpoint = local;
        RemoteEndpoint = remote;
        _sendWindow = loop.Options.SendWindow;
        _receive = new ReceiveOperation(this);
        _send = new SendOperation(this);
    }

    /// <summary>The loop that runs this connection's I/O and continuations.</summary>
    public EventLoop Loop { get; }

    /// <summary>The local address.</summary>
    public NetEndpoint LocalEndpoint { get; private protected set; }

    /// <summary>The peer's address.</summary>
    public NetEndpoint RemoteEndpoint { get; }

    /// <summary>True until the connection is closed, aborted, or failed.</summary>
    public bool IsOpen => State == ConnectionState.Open || State == ConnectionState.WriteShutdown;

    /// <summary>Bytes a send may buffer beyond what the kernel took before it waits (back-pressure). Default:
    /// <see cref="LoopOptions.SendWindow"/>.</summary>
    public int SendWindow
    {
        get => _sendWindow;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            _sendWindow = value;
        }
    }

    /// <summary>Bytes accepted by sends and not yet taken by the kernel (loop thread; a snapshot elsewhere).</summary>
    public abstract int PendingSendBytes { get; }

    /// <summary>Completes once the connection is closed and its descriptor released (after <see cref="CloseAsync"/>,
    /// <see cref="Abort"/>, an error, or the loop's shutdown).</summary>
    public Task Closed => LazyCompletion.Get(ref _closed, this, static c => c.State == ConnectionState.Closed);

    /// <summary>Why the connection ended: <see cref="ErrorKind.None"/> for an orderly close, else the error (reset,
    /// abort, loop shutdown as <see cref="ErrorKind.Canceled"/>).</summary>
    public OsError CloseReason { get; private protected set; }

    private protected SocketHandle Handle { get; }

    private protected ConnectionState State { get; set; }

    /// <summary>Receives into <paramref name="buffer"/>: completes with the number of bytes, 0 at the end of the stream.
    /// An empty buffer waits until data (or the end) is there without taking any: the caller can then rent a buffer only
    /// when needed, so an idle connection holds none.</summary>
    public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled<int>(cancellationToken);
        ReceiveOperation op = _receive;
        if (op.IsBusy)
            throw new InvalidOperationException("A receive is already pending on this connection: await it before starting another.");
        if (Loop.IsOnLoopThread)
        {
            if (TryReceive(buffer.Span, out int received, out OsError error))
                return error.IsNone ? new ValueTask<int>(received) : ValueTask.FromException<int>(ReceiveError(error));
            op.Buffer = buffer;
            short token = op.Start(cancellationToken);
            ParkReceive();
            return new ValueTask<int>(op, token);
        }

        op.Buffer = buffer;
        short t = op.Start(cancellationToken);
        Loop.PostInternal(s_startReceive, this);
        return new ValueTask<int>(op, t);
    }

    /// <summary>Sends all of <paramref name="data"/>: completes once every byte was taken by the kernel or copied into
    /// the send window; while the window is full it waits (back-pressure) holding on to the caller's memory, which must
    /// stay unchanged until the send completes. Never raises SIGPIPE.</summary>
#pragma warning disable RS0026 // Two overloads with an optional token, as Socket.SendAsync: no parameter will be added later.
    public ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        => SendAsync(new ReadOnlySequence<byte>(data), cancellationToken);

    /// <summary>Sends every segment of <paramref name="data"/> in order, as
    /// <see cref="SendAsync(ReadOnlyMemory{byte}, CancellationToken)"/>; several small segments go out in one send.</summary>
    public ValueTask SendAsync(ReadOnlySequence<byte> data, CancellationToken cancellationToken = default)
#pragma warning restore RS0026
    {
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled(cancellationToken);
        if (data.IsEmpty)
            return default;
        SendOperation op = _send;
        if (op.IsBusy)
            throw new InvalidOperationException("A send is already pending on this connection: await it before starting another.");
        if (Loop.IsOnLoopThread)
        {
            OsError refused = SendRefusal();
            if (!refused.IsNone)
                return ValueTask.FromException(new OsException(refused));
            if (TrySend(ref data, out OsError error))
                return error.IsNone ? default : ValueTask.FromException(new OsException(error));
            op.Remaining = data;
            short token = op.Start(cancellationToken);
            ParkSend();
            return new ValueTask(op, token);
        }

        op.Remaining = data;
        short t = op.Start(cancellationToken);
        Loop.PostInternal(s_startSend, this);
        return new ValueTask(op, t);
    }

    /// <summary>Sends a FIN once the data already accepted is sent: the peer reads the end of the stream, receiving
    /// goes on. Later sends fail. Any thread; idempotent.</summary>
    public void ShutdownWrite() => OnLoop(static c => c.ShutdownWriteOnLoop());

    /// <summary>Closes gracefully: data already accepted is sent (waiting at most <paramref name="lingerTimeout"/>,
    /// default 5 s, for a peer that does not read), then a FIN and the close. A pending receive fails with
    /// <see cref="ErrorKind.ConnectionAborted"/>. Completes when the descriptor is released. Any thread.</summary>
    public Task CloseAsync(TimeSpan lingerTimeout = default)
    {
        if (lingerTimeout == default)
            lingerTimeout = TimeSpan.FromSeconds(5);
        OnLoop(c => c.CloseOnLoop(lingerTimeout));
        return Closed;
    }

    /// <summary>Closes at once with a reset (SO_LINGER 0): unsent data is dropped, pending operations fail with
    /// <see cref="ErrorKind.ConnectionAborted"/>. Never throws. Any thread; idempotent.</summary>
    public void Abort() => OnLoop(static c => c.AbortOnLoop(OsError.FromKind(ErrorKind.ConnectionAborted), reset: true));

    /// <summary>Closes gracefully and waits for it (<see cref="CloseAsync"/>).</summary>
    public async ValueTask DisposeAsync()
    {
        await CloseAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <summary>Starts a graceful close without waiting for it.</summary>
    public void Dispose()
    {
        _ = CloseAsync();
        GC.SuppressFinalize(this);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{LocalEndpoint} <-> {RemoteEndpoint} on {Loop}";

    // ---------------------------------------------------------------- for the backends (loop thread)

    /// <summary>Completes a receive at once if data, the end of the stream or an error is there.</summary>
    private protected abstract bool TryReceive(Span<byte> buffer, out int received, out OsError error);

    /// <summary>Waits for data for the pending receive (<see cref="PendingReceive"/>).</summary>
    private protected abstract void ParkReceive();

    /// <summary>The pending receive was canceled: stop waiting (and cancel the kernel operation).</summary>
    private protected abstract void CancelReceive();

    /// <summary>Takes as much of <paramref name="data"/> as the kernel and the send window accept; true when all of it
    /// was taken (or an error ended the connection: <paramref name="error"/>).</summary>
    private protected abstract bool TrySend(ref ReadOnlySequence<byte> data, out OsError error);

    /// <summary>Waits for room for the pending send (<see cref="PendingSend"/>).</summary>
    private protected abstract void ParkSend();

    /// <summary>The pending send was canceled: what it has not handed over yet is not sent.</summary>
    private protected abstract void CancelSend();

    private protected abstract void ShutdownWriteOnLoop();

    private protected abstract void CloseOnLoop(TimeSpan lingerTimeout);

    /// <summary>Closes at once: pending operations fail with <paramref name="reason"/>, unsent data is dropped; with
    /// <paramref name="reset"/> the peer sees a reset (SO_LINGER 0), else a FIN.</summary>
    private protected abstract void AbortOnLoop(OsError reason, bool reset);

    /// <summary>Why a send cannot start (closed, shut down), or none.</summary>
    private protected abstract OsError SendRefusal();

    private protected ReceiveOperation PendingReceive => _receive;

    private protected SendOperation PendingSend => _send;

    /// <summary>Completes the pending receive, if any, with an error (loop thread).</summary>
    private protected void FailPendingReceive(OsError error)
    {
        if (_receive.IsPending)
            _receive.Fail(ReceiveError(error));
    }

    /// <summary>Completes the pending send, if any, with an error (loop thread).</summary>
    private protected void FailPendingSend(OsError error)
    {
        if (_send.IsPending)
            _send.Fail(new OsException(error.IsNone ? OsError.FromKind(ErrorKind.ConnectionAborted) : error));
    }

    /// <summary>The descriptor is released: completes <see cref="Closed"/> and updates the metrics (loop thread).</summary>
    private protected void MarkClosed(OsError reason)
    {
        if (State == ConnectionState.Closed)
            return;
        State = ConnectionState.Closed;
        if (CloseReason.IsNone)
            CloseReason = reason;
        FailPendingReceive(OsError.FromKind(ErrorKind.ConnectionAborted));
        FailPendingSend(OsError.FromKind(ErrorKind.ConnectionAborted));
        Loop.RemoveResource(this);
        if (_countedOpen)
            LoopMetrics.ConnectionClosed(Loop);
        Volatile.Read(ref _closed)?.TrySetResult();
    }

    /// <summary>The loop closes the connection if it stops first (loop thread; before any kernel operation).</summary>
    private protected void Track() => Loop.AddResource(this);

    /// <summary>The connection is established (counted in the metrics).</summary>
    private protected void MarkOpened()
    {
        State = ConnectionState.Open;
        _countedOpen = true;
        LoopMetrics.ConnectionOpened(Loop);
    }

    /// <summary>A dispatch of this connection's I/O threw (user code in a continuation): abort it alone and report.</summary>
    private protected void DispatchFailed(Exception error)
    {
        AbortOnLoop(OsError.FromKind(ErrorKind.ConnectionAborted), reset: true);
        Loop.ReportUnhandled(error);
    }

    private static Exception ReceiveError(OsError error) => new OsException(error);

    private void StartReceiveOnLoop()
    {
        ReceiveOperation op = _receive;
        if (!op.IsPending)
            return;
        if (op.CancellationToken.IsCancellationRequested)
        {
            op.FailCanceled();
            return;
        }

        if (TryReceive(op.Buffer.Span, out int received, out OsError error))
        {
            if (error.IsNone)
                op.Complete(received);
            else
                op.Fail(ReceiveError(error));
            return;
        }

        ParkReceive();
    }

    private void StartSendOnLoop()
    {
        SendOperation op = _send;
        if (!op.IsPending)
            return;
        if (op.CancellationToken.IsCancellationRequested)
        {
            op.FailCanceled();
            return;
        }

        OsError refused = SendRefusal();
        if (!refused.IsNone)
        {
            op.Fail(new OsException(refused));
            return;
        }

        ReadOnlySequence<byte> data = op.Remaining;
        bool done = TrySend(ref data, out OsError error);
        op.Remaining = data;
        if (done)
        {
            if (error.IsNone)
                op.Complete(0);
            else
                op.Fail(new OsException(error));
            return;
        }

        ParkSend();
    }

    private void OnLoop(Action<AsyncConnection> action)
    {
        if (Loop.IsOnLoopThread)
        {
            action(this);
            return;
        }

        // After the loop stopped the connection is closed already: nothing to do.
        Loop.TryPost(static s =>
        {
            var (c, a) = ((AsyncConnection, Action<AsyncConnection>))s!;
            a(c);
        }, (this, action));
    }

    /// <summary>The loop stops: pending operations fail with <see cref="ErrorKind.Canceled"/>, the peer sees a FIN.</summary>
    void ILoopResource.CloseForShutdown() => AbortOnLoop(OsError.FromKind(ErrorKind.Canceled), reset: false);

    bool ILoopResource.IsDrained => IsDrained;

    private protected abstract bool IsDrained { get; }

    /// <summary>The connection's receive operation.</summary>
    private protected sealed class ReceiveOperation : LoopOperation<int>
    {
        private readonly AsyncConnection _owner;

        internal ReceiveOperation(AsyncConnection owner)
            : base(owner.Loop) => _owner = owner;

        internal Memory<byte> Buffer;

        protected override string Kind => "receive";

        protected override string OwnerKind => "connection";

        protected override void OnCancel()
        {
            _owner.CancelReceive();
            if (IsPending)
                FailCanceled();
        }
    }

    /// <summary>The connection's send operation.</summary>
    private protected sealed class SendOperation : LoopOperation<int>
    {
        private readonly AsyncConnection _owner;

        internal SendOperation(AsyncConnection owner)
            : base(owner.Loop) => _owner = owner;

        internal ReadOnlySequence<byte> Remaining;

        protected override string Kind => "send";

        protected override string OwnerKind => "connection";

        protected override void OnCancel()
        {
            _owner.CancelSend();
            if (IsPending)
                FailCanceled();
        }
    }
}

/// <summary>Where a connection is in its life.</summary>
internal enum ConnectionState : byte
{
    Connecting = 0,  // a client connection whose connect has not completed
    Open,
    WriteShutdown,   // FIN sent or queued; receiving goes on
    Closing,         // graceful close: draining sends, or the ring's close in flight
    Closed,          // descriptor released
}
