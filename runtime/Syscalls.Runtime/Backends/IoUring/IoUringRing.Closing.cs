using System;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Threading;
using Syscalls.Linux;
using Syscalls.Runtime.Backends.Linux;
using static Syscalls.Linux.LibC;

namespace Syscalls.Runtime.Backends.IoUring;

/// <summary>Closing, of a descriptor and of the ring: whatever is in flight is canceled first. A Close cancels what
/// holds its descriptor (one cancel by descriptor since 5.19, else one per operation, by id) hard-linked before the
/// close; Dispose cancels everything and waits for the final completions, and closes itself any Close the kernel
/// never got.</summary>
internal sealed partial class IoUringRing
{
    /// <summary>SQEs the cancels before a close of <paramref name="handle"/> take: one (by descriptor) where the
    /// kernel has IORING_ASYNC_CANCEL_FD (5.19), else one per operation in flight on it.</summary>
    private int CloseCancels(SafeHandle? handle)
    {
        if (_probe.CancelByFd || handle is null)
            return 1;
        int fd = (int)handle.DangerousGetHandle(), n = 0;
        for (int i = 0; i < _ops.Capacity; i++)
        {
            if (_ops[i].Active && _ops[i].Fd == fd)
                n++;
        }

        return n;
    }

    /// <summary>Cancels, hard-linked before the close SQE that follows, whatever is in flight on <paramref name="fd"/>:
    /// with IORING_ASYNC_CANCEL_FD | ALL in one SQE, or (before 5.19) one ASYNC_CANCEL per operation, by its id.</summary>
    // reason: Enqueue checked SubmissionSpace for CloseCancels() SQEs plus the close
    private unsafe void EnqueueCloseCancels(int fd, int closeIndex)
    {
        if (_probe.CancelByFd)
        {
            io_uring_sqe* cancel = NextSqe();
            cancel->opcode = (byte)IORING_OP_ASYNC_CANCEL;
            cancel->fd = fd;
            cancel->cancel_flags = IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL;
            cancel->flags = (byte)IOSQE_IO_HARDLINK;
            cancel->user_data = IgnoredId;
            CloseCancelsByFd++;
            return;
        }

        for (int i = 0; i < _ops.Capacity; i++)
        {
            if (!_ops[i].Active || _ops[i].Fd != fd || i == closeIndex)
                continue;
            io_uring_sqe* cancel = NextSqe();
            cancel->opcode = (byte)IORING_OP_ASYNC_CANCEL;
            cancel->addr = _ops.IdOf(i);
            cancel->flags = (byte)IOSQE_IO_HARDLINK;
            cancel->user_data = IgnoredId;
            CloseCancelsById++;
        }
    }

    /// <summary>A Close the kernel never got (enqueued, then the ring disposed before a submit, or a drain that could
    /// not enter the ring) still owns its descriptor, which its handle gave up: close it here, or it leaks.</summary>
    // reason: SqHead points into the SQ ring mapping, unmapped only after this
    private unsafe void CloseUnsubmitted()
    {
        uint consumed = Volatile.Read(ref *_q.SqHead);
        for (int i = 0; i < _ops.Capacity; i++)
        {
            ref InFlightOp op = ref _ops[i];
            if (op.Active && op.Opcode == RingOpcode.Close && (int)(op.SqePosition - consumed) >= 0)
            {
                Sys.Close(op.Fd);
                _ops.Complete(i);
            }
        }
    }

    // reason: as Enqueue/SubmitAndWait: SQEs after the space check; rings and wait block are unmapped after this drain
    private unsafe void DrainInFlight()
    {
        if (_ops.Count == 0 || !_q.EnsureEnabled().IsSuccess)
            return;
        for (int i = 0; i < _ops.Capacity; i++)
        {
            if (!_ops[i].Active)
                continue;
            if (SubmissionSpace < 1 && !SubmitForDispose())
                return;
            io_uring_sqe* sqe = NextSqe();
            sqe->opcode = (byte)IORING_OP_ASYNC_CANCEL;
            sqe->addr = _ops.IdOf(i);
            sqe->user_data = IgnoredId;
        }

        Span<RingCompletion> sink = stackalloc RingCompletion[64];
        long deadline = Environment.TickCount64 + 5000;
        while (_ops.Count > 0 && Environment.TickCount64 < deadline)
        {
            Volatile.Write(ref *_q.SqTail, _sqTail);
            uint pending = _sqTail - Volatile.Read(ref *_q.SqHead);
            _waitTimeout->tv_sec = 0;
            _waitTimeout->tv_nsec = 100_000_000;
            bool extArg = (_q.Features & IORING_FEAT_EXT_ARG) != 0;
            Result<int> r = _q.Enter(pending, 1, IORING_ENTER_GETEVENTS | (extArg ? IORING_ENTER_EXT_ARG : 0),
                extArg ? _waitArg : null, extArg ? (nuint)sizeof(io_uring_getevents_arg) : 0);
            if (!r.IsSuccess && r.Error.Code is not (EINTR or ETIME or EAGAIN or EBUSY))
                return;   // e.g. EEXIST: disposed from a thread that does not own the ring
            while (HarvestCore(sink, flush: false) > 0)
            {
            }
        }
    }

    // reason: SqTail/SqHead point into the SQ ring mapping, unmapped only after the drain that calls this
    private unsafe bool SubmitForDispose()
    {
        Volatile.Write(ref *_q.SqTail, _sqTail);
        Result<int> r = _q.Enter(_sqTail - Volatile.Read(ref *_q.SqHead), 0, 0);
        return r.IsSuccess && SubmissionSpace > 0;
    }
}
