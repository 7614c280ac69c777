using System;
using System.Diagnostics;

namespace Syscalls.Runtime;

/// <summary>A one-shot or periodic timer of an <see cref="EventLoop"/>; its callback runs on the loop thread. Create it
/// with <see cref="EventLoop.CreateTimer"/>; start, restart or stop it any number of times (no allocation).</summary>
/// <remarks>Thread rules: <see cref="Start"/> and <see cref="Stop"/> from the loop thread take effect at once; from
/// another thread they are posted to the loop and take effect in order with other posted work. A timer whose
/// callback is running may restart or stop itself. Time is the monotonic clock, in whole milliseconds.</remarks>
public sealed class LoopTimer
{
    private readonly Action<object?> _callback;
    private readonly object? _state;

    internal LoopTimer(EventLoop loop, Action<object?> callback, object? state)
    {
        Loop = loop;
        _callback = callback;
        _state = state;
    }

    /// <summary>The loop the timer runs on.</summary>
    public EventLoop Loop { get; }

    /// <summary>True while started and not yet fired (one-shot) or stopped.</summary>
    public bool IsActive => HeapIndex >= 0 || _startPosted;

    // Heap bookkeeping, loop thread only (TimerHeap).
    internal int HeapIndex = -1;
    internal long DueTicks;
    internal long Sequence;
    internal long PeriodTicks;
    internal bool DueNow;   // taken out of the heap to run in this iteration; Remove clears it (libuv #4248)
    private bool _startPosted;
    private long _postedDue;
    private long _postedPeriod;

    /// <summary>Fires once after <paramref name="due"/>, then every <paramref name="period"/> if it is positive. A
    /// started timer is restarted. A zero <paramref name="due"/> fires in the loop's next iteration, after the I/O
    /// that is ready now.</summary>
    public void Start(TimeSpan due, TimeSpan period = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(due, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(period, TimeSpan.Zero);
        long dueTicks = ToTicks(due), periodTicks = ToTicks(period);
        if (Loop.IsOnLoopThread)
        {
            Loop.Timers.Schedule(this, Loop.Now + dueTicks, periodTicks);
            return;
        }

        lock (this)
        {
            _startPosted = true;
            _postedDue = dueTicks;
            _postedPeriod = periodTicks;
        }

        Loop.Post(static s => ((LoopTimer)s!).ApplyPosted(), this);
    }

    /// <summary>Stops the timer; its callback does not run again unless restarted. Idempotent.</summary>
    public void Stop()
    {
        if (Loop.IsOnLoopThread)
        {
            Loop.Timers.Remove(this);
            return;
        }

        lock (this)
            _startPosted = false;
        if (!Loop.TryPost(static s => ((LoopTimer)s!).Loop.Timers.Remove((LoopTimer)s!), this))
            return;   // the loop is gone: so is the timer
    }

    internal void Fire() => _callback(_state);

    private void ApplyPosted()
    {
        long due, period;
        lock (this)
        {
            if (!_startPosted)
                return;   // a Stop from another thread came after this Start
            _startPosted = false;
            due = _postedDue;
            period = _postedPeriod;
        }

        Loop.Timers.Schedule(this, Loop.Now + due, period);
    }

    private static long ToTicks(TimeSpan span)
        => span == TimeSpan.Zero ? 0 : Math.Max(1, (long)(span.Ticks * (double)Stopwatch.Frequency / TimeSpan.TicksPerSecond));
}

/// <summary>The loop's timers in a min-heap keyed by (due time, start order), as libuv's: due timers are taken out
/// before any runs, so a timer that re-arms itself at 0 ms waits for the next iteration instead of starving the loop.
/// Loop thread only.</summary>
internal sealed class TimerHeap
{
    private LoopTimer[] _heap = new LoopTimer[16];
    private LoopTimer[] _due = new LoopTimer[16];
    private long _sequence;

    internal int Count { get; private set; }

    /// <summary>Due time of the earliest timer, or long.MaxValue.</summary>
    internal long NextDue => Count > 0 ? _heap[0].DueTicks : long.MaxValue;

    internal void Schedule(LoopTimer timer, long dueTicks, long periodTicks)
    {
        Remove(timer);
        timer.DueTicks = dueTicks;
        timer.PeriodTicks = periodTicks;
        timer.Sequence = _sequence++;
        if (Count == _heap.Length)
            Array.Resize(ref _heap, Count * 2);
        timer.HeapIndex = Count;
        _heap[Count++] = timer;
        Up(timer.HeapIndex);
    }

    internal void Remove(LoopTimer timer)
    {
        timer.DueNow = false;
        int i = timer.HeapIndex;
        if (i < 0)
            return;
        timer.HeapIndex = -1;
        LoopTimer last = _heap[--Count];
        _heap[Count] = null!;
        if (i == Count)
            return;
        _heap[i] = last;
        last.HeapIndex = i;
        Up(i);
        Down(last.HeapIndex);
    }

    /// <summary>Runs every timer due at <paramref name="now"/>; periodic ones are re-armed from their due time (not from
    /// now, so they do not drift), or from now when the loop fell a whole period behind.</summary>
    internal void RunDue(long now, EventLoop loop)
    {
        int n = 0;
        while (Count > 0 && _heap[0].DueTicks <= now)
        {
            LoopTimer t = _heap[0];
            Remove(t);
            t.DueNow = true;
            if (n == _due.Length)
                Array.Resize(ref _due, n * 2);
            _due[n++] = t;
        }

        for (int i = 0; i < n; i++)
        {
            LoopTimer t = _due[i];
            _due[i] = null!;
            if (!t.DueNow)
                continue;   // stopped or restarted by a callback that ran before it in this batch
            t.DueNow = false;
            if (t.PeriodTicks > 0)
            {
                long next = t.DueTicks + t.PeriodTicks;
                Schedule(t, next > now ? next : now + t.PeriodTicks, t.PeriodTicks);
            }

            loop.RunGuarded(static s => ((LoopTimer)s!).Fire(), t);
        }
    }

    private void Up(int i)
    {
        LoopTimer t = _heap[i];
        while (i > 0)
        {
            int parent = (i - 1) / 2;
            if (!Before(t, _heap[parent]))
                break;
            _heap[i] = _heap[parent];
            _heap[i].HeapIndex = i;
            i = parent;
        }

        _heap[i] = t;
        t.HeapIndex = i;
    }

    private void Down(int i)
    {
        LoopTimer t = _heap[i];
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= Count)
                break;
            if (child + 1 < Count && Before(_heap[child + 1], _heap[child]))
                child++;
            if (!Before(_heap[child], t))
                break;
            _heap[i] = _heap[child];
            _heap[i].HeapIndex = i;
            i = child;
        }

        _heap[i] = t;
        t.HeapIndex = i;
    }

    /// <summary>Forgets every timer (the loop stopped).</summary>
    internal void Clear()
    {
        while (Count > 0)
            Remove(_heap[0]);
    }

    private static bool Before(LoopTimer a, LoopTimer b)
        => a.DueTicks < b.DueTicks || (a.DueTicks == b.DueTicks && a.Sequence < b.Sequence);
}
