using System;
using Syscalls.Runtime.Backends.Common;

namespace Syscalls.Runtime;

/// <summary>What a ring loop hands completions to: a connection, a listener, a datagram socket. Loop thread.</summary>
internal interface ICompletionTarget
{
    /// <summary>One completion of an operation the target submitted (its tag says which).</summary>
    void OnCompletion(in RingCompletion completion);

    /// <summary><see cref="OnCompletion"/> threw: the target fails alone (aborts itself and reports).</summary>
    void OnDispatchFailed(Exception error);
}

/// <summary>A target that queued work to submit just before the loop waits (send batching: every send of one
/// iteration to a connection goes out in one submission).</summary>
internal interface IFlushTarget
{
    void FlushBeforeWait();
}

/// <summary>A loop's completion backend: one <see cref="IRing"/>, targets addressed by the slot and generation in each
/// operation's <see cref="UserData"/> (the tag says which operation of the target), a shared receive buffer group for
/// multishot receives (or a pool to rent receive buffers from on a single-shot ring: IOCP), pinned send buffers, a
/// backlog for submissions the kernel could not take yet, and one submit-and-wait per iteration for all of it.</summary>
internal sealed class RingDriver : LoopDriver
{
    /// <summary>The receive buffer group's id.</summary>
    internal const ushort ReceiveGroup = 1;

    /// <summary>Ring size wanted: a receive and a send completion per connection between two harvests at 10k
    /// connections without spilling into the kernel's overflow list (CQ = 2 x SQ).</summary>
    internal const int Entries = 16384;

    private const int SendBufferSize = 16 * 1024;
    private const int SendBuffersPerPool = 32;

    private readonly IRing _ring;
    private readonly RingCompletion[] _completions = new RingCompletion[1024];
    private readonly TargetTable<ICompletionTarget> _targets = new(UserData.MaxGeneration);
    private readonly RingSubmitter _submitter;
    private IFlushTarget[] _flush = new IFlushTarget[64];
    private int _flushCount;
    private int _lent;
    private int _disposed;

    internal RingDriver(BackendKind backend, string reason, IRing ring, LoopOptions options)
        : base(backend, reason)
    {
        _ring = ring;
        _submitter = new RingSubmitter(ring);
        Multishot = (ring.Features & (RingFeatures.MultishotRecv | RingFeatures.ProvidedBuffers))
                    == (RingFeatures.MultishotRecv | RingFeatures.ProvidedBuffers);
        MultishotAccept = (ring.Features & RingFeatures.MultishotAccept) != 0;
        PollFirst = ring.Supports(RingOpcode.PollReadable);
        ReceivePool = new RingBufferPool(options.ReceiveBufferSize, options.ReceiveBufferCount);
        SendBuffers = new PinnedBufferSet(SendBufferSize, SendBuffersPerPool);
        if (Multishot)
            _ring.RegisterBufferGroup(ReceiveGroup, ReceivePool).ThrowIfFailed();
    }

    internal override string Name => _ring.Name;

    internal IRing Ring => _ring;

    /// <summary>Multishot receives into the shared group (io_uring, emulated); else single-shot receives into buffers
    /// rented from <see cref="ReceivePool"/> after a <see cref="RingOpcode.PollReadable"/> (IOCP).</summary>
    internal bool Multishot { get; }

    internal bool MultishotAccept { get; }

    internal bool PollFirst { get; }

    internal RingBufferPool ReceivePool { get; }

    internal PinnedBufferSet SendBuffers { get; }

    /// <summary>Receive buffers not lent to anyone (in the group, or free in the pool).</summary>
    internal int FreeReceiveBuffers => Multishot ? ReceivePool.BufferCount - _lent : ReceivePool.Available;

    internal override bool HasBacklog => _submitter.HasBacklog;

    /// <summary>Takes a target slot; operations of the target carry the returned value (tag 0) with their own tag.</summary>
    internal UserData Register(ICompletionTarget target)
    {
        (int slot, uint generation) = _targets.Add(target);
        return UserData.Create((uint)slot, generation);
    }

    /// <summary>Frees the slot once every operation of the target has had its final completion.</summary>
    internal void Release(UserData id) => _targets.Remove((int)id.Slot, id.Generation);

    /// <summary>Queues an operation (<see cref="RingSubmitter.Submit"/>: in order, through a backlog when the kernel
    /// takes nothing).</summary>
    internal void Submit(in RingOperation op) => _submitter.Submit(op);

    /// <summary>Asks for <see cref="IFlushTarget.FlushBeforeWait"/> before the next wait (the target keeps its own
    /// "already asked" flag).</summary>
    internal void RequestFlush(IFlushTarget target)
    {
        if (_flushCount == _flush.Length)
            Array.Resize(ref _flush, _flush.Length * 2);
        _flush[_flushCount++] = target;
    }

    /// <summary>Gives a lent receive buffer back (to the group, or to the pool on a single-shot ring).</summary>
    internal void ReturnReceiveBuffer(int bufferId)
    {
        if (Multishot)
        {
            _lent--;
            _ring.ReturnBuffer(ReceiveGroup, bufferId);
        }
        else
        {
            ReceivePool.Return(bufferId);
        }
    }

    internal override Result<int> Poll(int timeoutMilliseconds)
    {
        // Only the targets queued so far: one that asks again while flushing (still starved of buffers) waits for the
        // next iteration instead of spinning this one.
        int flushes = _flushCount;
        for (int i = 0; i < flushes; i++)
        {
            IFlushTarget t = _flush[i];
            _flush[i] = null!;
            t.FlushBeforeWait();
        }

        Array.Copy(_flush, flushes, _flush, 0, _flushCount - flushes);
        Array.Clear(_flush, _flushCount - flushes, flushes);
        _flushCount -= flushes;
        if (_submitter.HasBacklog)
            _submitter.FlushBacklog();
        Result<int> waited = _ring.SubmitAndWait(_completions, _submitter.HasBacklog && timeoutMilliseconds != 0 ? 1 : timeoutMilliseconds);
        if (!waited.TryGetValue(out int n))
            return waited;
        for (int i = 0; i < n; i++)
            Dispatch(in _completions[i]);
        return n;
    }

    internal override void Wake() => _ring.Wake();

    public override void Dispose()
    {
        if (System.Threading.Interlocked.Exchange(ref _disposed, 1) == 0)
            _ring.Dispose();   // cancels what is left and waits for it
    }

    private void Dispatch(in RingCompletion c)
    {
        if ((c.Flags & RingCompletionFlags.Buffer) != 0)
            _lent++;
        ICompletionTarget? target = _targets.Find((int)c.UserData.Slot, c.UserData.Generation);
        if (target is null)
        {
            // Every operation of a target finishes before its slot is freed, so this is only a lent buffer to give back.
            if ((c.Flags & RingCompletionFlags.Buffer) != 0)
                ReturnReceiveBuffer(c.BufferId);
            return;
        }

        try
        {
            target.OnCompletion(in c);
        }
        catch (Exception e)
        {
            target.OnDispatchFailed(e);
        }
    }

}
