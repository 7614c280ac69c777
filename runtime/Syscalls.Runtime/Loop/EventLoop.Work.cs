using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace Syscalls.Runtime;

/// <summary>Posted work and timers. Work posted on the loop thread goes to a plain ring buffer; work posted from other
/// threads to a concurrent queue plus a wake gate (aspnetcore's IOQueue, netty's eventfd flag): only the first poster
/// after the loop went to sleep pays for the backend's wake-up; the loop opens the gate, fences, and looks at the
/// queue once more before it blocks, so no post is lost between its look and its wait.</summary>
public sealed partial class EventLoop
{
    private const int MaxRemotePerIteration = 4096;

    private readonly ConcurrentQueue<WorkItem> _remote = new();
    private WorkItem[] _local = new WorkItem[64];
    private int _localHead;
    private int _localCount;
    private long _oldestLocalPost;    // Stopwatch ticks of the first post into an empty local queue, 0 when empty
    private long _oldestRemotePost;   // likewise for the remote queue (set by compare-and-swap from 0)
    private int _wakeGate = 1;        // 0: the loop may be blocked and a poster must wake it
    private int _batchedWakeQueued;   // 1: a thread-pool item that wakes the loop is queued (PostBatched)
    private long _lastLagTicks;
    private long _maxLagTicks;

    /// <summary>Work posted and not yet run (both queues).</summary>
    internal int PendingWorkCount => _localCount + _remote.Count;

    private bool HasLocalWork => _localCount > 0;

    /// <summary>When the oldest waiting work item was posted (Stopwatch ticks), or long.MaxValue.</summary>
    private long OldestPostTicks
    {
        get
        {
            long local = _localCount > 0 ? _oldestLocalPost : long.MaxValue;
            long remote = Volatile.Read(ref _oldestRemotePost);
            return remote != 0 && !_remote.IsEmpty ? Math.Min(local, remote) : local;
        }
    }

    /// <summary>Runs <paramref name="callback"/> on the loop (after the work already posted). Any thread, no
    /// allocation. An exception from the callback goes to <see cref="UnhandledException"/>.</summary>
    /// <exception cref="ObjectDisposedException">The loop stopped: the work would never run.</exception>
    public void Post(Action<object?> callback, object? state)
    {
        ArgumentNullException.ThrowIfNull(callback);
        if (!TryPost(callback, state))
            throw new ObjectDisposedException(nameof(EventLoop), $"Loop {Id} has stopped: posted work would never run.");
    }

    /// <summary>Runs <paramref name="callback"/> on the loop. Any thread.</summary>
    /// <exception cref="ObjectDisposedException">The loop stopped.</exception>
    public void Post(Action callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        Post(static s => ((Action)s!)(), callback);
    }

    /// <summary>Like <see cref="Post(Action{object?}, object?)"/>, but returns false instead of throwing when the loop
    /// has stopped (the callback then never runs).</summary>
    public bool TryPost(Action<object?> callback, object? state)
    {
        ArgumentNullException.ThrowIfNull(callback);
        if (Volatile.Read(ref _state) == 3)
            return false;
        Enqueue(new WorkItem(callback, state, null));
        return true;
    }

    /// <summary>Creates a stopped timer whose callback runs on this loop; start it with
    /// <see cref="LoopTimer.Start"/>. Any thread.</summary>
    public LoopTimer CreateTimer(Action<object?> callback, object? state)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return new LoopTimer(this, callback, state);
    }

    /// <summary>Completes on the loop after <paramref name="delay"/>, or as canceled when the token fires first (the
    /// timer is then stopped). Any thread; the continuation runs on the loop.</summary>
    public Task Delay(TimeSpan delay, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        if (cancellationToken.IsCancellationRequested)
            return Task.FromCanceled(cancellationToken);
        var delayed = new DelayState(this, cancellationToken);
        delayed.Timer.Start(delay);
        return delayed.Task;
    }

    /// <summary>Posts runtime work (continuations, cancellations): after the loop stopped it runs on the thread pool
    /// rather than never, so an awaiter is never left hanging.</summary>
    internal void PostInternal(Action<object?> callback, object? state)
    {
        if (Volatile.Read(ref _state) == 3)
        {
            ThreadPool.UnsafeQueueUserWorkItem(callback, state, preferLocal: false);
            return;
        }

        Enqueue(new WorkItem(callback, state, null));
    }

    /// <summary>Posts runtime work from another thread and leaves the wake-up to a thread-pool item queued at the tail of
    /// the pool's global queue: on a busy pool it runs after the work already queued there, which is the rest of what
    /// the loop handed to the pool in its last iteration (the requests of other connections). So a burst of posts (the
    /// flushes of the responses the application wrote for them, pipelined or not) costs the loop one wake-up, and the
    /// responses go out in one round of sends, instead of a wake-up and a context switch per connection (Kestrel's
    /// Sockets transport gets the same from its IOQueue, which it queues to the pool's global queue too). On the loop
    /// thread, on a thread that is not the pool's (nothing would run the item soon after), or once the loop stopped, as
    /// <see cref="PostInternal"/>.</summary>
    internal void PostBatched(Action<object?> callback, object? state)
    {
        if (IsOnLoopThread || !Thread.CurrentThread.IsThreadPoolThread || Volatile.Read(ref _state) == 3)
        {
            PostInternal(callback, state);
            return;
        }

        EnqueueRemote(new WorkItem(callback, state, null));
        // One queued wake per burst. The loop needs no wake when it looks at the queue before blocking (it fences, then
        // sees this item); the item wakes it when it is blocked by then.
        if (Volatile.Read(ref _batchedWakeQueued) == 0 && Interlocked.Exchange(ref _batchedWakeQueued, 1) == 0)
            ThreadPool.UnsafeQueueUserWorkItem(s_batchedWake, this, preferLocal: false);
    }

    private static readonly Action<EventLoop> s_batchedWake = static loop =>
    {
        // Cleared first (a full fence): a post after this queues another wake; one before it is seen by this wake.
        Interlocked.Exchange(ref loop._batchedWakeQueued, 0);
        loop.WakeIfBlocked();
    };

    /// <summary>Posts a continuation with the execution context its awaiter captured (may be null).</summary>
    internal void PostContinuation(Action<object?> continuation, object? state, ExecutionContext? context)
    {
        if (context is null)
        {
            PostInternal(continuation, state);
            return;
        }

        if (Volatile.Read(ref _state) == 3)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static s => s.Run(), new WorkItem(continuation, state, context), preferLocal: false);
            return;
        }

        Enqueue(new WorkItem(continuation, state, context));
    }

    /// <summary>Posts a SynchronizationContext callback; after the loop stopped it runs on the thread pool.</summary>
    internal void PostSendOrPost(SendOrPostCallback callback, object? state)
    {
        if (Volatile.Read(ref _state) == 3)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static s => s.Callback(s.State), (Callback: callback, State: state), preferLocal: false);
            return;
        }

        Enqueue(new WorkItem(callback, state, null));
    }

    private void Enqueue(in WorkItem item)
    {
        if (IsOnLoopThread)
        {
            if (_localCount == _local.Length)
                GrowLocal();
            _local[(_localHead + _localCount) % _local.Length] = item;
            if (_localCount++ == 0)
                _oldestLocalPost = Stopwatch.GetTimestamp();
            return;
        }

        EnqueueRemote(item);
        WakeIfBlocked();
    }

    private void EnqueueRemote(in WorkItem item)
    {
        _remote.Enqueue(item);
        if (Volatile.Read(ref _oldestRemotePost) == 0)
            Interlocked.CompareExchange(ref _oldestRemotePost, Stopwatch.GetTimestamp(), 0);
    }

    /// <summary>After a remote post: wakes the loop if it may be blocked (at most one wake per sleep, through the gate).</summary>
    private void WakeIfBlocked()
    {
        if (Volatile.Read(ref _wakeGate) == 0 && Interlocked.Exchange(ref _wakeGate, 1) == 0)
            Driver.Wake();
    }

    /// <summary>Before blocking: opens the gate (a full fence), then looks at the remote queue once more. False when
    /// work is there (do not block).</summary>
    private bool OpenWakeGate()
    {
        Interlocked.Exchange(ref _wakeGate, 0);
        if (_remote.IsEmpty)
            return true;
        Volatile.Write(ref _wakeGate, 1);
        return false;
    }

    /// <summary>Runs the local work present when it starts (work it posts waits for the next iteration, after I/O) and
    /// a bounded batch of remote work.</summary>
    private void RunPosted()
    {
        int n = _localCount;
        if (n > 0)
        {
            for (int i = 0; i < n; i++)
            {
                WorkItem item = _local[_localHead];
                _local[_localHead] = default;
                _localHead = (_localHead + 1) % _local.Length;
                if (--_localCount == 0)
                    _oldestLocalPost = 0;
                RunItem(in item);
            }

            if (_localCount > 0 && _oldestLocalPost == 0)
                _oldestLocalPost = Stopwatch.GetTimestamp();
        }

        if (!_remote.IsEmpty)
        {
            Volatile.Write(ref _oldestRemotePost, 0);
            for (int i = 0; i < MaxRemotePerIteration && _remote.TryDequeue(out WorkItem item); i++)
                RunItem(in item);
        }
    }

    private void RunItem(in WorkItem item)
    {
        try
        {
            item.Run();
        }
        catch (Exception e)
        {
            ReportUnhandled(e);
        }
    }

    private void RecordLag(long lagTicks)
    {
        if (lagTicks < 0)
            lagTicks = 0;
        Volatile.Write(ref _lastLagTicks, lagTicks);
        if (lagTicks > _maxLagTicks)
            Volatile.Write(ref _maxLagTicks, lagTicks);
        LoopMetrics.RecordLag(this, lagTicks);
    }

    private void GrowLocal()
    {
        var grown = new WorkItem[_local.Length * 2];
        for (int i = 0; i < _localCount; i++)
            grown[i] = _local[(_localHead + i) % _local.Length];
        _local = grown;
        _localHead = 0;
    }

    /// <summary>One posted callback: an <see cref="Action{T}"/> or a <see cref="SendOrPostCallback"/>, its state, and
    /// the execution context to run it in (null: the loop's own).</summary>
    private readonly struct WorkItem
    {
        private readonly object _callback;
        private readonly object? _state;
        private readonly ExecutionContext? _context;

        internal WorkItem(object callback, object? state, ExecutionContext? context)
        {
            _callback = callback;
            _state = state;
            _context = context;
        }

        internal void Run()
        {
            if (_context is not null)
            {
                ExecutionContext.Run(_context, static s =>
                {
                    var item = (WorkItem)s!;
                    item.RunCore();
                }, this);
                return;
            }

            RunCore();
        }

        private void RunCore()
        {
            if (_callback is Action<object?> action)
                action(_state);
            else
                ((SendOrPostCallback)_callback)(_state);
        }
    }

    /// <summary>The state of one <see cref="Delay"/>: its task, its timer, the token's registration.</summary>
    private sealed class DelayState : TaskCompletionSource
    {
        private readonly CancellationToken _token;
        private CancellationTokenRegistration _registration;

        internal DelayState(EventLoop loop, CancellationToken token)
            : base(TaskCreationOptions.None)
        {
            _token = token;
            Timer = loop.CreateTimer(static s => ((DelayState)s!).Fired(), this);
            if (token.CanBeCanceled)
                _registration = token.UnsafeRegister(static s => ((DelayState)s!).Canceled(), this);
        }

        internal LoopTimer Timer { get; }

        private void Fired()
        {
            _registration.Unregister();
            TrySetResult();
        }

        private void Canceled()
        {
            Timer.Stop();
            TrySetCanceled(_token);
        }
    }
}
