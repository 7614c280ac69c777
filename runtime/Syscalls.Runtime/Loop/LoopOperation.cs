using System;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;

namespace Syscalls.Runtime;

/// <summary>A reusable awaitable for one kind of operation of one owner (a connection's receive, its send, a
/// listener's accept): started and completed on the owner's loop, awaited from anywhere, reused for the next operation
/// once the awaiter has read its result, so steady state allocates nothing.</summary>
/// <remarks>
/// <para>The continuation slot holds null (pending, nobody waits yet), the awaiter's continuation, or a sentinel meaning
/// completed; completion and <see cref="OnCompleted"/> race through one compare-and-swap on it, and it is read with
/// acquire semantics (the arm64 reordering bug dotnet/runtime #70486 is this slot read without it).</para>
/// <para>Continuations always run on the loop: inline when the operation completes there (it always does), posted to
/// the loop when an awaiter on another thread registers after completion. A version token bumped by
/// <see cref="GetResult"/> makes a second await of the same ValueTask throw instead of reading the next
/// operation's result.</para>
/// <para>Cancellation: the token's callback only posts the operation back to its loop; there the owner cancels it if
/// this operation is still the pending one and its token is the canceled one, so a cancellation that arrives after the
/// operation completed and was reused cancels nothing.</para>
/// </remarks>
internal abstract class LoopOperation<T> : IValueTaskSource<T>, IValueTaskSource
{
    private static readonly Action<object?> s_completed = static _ => throw new InvalidOperationException("completed sentinel");
    private static readonly Action<object?> s_cancelOnLoop = static s => ((LoopOperation<T>)s!).CancelOnLoop();

    private Action<object?>? _continuation = s_completed;
    private object? _continuationState;
    private ExecutionContext? _executionContext;
    private T _result = default!;
    private ExceptionDispatchInfo? _error;
    private CancellationTokenRegistration _registration;
    private short _version;
    private bool _awaited;   // started and not yet read by GetResult (loop thread and awaiter; see Start)

    protected LoopOperation(EventLoop loop) => Loop = loop;

    /// <summary>The loop that starts and completes this operation.</summary>
    internal EventLoop Loop { get; }

    /// <summary>Pending: started and not completed (loop thread).</summary>
    internal bool IsPending { get; private set; }

    /// <summary>The token of the pending operation (default when none).</summary>
    internal CancellationToken CancellationToken { get; private set; }

    /// <summary>True while an earlier operation has not been awaited to the end: a new one must not start.</summary>
    internal bool IsBusy => Volatile.Read(ref _awaited);

    /// <summary>Arms the operation; the caller then returns <c>new ValueTask&lt;T&gt;(this, token)</c>. Throws when the
    /// previous one is still pending or unread (one operation of a kind at a time).</summary>
    internal short Start(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _awaited))
            throw new InvalidOperationException($"A {Kind} is already pending on this {OwnerKind}: await it before starting another.");
        _awaited = true;
        _error = null;
        _result = default!;
        _executionContext = null;
        _continuationState = null;
        IsPending = true;
        CancellationToken = cancellationToken;
        Volatile.Write(ref _continuation, null);
        if (cancellationToken.CanBeCanceled)
            _registration = cancellationToken.UnsafeRegister(static s => ((LoopOperation<T>)s!).OnCancelRequested(), this);
        return _version;
    }

    /// <summary>Completes with a value (loop thread); runs the continuation inline if the awaiter registered one.</summary>
    internal void Complete(T result)
    {
        _result = result;
        Finish();
    }

    /// <summary>Completes with an exception (loop thread).</summary>
    internal void Fail(Exception error)
    {
        _error = ExceptionDispatchInfo.Capture(error);
        Finish();
    }

    /// <summary>Completes as canceled by the pending token (loop thread).</summary>
    internal void FailCanceled() => Fail(new OperationCanceledException(CancellationToken));

    /// <summary>Names of the operation and its owner, for messages ("receive", "connection").</summary>
    protected abstract string Kind { get; }

    protected abstract string OwnerKind { get; }

    /// <summary>The owner cancels the pending operation (loop thread): at once, or once the kernel confirms.</summary>
    protected abstract void OnCancel();

    private void Finish()
    {
        IsPending = false;
        CancellationToken = default;
        _registration.Unregister();   // never Dispose here: it would wait for a callback running on another thread
        _registration = default;
        Action<object?>? continuation = Interlocked.Exchange(ref _continuation, s_completed);
        if (continuation is not null)
            Invoke(continuation, _continuationState);
    }

    private void Invoke(Action<object?> continuation, object? state)
    {
        ExecutionContext? context = _executionContext;
        if (context is null)
        {
            continuation(state);
            return;
        }

        _executionContext = null;
        ExecutionContext.Run(context, static s =>
        {
            var (c, st) = ((Action<object?>, object?))s!;
            c(st);
        }, (continuation, state));
    }

    private void OnCancelRequested() => Loop.PostInternal(s_cancelOnLoop, this);

    private void CancelOnLoop()
    {
        if (IsPending && CancellationToken.IsCancellationRequested)
            OnCancel();
    }

    // ---------------------------------------------------------------- IValueTaskSource

    public ValueTaskSourceStatus GetStatus(short token)
    {
        CheckToken(token);
        if (!ReferenceEquals(Volatile.Read(ref _continuation), s_completed))
            return ValueTaskSourceStatus.Pending;
        if (_error is null)
            return ValueTaskSourceStatus.Succeeded;
        return _error.SourceException is OperationCanceledException ? ValueTaskSourceStatus.Canceled : ValueTaskSourceStatus.Faulted;
    }

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        CheckToken(token);
        // The scheduling context is ignored on purpose: continuations run on the loop, whose SynchronizationContext
        // is the loop's own.
        if ((flags & ValueTaskSourceOnCompletedFlags.FlowExecutionContext) != 0)
            _executionContext = ExecutionContext.Capture();
        _continuationState = state;
        Action<object?>? previous = Interlocked.CompareExchange(ref _continuation, continuation, null);
        if (previous is null)
            return;
        if (!ReferenceEquals(previous, s_completed))
            throw new InvalidOperationException("The operation is awaited twice.");
        // Completed between the awaiter's IsCompleted check and this registration: continue on the loop.
        _continuationState = null;
        Loop.PostContinuation(continuation, state, _executionContext);
        _executionContext = null;
    }

    T IValueTaskSource<T>.GetResult(short token) => GetResult(token);

    void IValueTaskSource.GetResult(short token) => GetResult(token);

    private T GetResult(short token)
    {
        CheckToken(token);
        if (!ReferenceEquals(Volatile.Read(ref _continuation), s_completed))
            throw new InvalidOperationException("The operation has not completed: await it instead of reading its result.");
        ExceptionDispatchInfo? error = _error;
        T result = _result;
        _error = null;
        _result = default!;
        _version++;
        Volatile.Write(ref _awaited, false);
        error?.Throw();
        return result;
    }

    private void CheckToken(short token)
    {
        if (token != _version)
            throw new InvalidOperationException("The ValueTask was already awaited: a ValueTask may be awaited only once.");
    }
}
