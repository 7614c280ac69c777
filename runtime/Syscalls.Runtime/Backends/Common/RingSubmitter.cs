using System;

namespace Syscalls.Runtime.Backends.Common;

/// <summary>Submissions to a ring in their order, whatever the kernel takes: a full submission queue is handed over
/// and the operation queued again; an operation the kernel takes nothing of (EAGAIN/EBUSY: short of memory, a
/// completion backlog) waits, with every later one, in a backlog retried before each wait. Owner thread.</summary>
internal sealed class RingSubmitter
{
    private readonly IRing _ring;
    private RingOperation[] _backlog = [];
    private int _count;

    internal RingSubmitter(IRing ring) => _ring = ring;

    /// <summary>Operations wait for the kernel: the owner should wait briefly, then <see cref="FlushBacklog"/>.</summary>
    internal bool HasBacklog => _count > 0;

    /// <summary>Queues <paramref name="op"/> on the ring, or behind the backlog.</summary>
    /// <exception cref="OsException">Only a broken invariant (a closed handle, an unknown buffer group).</exception>
    internal void Submit(in RingOperation op)
    {
        Result r = _count == 0 ? _ring.Enqueue(op) : OsError.FromKind(ErrorKind.WouldBlock);
        if (r.Error.Kind == ErrorKind.WouldBlock && _count == 0)
        {
            _ring.Submit();   // the submission queue is full: hand it over and retry
            r = _ring.Enqueue(op);
        }

        if (r.Error.Kind == ErrorKind.WouldBlock)
        {
            if (_count == _backlog.Length)
                Array.Resize(ref _backlog, Math.Max(16, _backlog.Length * 2));
            _backlog[_count++] = op;
            return;
        }

        r.ThrowIfFailed();
    }

    /// <summary>Queues what the backlog holds, in order, until the ring is full again.</summary>
    internal void FlushBacklog()
    {
        int done = 0;
        for (; done < _count; done++)
        {
            Result r = _ring.Enqueue(_backlog[done]);
            if (r.Error.Kind == ErrorKind.WouldBlock)
                break;
            r.ThrowIfFailed();
        }

        Array.Copy(_backlog, done, _backlog, 0, _count - done);
        Array.Clear(_backlog, _count - done, done);
        _count -= done;
    }
}
