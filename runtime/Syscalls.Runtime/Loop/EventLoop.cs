using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace Syscalls.Runtime;

/// <summary>One event loop on one thread, owning a poller or a completion ring: the I/O of its connections, work
/// posted from any thread, timers, and a <see cref="System.Threading.SynchronizationContext"/> so that an
/// <c>await</c> in code running on the loop resumes on the loop.</summary>
/// <remarks>
/// <para>One iteration, in a fixed order (as libuv's): run the timers that are due, run the work posted before the
/// iteration began, then wait for I/O (no longer than the earliest timer; not at all when work is waiting) and
/// dispatch it: operation continuations run inline on the loop thread. Nothing on the loop may block: one long
/// callback delays every connection of the loop, which the loop-lag figure shows
/// (<see cref="Statistics"/>, and the <c>syscalls.loop.lag</c> histogram of the <c>Syscalls.Runtime</c> meter, readable
/// with <c>dotnet-counters monitor --counters Syscalls.Runtime</c>).</para>
/// <para>Thread rules: <see cref="Post(Action{object?}, object?)"/>, <see cref="Stop"/>, <see cref="Dispose"/> and
/// timer calls are for any thread; everything else documents its own.</para>
/// <para>Failures stay local: an exception from posted work or a timer callback is reported through
/// <see cref="UnhandledException"/> (and the log) and the loop goes on; one from a connection's I/O dispatch aborts
/// that connection only.</para>
/// </remarks>
public sealed partial class EventLoop : IDisposable
{
    [ThreadStatic]
    private static EventLoop? t_current;
    private static int s_nextId;

    private readonly LoopSynchronizationContext _syncContext;
    private readonly LoopTaskScheduler _taskScheduler;
    private readonly ManualResetEventSlim _exited = new(false);
    private readonly object _runGate = new();
    private Thread? _ownThread;
    private int _threadId;
    private volatile bool _stopRequested;
    private int _state;   // 0 created, 1 running, 2 stopping (shutting down on the loop thread), 3 disposed
    private long _now;
    private long _iterations;

    private EventLoop(LoopDriver driver, LoopOptions options)
    {
        Driver = driver;
        Options = options;
        Id = options.Id >= 0 ? options.Id : Interlocked.Increment(ref s_nextId) - 1;
        BoxedId = Id;
        _syncContext = new LoopSynchronizationContext(this);
        _taskScheduler = new LoopTaskScheduler(this);
        _now = Stopwatch.GetTimestamp();
        LoopMetrics.Register(this);
    }

    /// <summary>Creates a loop whose thread is the one that calls <see cref="Run"/>.</summary>
    /// <exception cref="PlatformNotSupportedException">No backend for this OS.</exception>
    /// <exception cref="OsException">The backend could not be set up and nothing to fall back to.</exception>
    public static EventLoop Create(LoopOptions? options = null)
    {
        options = options?.Clone() ?? new LoopOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ReceiveBufferSize, 64, nameof(options.ReceiveBufferSize));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.ReceiveBufferCount, nameof(options.ReceiveBufferCount));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.SendWindow, nameof(options.SendWindow));
        return new EventLoop(BackendSelector.CreateLoopDriver(options), options);
    }

    /// <summary>Creates a loop and runs it on a new thread of its own (a background thread), returning once it runs.</summary>
    public static EventLoop Start(LoopOptions? options = null)
    {
        EventLoop loop = Create(options);
        var started = new ManualResetEventSlim(false);
        var thread = new Thread(static s =>
        {
            var (l, ready) = ((EventLoop, ManualResetEventSlim))s!;
            l.RunCore(ready);
        }, loop.Options.ThreadStackSize)
        {
            IsBackground = true,
            Name = loop.Options.ThreadName,
        };
        loop._ownThread = thread;
        thread.UnsafeStart((loop, started));
        started.Wait();
        started.Dispose();
        return loop;
    }

    /// <summary>The loop running on the calling thread, or null.</summary>
    public static EventLoop? Current => t_current;

    /// <summary>This loop's number (metrics tag, logs).</summary>
    public int Id { get; }

    /// <summary>The backend in use, after any fallback.</summary>
    public BackendKind Backend => Driver.Backend;

    /// <summary>The backend's own name: "epoll", "io_uring", "emulated(poll)", ...</summary>
    public string BackendName => Driver.Name;

    /// <summary>Why this backend was chosen (requested, default, forced, which probe failed).</summary>
    public string SelectionReason => Driver.SelectionReason;

    /// <summary>True on the loop's thread while it runs.</summary>
    public bool IsOnLoopThread => Environment.CurrentManagedThreadId == Volatile.Read(ref _threadId);

    /// <summary>True from <see cref="Run"/> until it returns.</summary>
    public bool IsRunning => Volatile.Read(ref _state) is 1 or 2;

    /// <summary>True once <see cref="Dispose"/> ran or <see cref="Run"/> returned: posting then throws.</summary>
    public bool IsDisposed => Volatile.Read(ref _state) == 3;

    /// <summary>Posts to this loop (no allocation). Equal to every other instance of the same loop's context.</summary>
    public SynchronizationContext SynchronizationContext => _syncContext;

    /// <summary>Runs tasks on this loop (e.g. <c>Task.Factory.StartNew(..., loop.TaskScheduler)</c>).</summary>
    public TaskScheduler TaskScheduler => _taskScheduler;

    /// <summary>Iterations, loop lag and work counts so far (read from any thread; values are not a snapshot).</summary>
    public LoopStatistics Statistics => new(Interlocked.Read(ref _iterations), Volatile.Read(ref _lastLagTicks) * 1000.0 / Stopwatch.Frequency,
        Volatile.Read(ref _maxLagTicks) * 1000.0 / Stopwatch.Frequency, PendingWorkCount);

    /// <summary>Raised on the loop thread when posted work or a timer callback throws, or a connection's dispatch
    /// failed (the connection was aborted). Without a handler the exception goes to the log
    /// (<see cref="LoopOptions.Log"/>) and the loop goes on.</summary>
    public event Action<EventLoop, Exception>? UnhandledException;

    internal LoopDriver Driver { get; }

    /// <summary>The id boxed once, for metric tags (no allocation per measurement).</summary>
    internal object BoxedId { get; }

    internal LoopOptions Options { get; }

    internal TimerHeap Timers { get; } = new();

    /// <summary>The loop's clock (Stopwatch ticks, monotonic, never going back), as of the iteration's start.</summary>
    internal long Now => _now;

    /// <summary>Runs the loop on the calling thread until <see cref="Stop"/>; then closes what is still open on it
    /// (pending operations fail with <see cref="ErrorKind.Canceled"/>) and releases the backend.</summary>
    /// <exception cref="InvalidOperationException">The loop already runs, or ran.</exception>
    public void Run() => RunCore(null);

    /// <summary>Asks <see cref="Run"/> to return after the current iteration. Any thread, idempotent.</summary>
    public void Stop()
    {
        _stopRequested = true;
        Driver.Wake();
    }

    /// <summary>Stops the loop and waits until it has shut down (unless called on the loop thread, where the shutdown
    /// happens when the current callback returns). Any thread, idempotent.</summary>
    public void Dispose()
    {
        Stop();
        if (IsOnLoopThread)
            return;
        lock (_runGate)
        {
            if (_state == 0)
            {
                // Never ran: nothing can be registered with it, only the backend to release.
                _state = 3;
                Driver.Dispose();
                LoopMetrics.Unregister(this);
                _exited.Set();
                return;
            }
        }

        _exited.Wait();
        if (_ownThread is { } t && !ReferenceEquals(t, Thread.CurrentThread))
            t.Join();
    }

    private void RunCore(ManualResetEventSlim? started)
    {
        lock (_runGate)
        {
            if (_state != 0)
                throw new InvalidOperationException(_state == 3 ? "The loop was disposed." : "The loop is already running.");
            _state = 1;
            Volatile.Write(ref _threadId, Environment.CurrentManagedThreadId);
        }

        SynchronizationContext? previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(_syncContext);
        t_current = this;
        started?.Set();
        try
        {
            while (!_stopRequested)
                RunOnce();
        }
        finally
        {
            try
            {
                ShutdownOnLoop();
            }
            finally
            {
                t_current = null;
                SynchronizationContext.SetSynchronizationContext(previous);
                Volatile.Write(ref _threadId, 0);
                LoopMetrics.Unregister(this);
                _exited.Set();
            }
        }
    }

    private void RunOnce()
    {
        Interlocked.Increment(ref _iterations);
        long now = UpdateNow();
        // The lag is taken before anything runs: how long the oldest ready item (a due timer, posted work) waited.
        long readySince = Math.Min(Timers.NextDue, OldestPostTicks);
        if (readySince <= now)
            RecordLag(now - readySince);
        if (Timers.NextDue <= now)
            Timers.RunDue(now, this);
        RunPosted();
        Result<int> polled = Driver.Poll(ComputeTimeout());
        if (!polled.IsSuccess)
        {
            Log($"{Driver.Name}: wait failed, the loop stops: {polled.Error}");
            _stopRequested = true;
        }
    }

    private long UpdateNow()
    {
        long t = Stopwatch.GetTimestamp();
        if (t > _now)
            _now = t;   // a clock that goes backwards is clamped (tokio #3619)
        return _now;
    }

    private int ComputeTimeout()
    {
        if (_stopRequested || HasLocalWork)
            return 0;
        if (Driver.HasBacklog)
            return 1;
        if (!OpenWakeGate())
            return 0;   // work was posted from another thread
        long due = Timers.NextDue;
        if (due == long.MaxValue)
            return -1;
        long now = Stopwatch.GetTimestamp();
        if (due <= now)
            return 0;
        // Rounded up: waking a little before the due time would only spin through zero timeouts.
        double ms = Math.Ceiling((due - now) * 1000.0 / Stopwatch.Frequency);
        return ms >= int.MaxValue ? int.MaxValue : (int)ms;
    }

    /// <summary>Runs <paramref name="callback"/>, reporting an exception instead of letting it end the loop.</summary>
    internal void RunGuarded(Action<object?> callback, object? state)
    {
        try
        {
            callback(state);
        }
        catch (Exception e)
        {
            ReportUnhandled(e);
        }
    }

    internal void ReportUnhandled(Exception e)
    {
        Action<EventLoop, Exception>? handler = UnhandledException;
        if (handler is null)
        {
            Log($"unhandled exception on loop {Id}: {e}");
            return;
        }

        try
        {
            handler(this, e);
        }
        catch (Exception inner)
        {
            Log($"the UnhandledException handler of loop {Id} threw: {inner}");
        }
    }

    internal void Log(string message) => BackendSelector.Emit(Options.Log, $"loop {Id}: {message}");

    private void ShutdownOnLoop()
    {
        lock (_runGate)
            _state = 2;
        RunPosted();
        CloseResources();
        lock (_runGate)
            _state = 3;
        Timers.Clear();
        Driver.Dispose();
        // Continuations posted during the shutdown run now, on this thread, with the loop disposed: what they start
        // fails at once. Bounded, so code that keeps posting cannot hold the thread.
        for (int pass = 0; pass < 16 && PendingWorkCount > 0; pass++)
            RunPosted();
    }

    private void CloseResources()
    {
        // Closing one resource may close others (a listener's queued connections): work on a copy.
        foreach (ILoopResource r in new List<ILoopResource>(_resources))
        {
            try
            {
                r.CloseForShutdown();
            }
            catch (Exception e)
            {
                ReportUnhandled(e);
            }
        }

        // Rings: closes and cancels complete through the ring; wait for them (bounded) so no buffer or descriptor is
        // released under the kernel. The ring's own Dispose cancels and drains whatever is left.
        long deadline = Environment.TickCount64 + 5000;
        while (!AllResourcesDrained() && Environment.TickCount64 < deadline)
        {
            RunPosted();
            if (!Driver.Poll(10).IsSuccess)
                break;
        }
    }

    private bool AllResourcesDrained()
    {
        foreach (ILoopResource r in _resources)
        {
            if (!r.IsDrained)
                return false;
        }

        return true;
    }

    private readonly HashSet<ILoopResource> _resources = new(ReferenceEqualityComparer.Instance);

    /// <summary>Resources open on the loop (connections, listeners, datagram sockets).</summary>
    internal int ResourceCount => _resources.Count;

    /// <summary>Tracks a resource for shutdown (loop thread). Throws when the loop is shutting down or gone.</summary>
    internal void AddResource(ILoopResource resource)
    {
        if (_state >= 2)
            throw new ObjectDisposedException(nameof(EventLoop), $"Loop {Id} is stopping or stopped.");
        _resources.Add(resource);
    }

    /// <summary>Stops tracking a resource once it is closed and drained (loop thread). Idempotent.</summary>
    internal void RemoveResource(ILoopResource resource) => _resources.Remove(resource);

    /// <summary>Throws unless called on the running loop's thread (for members that touch loop state).</summary>
    internal void AssertOnLoop()
    {
        if (!IsOnLoopThread)
            throw new InvalidOperationException($"This member runs on loop {Id}'s thread only (post to it with EventLoop.Post).");
    }

    /// <summary>True while the loop accepts new resources (running, not shutting down).</summary>
    internal bool IsAcceptingWork => Volatile.Read(ref _state) <= 1;

    /// <inheritdoc/>
    public override string ToString() => $"loop {Id} ({Driver.Name})";
}

/// <summary>A loop's counters: iterations so far, the lag of the latest iteration that ran ready work and the largest
/// since the loop started (milliseconds: how late timers and posted work ran, as Node's event-loop delay), and the
/// work items waiting now.</summary>
public readonly record struct LoopStatistics(long Iterations, double LastLagMilliseconds, double MaxLagMilliseconds, int PendingWork);
