using System;
using Syscalls.Runtime.Backends.Common;
using Syscalls.Runtime.Backends.IoUring;
using Syscalls.Runtime.Backends.Linux;

namespace Syscalls.Runtime.Backends.Emulated;

/// <summary>What each opcode does when submitted and when its descriptor becomes ready: the non-blocking call, and the
/// io_uring result it stands for. Socket calls go through the OS-neutral <see cref="SocketCalls"/>; the errors the
/// emulation makes up itself (canceled, not found, no buffers, timer expired) carry this OS's numbers for them
/// (<see cref="HostErrors"/>).</summary>
internal sealed partial class EmulatedRing
{
    private const int AcceptBurst = 64;

    /// <summary>Submission: operations without a descriptor complete or arm here, the others make a first attempt.</summary>
    private void Start(int index)
    {
        if (!_ops[index].Active || _emu[index].Wait != WaitSubmit)
            return;   // canceled earlier in the same batch
        ref EmuOp e = ref _emu[index];
        e.Wait = WaitNone;
        switch (_ops[index].Opcode)
        {
            case RingOpcode.Nop:
                Finish(index, 0, default);
                return;
            case RingOpcode.Timeout:
                e.Wait = WaitTimer;
                e.Deadline = Environment.TickCount64 + (long)Math.Ceiling(e.Delay.TotalMilliseconds);
                _timers.Push(e.Deadline, index, _ops[index].Generation);
                return;
            case RingOpcode.Cancel:
                int target = _ops.Find(e.Target);
                if (target < 0 || target == index)
                {
                    Finish(index, 0, HostErrors.NotFound);
                    return;
                }

                if (_ops[target].Opcode == RingOpcode.Close && _emu[target].Wait == WaitSubmit)
                    SocketCalls.Close(_ops[target].Fd);   // a close cannot be taken back: its handle let go
                Finish(target, 0, HostErrors.Canceled);
                Finish(index, 0, default);
                return;
            case RingOpcode.Close:
                CloseDescriptor(index);
                return;
            default:
                Attempt(index);
                return;
        }
    }

    /// <summary>Cancels the descriptor's waiters (like io_uring's cancel-by-fd before close), then closes it.</summary>
    private void CloseDescriptor(int index)
    {
        int fd = _ops[index].Fd;
        if ((uint)fd < (uint)_fds.Length)
        {
            while (_fds[fd].ReadHead >= 0)
                Finish(_fds[fd].ReadHead, 0, HostErrors.Canceled);
            while (_fds[fd].WriteHead >= 0)
                Finish(_fds[fd].WriteHead, 0, HostErrors.Canceled);
        }

        // The handle was marked invalid at enqueue and our reference kept the descriptor open until here.
        Result closed = SocketCalls.Close(fd);
        Finish(index, 0, closed.Error);
    }

    /// <summary>One try of a descriptor operation: completes it, keeps it waiting, or (multishot) posts one result.</summary>
    private Outcome Attempt(int index)
    {
        ref InFlightOp op = ref _ops[index];
        ref EmuOp e = ref _emu[index];
        int fd = op.Fd;
        switch (op.Opcode)
        {
            case RingOpcode.Accept:
                while (true)
                {
                    Result<int> a = SocketCalls.Accept(fd, blocking: false);
                    if (a.TryGetValue(out int client))
                        return Done(index, client);
                    if (a.Error.Kind == ErrorKind.ConnectionAborted)
                        continue;   // the peer gave up while queued
                    return a.Error.Kind == ErrorKind.WouldBlock ? Wait(index, write: false) : Fail(index, a.Error);
                }

            case RingOpcode.AcceptMultishot:
                for (int i = 0; i < AcceptBurst; i++)
                {
                    Result<int> a = SocketCalls.Accept(fd, blocking: false);
                    if (a.TryGetValue(out int client))
                    {
                        PostMore(index, client, -1);
                        continue;
                    }

                    if (a.Error.Kind == ErrorKind.ConnectionAborted)
                        continue;
                    if (a.Error.Kind != ErrorKind.WouldBlock)
                        return Fail(index, a.Error);   // as io_uring: an error ends the multishot accept
                    break;
                }

                Wait(index, write: false);
                return Outcome.Progress;

            case RingOpcode.Connect:
                if (!e.Connecting)
                {
                    Result c = SocketCalls.Connect(fd, e.Endpoint);
                    if (c.IsSuccess)
                        return Done(index, 0);
                    if (c.Error.Kind != ErrorKind.InProgress)
                        return Fail(index, c.Error);
                    e.Connecting = true;
                    return Wait(index, write: true);
                }

                OsError so = SocketCalls.GetPendingError(fd);
                return so.IsNone ? Done(index, 0) : Fail(index, so);

            case RingOpcode.Recv:
            case RingOpcode.Read:
            {
                Span<byte> span = op.Pool!.GetSpan(op.BufferId).Slice(e.Offset, e.Length);
                Result<int> r = op.Opcode == RingOpcode.Recv ? SocketCalls.Recv(fd, span)
                    : !OperatingSystem.IsLinux() ? OsError.FromKind(ErrorKind.NotSupported)
                    : e.FileOffset < 0 ? Sys.Read(fd, span)   // the current position, moved by the read
                    : Sys.ReadAt(fd, span, e.FileOffset);
                return Transferred(index, r, write: false);
            }

            case RingOpcode.Send:
            case RingOpcode.Write:
            {
                Span<byte> span = op.Pool!.GetSpan(op.BufferId).Slice(e.Offset, e.Length);
                Result<int> r = op.Opcode == RingOpcode.Send ? SocketCalls.Send(fd, span)
                    : !OperatingSystem.IsLinux() ? OsError.FromKind(ErrorKind.NotSupported)
                    : e.FileOffset < 0 ? Sys.Write(fd, span)
                    : Sys.WriteAt(fd, span, e.FileOffset);
                return Transferred(index, r, write: true);
            }

            case RingOpcode.RecvMultishot:
                return ReceiveIntoGroup(index);

            case RingOpcode.ReceiveFrom:
            {
                Span<byte> span = op.Pool!.GetSpan(op.BufferId).Slice(e.Offset, e.Length);
                Result<int> r = SocketCalls.ReceiveDatagram(fd, span, out NetEndpoint from, out bool truncated);
                if (!r.TryGetValue(out int n))
                    return r.Error.Kind == ErrorKind.WouldBlock ? Wait(index, write: false) : Fail(index, r.Error);
                FinishDatagram(index, n, truncated, from);
                return Outcome.Done;
            }

            case RingOpcode.SendTo:
            {
                Span<byte> span = op.Pool!.GetSpan(op.BufferId).Slice(e.Offset, e.Length);
                return Transferred(index, SocketCalls.SendDatagram(fd, span, e.Endpoint), write: true);
            }

            case RingOpcode.PollReadable:
                // Attempted again only from the readiness event (readable, end of stream, error, hang-up).
                if (e.Polled)
                    return Done(index, 0);
                e.Polled = true;
                return Wait(index, write: false);

            default:
                return Fail(index, OsError.FromKind(ErrorKind.NotSupported));
        }
    }

    /// <summary>io_uring picks the buffer before it receives, so an empty group ends the multishot receive with
    /// ENOBUFS even when no data is waiting; the emulation does the same.</summary>
    private Outcome ReceiveIntoGroup(int index)
    {
        ref InFlightOp op = ref _ops[index];
        ref Group g = ref _groups[FindGroup(op.Group)];
        if (g.Count == 0)
            return Fail(index, HostErrors.NoBuffers);
        int bufferId = g.Free[--g.Count];
        Result<int> r = SocketCalls.Recv(op.Fd, g.Pool.GetSpan(bufferId));
        if (r.TryGetValue(out int n) && n > 0)
        {
            g.Pool.MarkProvided(bufferId, false);   // lent to the caller until ReturnBuffer
            PostMore(index, n, bufferId);
            if (_emu[index].Wait == WaitNone)
                Wait(index, write: false);
            return Outcome.Progress;
        }

        g.Free[g.Count++] = bufferId;   // unused: straight back
        if (r.IsSuccess)
            return EndOfStream(index);  // ends the multishot receive
        return r.Error.Kind == ErrorKind.WouldBlock ? Wait(index, write: false) : Fail(index, r.Error);
    }

    private Outcome Transferred(int index, Result<int> r, bool write)
    {
        if (r.TryGetValue(out int n))
            return n == 0 && !write && _ops[index].Opcode == RingOpcode.Recv ? EndOfStream(index) : Done(index, n);
        return r.Error.Kind == ErrorKind.WouldBlock ? Wait(index, write) : Fail(index, r.Error);
    }

    /// <summary>A receive read 0 bytes: end of stream, unless the event that woke it reported an error, which means
    /// the peer reset (Wine's AFD and WSAPoll report the reset, then recv returns 0), as io_uring would say.</summary>
    private Outcome EndOfStream(int index)
    {
        int fd = _ops[index].Fd;
        if ((uint)fd < (uint)_fds.Length && (_fds[fd].Reported & Readiness.Error) != 0)
        {
            OsError so = SocketCalls.GetPendingError(fd);
            return Fail(index, so.IsNone ? OsError.FromKind(ErrorKind.ConnectionReset) : so);
        }

        return Done(index, 0);
    }

    private Outcome Done(int index, int result)
    {
        Finish(index, result, default);
        return Outcome.Done;
    }

    private Outcome Fail(int index, OsError error)
    {
        Finish(index, 0, error);
        return Outcome.Done;
    }

    private Outcome Wait(int index, bool write)
    {
        if (_emu[index].Wait == WaitNone)
            WaitOn(index, write);
        return Outcome.Wait;
    }

    /// <summary>Deadlines of Timeout operations; canceled or finished ones are dropped when they reach the top.</summary>
    private sealed class TimerHeap
    {
        private (long Deadline, int Index, uint Generation)[] _heap = new (long, int, uint)[16];
        private int _count;

        internal void Push(long deadline, int index, uint generation)
        {
            if (_count == _heap.Length)
                Array.Resize(ref _heap, _count * 2);
            int i = _count++;
            while (i > 0)
            {
                int parent = (i - 1) / 2;
                if (_heap[parent].Deadline <= deadline)
                    break;
                _heap[i] = _heap[parent];
                i = parent;
            }

            _heap[i] = (deadline, index, generation);
        }

        internal long NextDeadline(InFlightTable ops, EmuOp[] emu)
        {
            DropStale(ops, emu);
            return _count > 0 ? _heap[0].Deadline : long.MaxValue;
        }

        internal bool TryPopExpired(long now, InFlightTable ops, EmuOp[] emu, out int index)
        {
            DropStale(ops, emu);
            index = -1;
            if (_count == 0 || _heap[0].Deadline > now)
                return false;
            index = _heap[0].Index;
            Pop();
            return true;
        }

        private void DropStale(InFlightTable ops, EmuOp[] emu)
        {
            while (_count > 0)
            {
                var (_, index, generation) = _heap[0];
                if (ops[index].Active && ops[index].Generation == generation && emu[index].Wait == WaitTimer)
                    return;
                Pop();
            }
        }

        private void Pop()
        {
            var last = _heap[--_count];
            int i = 0;
            while (true)
            {
                int child = 2 * i + 1;
                if (child >= _count)
                    break;
                if (child + 1 < _count && _heap[child + 1].Deadline < _heap[child].Deadline)
                    child++;
                if (_heap[child].Deadline >= last.Deadline)
                    break;
                _heap[i] = _heap[child];
                i = child;
            }

            if (_count > 0)
                _heap[i] = last;
        }
    }
}
