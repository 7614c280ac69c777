using System;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Threading;
using Syscalls.Linux;
using Syscalls.Runtime.Backends.Common;
using Syscalls.Runtime.Backends.Linux;
using static Syscalls.Linux.LibC;

namespace Syscalls.Runtime.Backends.IoUring;

/// <summary>The io_uring ring through its raw mmap'd queues: SQEs written in place, one io_uring_enter for a whole
/// batch of submissions and the wait, completions read straight from the CQ ring.</summary>
/// <remarks>
/// <para>Ordering: what the kernel writes (CQ tail, SQ head) is load-acquired, what we write (SQ tail, CQ head, buffer
/// ring tail) is store-released, with <see cref="Volatile"/> on the index words.</para>
/// <para>The kernel sees an internal id (in-flight slot + generation), never the caller's tag, so each completion
/// finds its operation's references without a search and a Cancel finds its target through the table.</para>
/// <para>Threading: SINGLE_ISSUER rings are set up disabled and bound to the first thread that submits.</para>
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed partial class IoUringRing : IRing
{
    private const ulong InternalBit = 1UL << 63;
    private const ulong WakeId = InternalBit | 1;      // the multishot poll on the wake eventfd
    private const ulong IgnoredId = InternalBit | 2;   // cancel-before-close, Dispose's cancels, wait timers
    private const ulong NoTargetId = InternalBit | 3;  // a Cancel whose target is not in flight: the kernel says ENOENT

    private readonly IoUringQueues _q;
    private readonly IoUringProbe _probe;
    private readonly InFlightTable _ops;
    private readonly NativeScratch _scratch = new();
    private readonly EventFdWaker _wake;          // polled by a multishot POLL_ADD of the ring itself
    private readonly unsafe __kernel_timespec* _waitTimeout;    // one native block with _waitArg, freed in Dispose
    private readonly unsafe io_uring_getevents_arg* _waitArg;
    private IoUringBufferRing[] _groups = [];
    private KernelRoot _root;                     // alive until Dispose drains, whatever the user drops
    private RingBufferPool?[]? _heldAfterFailedDrain;
    private uint _sqTail;
    private bool _wakeArmed;
    private int _disposed;

    private IoUringRing(IoUringQueues q, IoUringProbe probe, EventFdWaker wake, int capacity)
    {
        _q = q;
        _probe = probe;
        _wake = wake;
        _ops = new InFlightTable(capacity);
        // reason: q is freshly mapped, nothing submitted; the wait block is sized for both structs and freed in Dispose
        unsafe
        {
            _sqTail = *q.SqTail;
            _waitTimeout = (__kernel_timespec*)NativeMemory.AllocZeroed((nuint)(sizeof(__kernel_timespec) + sizeof(io_uring_getevents_arg)));
            _waitArg = (io_uring_getevents_arg*)(_waitTimeout + 1);
            _waitArg->ts = (ulong)_waitTimeout;
        }

        ArmWake();
        _root.Hold(this);
    }

    public string Name => "io_uring";

    /// <summary>Closes preceded by one cancel by descriptor (IORING_ASYNC_CANCEL_FD | ALL), for tests.</summary>
    internal long CloseCancelsByFd { get; private set; }

    /// <summary>Cancels by id issued before closes on kernels without IORING_ASYNC_CANCEL_FD, for tests.</summary>
    internal long CloseCancelsById { get; private set; }

    public RingFeatures Features => _probe.Features;

    // reason: SqHead points into the SQ ring mapping, which lives until Dispose
    public unsafe int SubmissionSpace => (int)(_q.SqEntries - (_sqTail - Volatile.Read(ref *_q.SqHead)));

    /// <summary>Sets up a ring of <see cref="RingOptions.Entries"/> SQEs and twice as many CQEs.</summary>
    internal static Result<IoUringRing> Create(RingOptions options, IoUringProbe probe)
    {
        if (!probe.Available)
            return probe.SetupError;
        uint entries = (uint)Math.Clamp(options.Entries, 2, 32768);
        Result<IoUringQueues> q = IoUringQueues.Create(entries, entries * 2);
        if (!q.TryGetValue(out IoUringQueues? queues))
            return q.Error;
        Result<EventFdWaker> created = EventFdWaker.Create();
        if (!created.TryGetValue(out EventFdWaker? wake))
        {
            queues.Dispose();
            return created.Error;
        }

        return new IoUringRing(queues, probe, wake, (int)entries * 2);
    }

    public bool Supports(RingOpcode opcode) => opcode switch
    {
        RingOpcode.AcceptMultishot => _probe.MultishotAccept,
        RingOpcode.RecvMultishot => (_probe.Features & RingFeatures.MultishotRecv) != 0,
        RingOpcode.Close => _probe.Supports(IORING_OP_CLOSE) && _probe.Supports(IORING_OP_ASYNC_CANCEL),
        _ => _probe.Supports(KernelOpcode(opcode)),
    };

    // reason: owning thread only, SQEs from NextSqe after the space check; buffers/scratch live until the final completion
    public unsafe Result Enqueue(in RingOperation operation)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        RingOpcode opcode = operation.Opcode;
        if (!Supports(opcode))
            return OsError.FromKind(ErrorKind.NotSupported);
        int cancels = opcode == RingOpcode.Close ? CloseCancels(operation.Handle) : 0;
        bool shutdownFirst = cancels + 1 > _q.SqEntries;   // more than a whole queue in flight on one descriptor
        if (shutdownFirst)
            cancels = 0;
        if (SubmissionSpace < cancels + 1)
            return OsError.FromKind(ErrorKind.WouldBlock);
        IoUringBufferRing? group = null;
        if (opcode == RingOpcode.RecvMultishot && (group = FindGroup(operation.BufferGroup)) is null)
            return OsError.FromKind(ErrorKind.InvalidArgument);
        ulong target = NoTargetId;
        if (opcode == RingOpcode.Cancel)
        {
            int t = _ops.Find(operation.Target);
            if (t >= 0)
                target = _ops.IdOf(t);
        }

        Result<int> added = _ops.Add(operation);
        if (!added.TryGetValue(out int index))
            return added.Error;
        ref InFlightOp op = ref _ops[index];
        if (opcode == RingOpcode.Close)
        {
            // A close does not end requests that hold the file: cancel them first (hard links: the close runs even
            // when there was nothing to cancel). The handle gives its descriptor to the ring and never closes it.
            if (shutdownFirst)
                Sys.Shutdown(op.Fd, (int)SHUT_RDWR);   // ends every socket operation in flight; they complete on their own
            else
                EnqueueCloseCancels(op.Fd, index);
            operation.Handle!.SetHandleAsInvalid();
        }

        op.SqePosition = _sqTail;
        io_uring_sqe* sqe = NextSqe();
        sqe->opcode = (byte)KernelOpcode(opcode);
        sqe->fd = op.Fd;
        sqe->user_data = _ops.IdOf(index);
        switch (opcode)
        {
            case RingOpcode.Accept:
            case RingOpcode.AcceptMultishot:
                sqe->accept_flags = SOCK_CLOEXEC | SOCK_NONBLOCK;
                if (opcode == RingOpcode.AcceptMultishot)
                    sqe->ioprio = (ushort)IORING_ACCEPT_MULTISHOT;
                break;
            case RingOpcode.Connect:
                op.Scratch = _scratch.Rent();
                sqe->addr = (ulong)_scratch[op.Scratch];
                sqe->off = Sys.WriteSockaddr(operation.Endpoint, _scratch[op.Scratch]);   // connect: addrlen in off
                break;
            case RingOpcode.Recv:
            case RingOpcode.Send:
            case RingOpcode.Read:
            case RingOpcode.Write:
                sqe->addr = (ulong)BufferAddress(operation.Buffer);
                sqe->len = (uint)operation.Buffer.Length;
                if (opcode == RingOpcode.Send)
                    sqe->msg_flags = MSG_NOSIGNAL;
                else if (opcode is RingOpcode.Read or RingOpcode.Write)
                    sqe->off = operation.Offset < 0 ? ulong.MaxValue : (ulong)operation.Offset;   // -1: current position
                break;
            case RingOpcode.RecvMultishot:
                sqe->ioprio = (ushort)IORING_RECV_MULTISHOT;
                sqe->flags = (byte)IOSQE_BUFFER_SELECT;
                sqe->buf_group = group!.GroupId;
                break;
            case RingOpcode.Timeout:
                op.Scratch = _scratch.Rent();
                var ts = (__kernel_timespec*)_scratch[op.Scratch];
                long ticks = operation.Timeout.Ticks;
                ts->tv_sec = ticks / TimeSpan.TicksPerSecond;
                ts->tv_nsec = ticks % TimeSpan.TicksPerSecond * 100;
                sqe->addr = (ulong)ts;
                sqe->len = 1;
                break;
            case RingOpcode.Cancel:
                sqe->addr = target;
                break;
            case RingOpcode.PollReadable:
                sqe->poll32_events = (uint)POLLIN;   // single shot; POLLERR and POLLHUP are always reported
                break;
            case RingOpcode.ReceiveFrom:
            case RingOpcode.SendTo:
                op.Scratch = _scratch.Rent();
                PrepareMessage(sqe, _scratch[op.Scratch], operation);
                break;
        }

        return Result.Success;
    }

    // reason: SqHead points into the SQ ring mapping, which lives until Dispose
    public unsafe Result<int> Submit()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        Result enabled = _q.EnsureEnabled();
        if (!enabled.IsSuccess)
            return enabled.Error;
        uint head = Volatile.Read(ref *_q.SqHead);
        uint pending = PublishSubmissions();
        while (pending > 0)
        {
            Result<int> r = _q.Enter(pending, 0, 0);
            if (r.IsSuccess || r.Error.Code is EAGAIN or EBUSY)
                break;   // EAGAIN/EBUSY: the kernel is short of memory or holds a CQ backlog: harvest, then retry
            if (r.Error.Kind != ErrorKind.Interrupted)
                return r.Error;
        }

        return (int)(Volatile.Read(ref *_q.SqHead) - head);
    }

    public int Harvest(Span<RingCompletion> completions)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return HarvestCore(completions, flush: true);
    }

    // reason: the CQ indices and the wait block live until Dispose; the owning thread writes the block between enters
    public unsafe Result<int> SubmitAndWait(Span<RingCompletion> completions, int timeoutMilliseconds)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        Result enabled = _q.EnsureEnabled();
        if (!enabled.IsSuccess)
            return enabled.Error;
        uint pending = PublishSubmissions();
        bool ready = *_q.CqHead != Volatile.Read(ref *_q.CqTail);
        uint flags = IORING_ENTER_GETEVENTS;
        uint wait = 1;
        void* arg = null;
        nuint argSize = 0;
        if (ready || timeoutMilliseconds == 0)
        {
            wait = 0;
        }
        else if (timeoutMilliseconds > 0)
        {
            _waitTimeout->tv_sec = timeoutMilliseconds / 1000;
            _waitTimeout->tv_nsec = timeoutMilliseconds % 1000 * 1_000_000L;
            if ((_q.Features & IORING_FEAT_EXT_ARG) != 0)
            {
                flags |= IORING_ENTER_EXT_ARG;
                arg = _waitArg;
                argSize = (nuint)sizeof(io_uring_getevents_arg);
            }
            else
            {
                pending += EnqueueWaitTimer();
            }
        }

        if (wait != 0 || pending != 0 || (!ready && _q.NeedsFlush))
        {
            Result<int> r = _q.Enter(pending, wait, flags, arg, argSize);
            // EINTR: a signal (return what is there); ETIME: the wait timed out; EAGAIN/EBUSY: the kernel is short of
            // memory or holds a CQ backlog, which the harvest below drains.
            if (!r.IsSuccess && r.Error.Code is not (EINTR or ETIME or EAGAIN or EBUSY))
                return r.Error;
        }

        // No flush here: task work that arrived meanwhile is run by the next call's enter, which also submits.
        return HarvestCore(completions, flush: false);
    }

    public Result RegisterBufferGroup(ushort groupId, RingBufferPool pool)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        ArgumentNullException.ThrowIfNull(pool);
        if (FindGroup(groupId) is not null)
            return OsError.FromKind(ErrorKind.AlreadyExists);
        if (!_probe.BufferRings)
            return OsError.FromKind(ErrorKind.NotSupported);
        Result<IoUringBufferRing> registered = IoUringBufferRing.Register(_q.Fd, groupId, pool);
        if (!registered.TryGetValue(out IoUringBufferRing? ring))
            return registered.Error;
        Array.Resize(ref _groups, _groups.Length + 1);
        _groups[^1] = ring;
        return Result.Success;
    }

    public void ReturnBuffer(ushort groupId, int bufferId)
    {
        IoUringBufferRing group = FindGroup(groupId) ?? throw new ArgumentException($"Buffer group {groupId} is not registered.", nameof(groupId));
        group.Return(bufferId);
    }

    public void Wake() => _wake.Wake();

    /// <summary>Cancels what is in flight and waits (on the owning thread) for the final completions, so no buffer or
    /// descriptor is released while the kernel may still use it; then unmaps and closes everything.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        DrainInFlight();
        CloseUnsubmitted();
        bool drained = _ops.Count == 0;
        if (!drained)
            _heldAfterFailedDrain = new RingBufferPool?[_ops.Capacity];
        for (int i = 0; i < _ops.Capacity; i++)
        {
            if (!_ops[i].Active)
                continue;
            if (_ops[i].Scratch >= 0)
                _scratch.Return(_ops[i].Scratch);
            _heldAfterFailedDrain![i] = _ops[i].Pool;   // the kernel may still write it: kept, with the ring, for good
            _ops.Complete(i);   // only when the drain failed: the ring's close cancels them in the kernel
        }

        foreach (IoUringBufferRing g in _groups)
            g.Dispose();
        _q.Dispose();
        _scratch.Dispose();
        _wake.Dispose();   // closed now, or when the last Wake under way is done
        // reason: the ring is closed above, so no enter can read the wait block any more
        unsafe
        {
            NativeMemory.Free(_waitTimeout);
        }

        if (drained)
            _root.Release();   // else leaked, with the buffers the kernel may still write
    }

    // ---------------------------------------------------------------- internals

    private static uint KernelOpcode(RingOpcode opcode) => opcode switch
    {
        RingOpcode.Nop => IORING_OP_NOP,
        RingOpcode.Accept or RingOpcode.AcceptMultishot => IORING_OP_ACCEPT,
        RingOpcode.Connect => IORING_OP_CONNECT,
        RingOpcode.Recv or RingOpcode.RecvMultishot => IORING_OP_RECV,
        RingOpcode.Send => IORING_OP_SEND,
        RingOpcode.Read => IORING_OP_READ,
        RingOpcode.Write => IORING_OP_WRITE,
        RingOpcode.Close => IORING_OP_CLOSE,
        RingOpcode.Timeout => IORING_OP_TIMEOUT,
        RingOpcode.Cancel => IORING_OP_ASYNC_CANCEL,
        RingOpcode.PollReadable => IORING_OP_POLL_ADD,
        RingOpcode.ReceiveFrom => IORING_OP_RECVMSG,
        RingOpcode.SendTo => IORING_OP_SENDMSG,
        _ => 255,
    };

    // reason: pool slabs are pinned (POH) and the slice's pool stays referenced by the in-flight entry
    private static unsafe byte* BufferAddress(in BufferSlice slice)
    {
        return (byte*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(slice.Pool!.Slab))
               + (nint)slice.BufferId * slice.Pool.BufferSize + slice.Offset;
    }

    private IoUringBufferRing? FindGroup(ushort groupId)
    {
        foreach (IoUringBufferRing g in _groups)
        {
            if (g.GroupId == groupId)
                return g;
        }

        return null;
    }

    /// <summary>The next SQE, zeroed (its previous use left fields that other opcodes would read).</summary>
    // reason: callers checked SubmissionSpace, so the slot at _sqTail is not one the kernel has yet to consume
    private unsafe io_uring_sqe* NextSqe()
    {
        io_uring_sqe* sqe = &_q.Sqes[_sqTail & _q.SqMask];
        *sqe = default;
        _sqTail++;
        return sqe;
    }

    /// <summary>Store-release of the SQ tail: the SQEs written above are visible before the kernel sees the tail.
    /// Returns how many SQEs the kernel has not consumed yet.</summary>
    // reason: SqTail/SqHead point into the SQ ring mapping, which lives until Dispose
    private unsafe uint PublishSubmissions()
    {
        if (!_wakeArmed)
            ArmWake();
        Volatile.Write(ref *_q.SqTail, _sqTail);
        return _sqTail - Volatile.Read(ref *_q.SqHead);
    }

    // reason: one SQE from NextSqe after the space check; the eventfd it polls lives until Dispose
    private unsafe void ArmWake()
    {
        if (_disposed != 0 || SubmissionSpace < 1)
            return;
        io_uring_sqe* sqe = NextSqe();
        sqe->opcode = (byte)IORING_OP_POLL_ADD;
        sqe->fd = _wake.Fd;
        sqe->poll32_events = (uint)POLLIN;
        sqe->len = IORING_POLL_ADD_MULTI;   // multishot poll: the flag lives in len
        sqe->user_data = WakeId;
        _wakeArmed = true;
    }

    /// <summary>Without IORING_FEAT_EXT_ARG (before 5.11) a wait with a timeout is a TIMEOUT that completes after one
    /// other completion or the delay, whichever comes first.</summary>
    // reason: one SQE from NextSqe after the space check; the timespec it points at lives until Dispose
    private unsafe uint EnqueueWaitTimer()
    {
        if (SubmissionSpace < 1)
            return 0;
        io_uring_sqe* sqe = NextSqe();
        sqe->opcode = (byte)IORING_OP_TIMEOUT;
        sqe->addr = (ulong)_waitTimeout;
        sqe->len = 1;
        sqe->off = 1;
        sqe->user_data = IgnoredId;
        Volatile.Write(ref *_q.SqTail, _sqTail);
        return 1;
    }

    // reason: CQEs between our head and the kernel's (load-acquired) tail are ours to read until the head is stored back
    private unsafe int HarvestCore(Span<RingCompletion> completions, bool flush)
    {
        int n = 0;
        bool flushed = !flush;
        while (n < completions.Length)
        {
            uint head = *_q.CqHead;
            uint tail = Volatile.Read(ref *_q.CqTail);
            if (head == tail)
            {
                // Deferred task work or an overflow backlog (IORING_SQ_TASKRUN / IORING_SQ_CQ_OVERFLOW): an enter with
                // GETEVENTS posts it, once per harvest.
                if (flushed || _q.Disabled || !_q.NeedsFlush)
                    break;
                flushed = true;
                _q.Enter(0, 0, IORING_ENTER_GETEVENTS);
                continue;
            }

            do
            {
                if (Translate(&_q.Cqes[head & _q.CqMask], out completions[n]))
                    n++;
                head++;
            }
            while (head != tail && n < completions.Length);
            Volatile.Write(ref *_q.CqHead, head);   // store-release: the kernel may reuse the entries read above
        }

        return n;
    }

    // reason: cqe is an entry HarvestCore owns (before it stores the new CQ head)
    private unsafe bool Translate(io_uring_cqe* cqe, out RingCompletion completion)
    {
        ulong id = cqe->user_data;
        uint cqeFlags = cqe->flags;
        completion = default;
        if ((id & InternalBit) != 0)
        {
            if (id == WakeId)
            {
                _wake.Drain();
                if ((cqeFlags & IORING_CQE_F_MORE) == 0)
                    _wakeArmed = false;   // re-armed at the next submission
            }

            return false;
        }

        if (!_ops.TryResolve(id, out int index))
            return false;   // cannot happen: an id is retired only by its final completion
        ref InFlightOp op = ref _ops[index];
        int res = cqe->res;
        var flags = RingCompletionFlags.None;
        int bufferId = -1;
        if ((cqeFlags & IORING_CQE_F_MORE) != 0)
            flags |= RingCompletionFlags.More;
        if ((cqeFlags & IORING_CQE_F_BUFFER) != 0)
        {
            bufferId = (int)(cqeFlags >> IORING_CQE_BUFFER_SHIFT);
            flags |= RingCompletionFlags.Buffer;
            FindGroup(op.Group)?.Lend(bufferId);
        }

        if (op.Opcode == RingOpcode.PollReadable && res > 0)
            res = 0;   // the revents mask: the contract's success is 0 on every backend
        completion = new RingCompletion(op.UserData, res < 0 ? 0 : res, res < 0 ? LinuxErrno.ToError(-res) : default, flags,
            bufferId);
        if (op.Opcode == RingOpcode.ReceiveFrom && res >= 0)
            completion = ReceivedDatagram(op.UserData, res, _scratch[op.Scratch]);   // before the block goes back below
        if ((flags & RingCompletionFlags.More) == 0)
        {
            if (op.Scratch >= 0)
                _scratch.Return(op.Scratch);
            _ops.Complete(index);
        }

        return true;
    }


}
