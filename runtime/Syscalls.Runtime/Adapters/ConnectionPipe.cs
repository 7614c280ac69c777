using System;
using System.IO.Pipelines;
using System.Threading;
using System.Threading.Tasks;

namespace Syscalls.Runtime;

/// <summary>An <see cref="AsyncConnection"/> as an <see cref="IDuplexPipe"/>, so that Pipelines protocol code (and
/// Kestrel) runs on it unchanged: received bytes appear in <see cref="Input"/>, what the application writes to
/// <see cref="Output"/> is sent. Create one with <see cref="Create"/> or
/// <see cref="ConnectionAdapters.AsPipe(AsyncConnection, ConnectionPipeOptions?)"/>; it owns the connection from then
/// on (nothing else may receive or send on it).</summary>
/// <remarks>
/// <para>Two loops run on the connection's event loop: a receive loop (receive into the input's memory, advance, flush;
/// back-pressure is that flush waiting once the application has <see cref="ConnectionPipeOptions.InputPauseThreshold"/>
/// bytes unconsumed: the connection then stops receiving and the peer's sends wait in the kernel) and a send loop (read
/// the output, send everything read in one go: responses written between two reads leave in one send).</para>
/// <para>Ends: the peer's FIN completes <see cref="Input"/> after the last byte (<see cref="ReadResult.IsCompleted"/>);
/// a receive error completes it with the <see cref="OsException"/>, which the application's next read throws.
/// Completing <see cref="Output"/> sends a FIN after the last byte written. Once both directions are done (the output
/// completed and sent, and the input ended or completed by the application) the connection is closed.
/// <see cref="Abort()"/> resets it: reads throw <see cref="OsException"/> (<see cref="ErrorKind.ConnectionAborted"/>), as
/// do flushes, and the peer sees a reset.</para>
/// <para>Thread rules: <see cref="Input"/> and <see cref="Output"/> are used as any pipe (one reader, one writer, from
/// any thread); <see cref="Abort()"/> and <see cref="DisposeAsync"/> from any thread.</para>
/// </remarks>
public sealed partial class ConnectionPipe : IDuplexPipe, IAsyncDisposable
{
    private static readonly ConnectionPipeOptions s_defaults = new();
    private static readonly Action<object?> s_start = static s => ((ConnectionPipe)s!).Start();
    private static readonly Action<object?> s_abort = static s => ((ConnectionPipe)s!).AbortCore(null);
    private static readonly Action<object?> s_beginDispose = static s => ((ConnectionPipe)s!).BeginDispose();
    private static readonly Action<object?> s_inputCompleted = static s => ((ConnectionPipe)s!).OnInputCompleted();

    private readonly Pipe _input;    // the receive loop writes, the application reads
    private readonly Pipe _output;   // the application writes, the send loop reads
    private readonly InputReader _applicationInput;
    private readonly ConnectionPipeOptions _options;
    private readonly object _gate = new();
    private Task _receiving = Task.CompletedTask;
    private Task _sending = Task.CompletedTask;
    private TaskCompletionSource? _disposed;
    private TaskCompletionSource? _receiveEnded;   // made when first asked for
    private LoopTimer? _lingerTimer;

    // Where the pipe is in its life (under _gate: normally loop-thread only, but after the loop stopped the runtime's
    // continuations run on the thread pool).
    private bool _started;
    private bool _receiveDone;
    private bool _sendDone;
    private bool _inputCompleted;
    private bool _disposing;
    private bool _aborted;
    private bool _closeStarted;
    private Exception? _failure;
    private Exception? _abortReason;   // given to Abort(Exception): what reads throw, as it is

    private ConnectionPipe(AsyncConnection connection, ConnectionPipeOptions options)
    {
        Connection = connection;
        _options = options;
        // The transport's side always resumes on the loop: the receive loop after a paused flush, the send loop after
        // a read.
        (PipeOptions input, PipeOptions output) = options.PipeOptionsOn(connection.Loop);
        _input = new Pipe(input);
        _output = new Pipe(output);
        _applicationInput = new InputReader(this, _input.Reader);
    }

    /// <summary>The connection the pipe owns.</summary>
    public AsyncConnection Connection { get; }

    /// <summary>What the peer sent, as it arrives; completes at the peer's FIN, or with the error that ended the
    /// connection.</summary>
    public PipeReader Input => _applicationInput;

    /// <summary>What to send: flushed bytes are sent (several flushes between two sends go out together); completing it
    /// sends a FIN after them. A flush waits while <see cref="ConnectionPipeOptions.OutputPauseThreshold"/> bytes are
    /// unsent.</summary>
    public PipeWriter Output => _output.Writer;

    /// <summary>Completes once nothing more will be received: after the peer's FIN, a reset or other failure, an abort,
    /// the application's completing <see cref="Input"/>, or the close. <see cref="Input"/> may still hold bytes the
    /// application has not read; the connection may still be sending. A host that ends its requests when the client
    /// goes away watches this (Kestrel's Sockets transport fires its <c>ConnectionClosed</c> at the same point). Any
    /// thread; its continuations run asynchronously, never inside the loop's receive path.</summary>
    public Task ReceiveEnded => LazyCompletion.Get(ref _receiveEnded, this, static p =>
    {
        lock (p._gate)
            return p._receiveDone;
    });

    /// <summary>The options the pipe was made with (a snapshot, shared with the other pipes made from the same
    /// options).</summary>
    internal ConnectionPipeOptions Options => _options;

    private EventLoop Loop => Connection.Loop;

    /// <summary>Wraps <paramref name="connection"/> and starts its receive and send loops (on its event
    /// loop). Any thread.</summary>
    /// <param name="connection">An open connection; the pipe owns it from now on.</param>
    /// <param name="options">Pool, thresholds, scheduling; null for the defaults
    /// (<see cref="ConnectionPipeOptions"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">A threshold is out of range (a resume above its pause,
    /// ...).</exception>
    public static ConnectionPipe Create(AsyncConnection connection, ConnectionPipeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        options = (options ?? s_defaults).Snapshot();
        var pipe = new ConnectionPipe(connection, options);
        pipe.OnLoop(s_start);
        return pipe;
    }

    /// <summary>Resets the connection at once: unsent output is dropped, the peer sees a reset, the application's reads
    /// and flushes throw <see cref="OsException"/> (<see cref="ErrorKind.ConnectionAborted"/>). Never throws. Any
    /// thread; idempotent.</summary>
    public void Abort() => OnLoop(s_abort);

    /// <summary>As <see cref="Abort()"/>, but the application's reads throw <paramref name="reason"/> (the first reason
    /// given wins). Never throws. Any thread; idempotent.</summary>
    public void Abort(Exception reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        lock (_gate)
        {
            if (!_aborted)
                _abortReason ??= reason;
        }

        OnLoop(s_abort);
    }

    /// <summary>Closes the connection and waits until both loops have ended and the descriptor is released: output
    /// already written is sent first (for at most <see cref="ConnectionPipeOptions.LingerTimeout"/>; then the
    /// connection is reset), a read the application still has pending completes (end of data), and finally the
    /// application's ends of both pipes are completed so their memory returns to the pool. Call it once the application
    /// no longer uses <see cref="Input"/> and <see cref="Output"/>. Any thread; idempotent.</summary>
    public ValueTask DisposeAsync()
    {
        bool first = false;
        TaskCompletionSource disposed;
        lock (_gate)
        {
            if (_disposed is null)
            {
                _disposed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                first = true;
            }

            disposed = _disposed;
        }

        if (first)
            OnLoop(s_beginDispose);
        return new ValueTask(disposed.Task);
    }

    /// <inheritdoc/>
    public override string ToString() => $"pipe over {Connection}";

    // ---------------------------------------------------------------- life (loop thread)

    private void Start()
    {
        lock (_gate)
        {
            if (_started)
                return;
            _started = true;
        }

        _receiving = ReceiveLoop();
        _sending = SendLoop();
    }

    /// <summary>The application completed <see cref="Input"/>: with the output done too, the connection
    /// closes.</summary>
    internal void InputCompletedByApplication() => OnLoop(s_inputCompleted);

    private void OnInputCompleted()
    {
        lock (_gate)
            _inputCompleted = true;
        MaybeClose();
    }

    /// <summary>Resets the connection; <paramref name="reason"/> (null: a local abort) is what the application's reads
    /// and flushes throw.</summary>
    private void AbortCore(Exception? reason)
    {
        bool receiving, sending;
        lock (_gate)
        {
            if (_aborted)
                return;
            _aborted = true;
            _failure ??= reason ?? _abortReason ?? new OsException(OsError.FromKind(ErrorKind.ConnectionAborted), "Aborted.");
            receiving = !_receiveDone;
            sending = !_sendDone;
        }

        // Wake the loops wherever they wait on a pipe; a wait on the connection fails with its abort.
        if (sending)
            _output.Reader.CancelPendingRead();
        if (receiving)
            _input.Writer.CancelPendingFlush();
        Connection.Abort();
    }

    private void BeginDispose()
    {
        Start();   // disposed before its start ran (the loop had stopped): the loops end at once
        bool sending;
        lock (_gate)
        {
            _disposing = true;
            sending = !_sendDone && !_aborted;
        }

        if (sending)
            _output.Reader.CancelPendingRead();   // the send loop sends what is written, then ends
        _input.Writer.CancelPendingFlush();       // a receive loop waiting for the application to read ends
        if (_options.LingerTimeout > TimeSpan.Zero && Loop.IsOnLoopThread)
        {
            _lingerTimer = Loop.CreateTimer(static s => ((ConnectionPipe)s!).LingerExpired(), this);
            _lingerTimer.Start(_options.LingerTimeout);
        }
        else if (_options.LingerTimeout == TimeSpan.Zero)
        {
            AbortCore(null);
        }

        MaybeClose();
        _ = FinishDispose();
    }

    private void LingerExpired()
        => AbortCore(new OsException(OsError.FromKind(ErrorKind.TimedOut), "Output did not drain in the linger time."));

    private async Task FinishDispose()
    {
        await Task.WhenAll(_receiving, _sending).ConfigureAwait(false);
        await Connection.Closed.ConfigureAwait(false);
        // Posted, so that an application continuation the end of the input scheduled on the loop runs first and sees
        // the end of data, not a pipe completed under it.
        Loop.PostInternal(static s => ((ConnectionPipe)s!).CompleteApplicationEnds(), this);
    }

    private void CompleteApplicationEnds()
    {
        _lingerTimer?.Stop();
        _input.Reader.Complete();
        _output.Writer.Complete();
        TaskCompletionSource disposed;
        lock (_gate)
            disposed = _disposed!;
        disposed.TrySetResult();
    }

    /// <summary>Closes the connection once the output is done and the input ended, was completed by the application,
    /// or the pipe is being disposed.</summary>
    private void MaybeClose()
    {
        bool abort;
        lock (_gate)
        {
            if (_closeStarted || !_sendDone || !(_receiveDone || _inputCompleted || _disposing))
                return;
            _closeStarted = true;
            abort = _aborted;
        }

        if (abort)
            Connection.Abort();
        else
            _ = Connection.CloseAsync(_options.LingerTimeout);   // zero: aborted by BeginDispose already
    }

    private void OnLoop(Action<object?> action)
    {
        if (Loop.IsOnLoopThread)
            action(this);
        else
            Loop.PostInternal(action, this);
    }
}
