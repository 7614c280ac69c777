using System;
using System.Runtime.Versioning;
using System.Threading;
using Syscalls.Linux;
using Syscalls.Runtime.Backends.Linux;
using static Syscalls.Linux.LibC;

namespace Syscalls.Runtime.Backends.IoUring;

/// <summary>An io_uring instance and its three mmap'd regions (SQ ring, CQ ring, SQE array), with the index pointers
/// resolved from the offsets the kernel returned. No behaviour beyond setup, enter and teardown.</summary>
[SupportedOSPlatform("linux")]
internal sealed class IoUringQueues : IDisposable
{
    // Setup flags, best first; on EINVAL the next rung drops one feature. SINGLE_ISSUER comes with R_DISABLED so the
    // owning thread is the first to enable the ring, not its creator. With DEFER_TASKRUN the enter that waits runs the
    // task work, so TASKRUN_FLAG is left out there: it would make the kernel write the SQ ring's flags word (beside the
    // SQ tail we write) from whichever CPU completes the I/O.
    private static readonly uint[] s_ladder =
    [
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_R_DISABLED | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE,
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_R_DISABLED | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE,
        IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE,
        IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE,
        IORING_SETUP_CQSIZE,
        0,
    ];

    internal int Fd = -1;
    internal uint Flags;
    internal uint Features;
    internal uint SqEntries;
    internal uint SqMask;
    internal uint CqEntries;
    internal uint CqMask;
    // Into the three mappings: valid from Map until Dispose; the index words are shared with the kernel (see the
    // ordering rules of IoUringRing), the SQE array is ours between the SQ head and tail.
    internal unsafe uint* SqHead;
    internal unsafe uint* SqTail;
    internal unsafe uint* SqFlags;
    internal unsafe uint* SqDropped;
    internal unsafe uint* CqHead;
    internal unsafe uint* CqTail;
    internal unsafe uint* CqOverflow;
    internal unsafe io_uring_sqe* Sqes;
    internal unsafe io_uring_cqe* Cqes;

    private unsafe byte* _sqRing;
    private nuint _sqRingSize;
    private unsafe byte* _cqRing;
    private nuint _cqRingSize;
    private nuint _sqesSize;

    private IoUringQueues()
    {
    }

    /// <summary>True while the ring was set up disabled (R_DISABLED) and not yet enabled by its owning thread.</summary>
    internal bool Disabled { get; private set; }

    /// <summary>io_uring_setup with the wanted flags, dropping optional ones one by one on EINVAL, then the mmaps.</summary>
    internal static Result<IoUringQueues> Create(uint entries, uint cqEntries)
    {
        OsError error = default;
        foreach (uint flags in s_ladder)
        {
            io_uring_params p = default;
            p.flags = flags;
            p.cq_entries = cqEntries;
            int fd;
            // reason: &p is a stack local the kernel reads and fills during the call
            unsafe
            {
                fd = io_uring_setup(entries, &p);
            }

            if (fd >= 0)
                return Map(fd, in p);
            error = LinuxErrno.Last();
            if (error.Kind != ErrorKind.InvalidArgument)
                return error;   // ENOSYS, EPERM, ENOMEM: no flag set will do better
        }

        return error;
    }

    // reason: every pointer is into a mapping made here at the kernel's offsets; on failure q is disposed, never escapes
    private static unsafe Result<IoUringQueues> Map(int fd, in io_uring_params p)
    {
        var q = new IoUringQueues { Fd = fd, Flags = p.flags, Features = p.features, Disabled = (p.flags & IORING_SETUP_R_DISABLED) != 0 };
        q._sqRingSize = p.sq_off.array + p.sq_entries * sizeof(uint);
        q._cqRingSize = p.cq_off.cqes + p.cq_entries * (nuint)sizeof(io_uring_cqe);
        bool single = (p.features & IORING_FEAT_SINGLE_MMAP) != 0;
        if (single)
            q._sqRingSize = q._cqRingSize = Math.Max(q._sqRingSize, q._cqRingSize);
        // MAP_POPULATE: fault the ring pages in now rather than on the first submissions.
        q._sqRing = (byte*)mmap(null, q._sqRingSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, (long)IORING_OFF_SQ_RING);
        if (q._sqRing == (byte*)-1)
        {
            q._sqRing = null;
            return q.Fail();
        }

        q._cqRing = single
            ? q._sqRing
            : (byte*)mmap(null, q._cqRingSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, (long)IORING_OFF_CQ_RING);
        if (q._cqRing == (byte*)-1)
        {
            q._cqRing = null;
            return q.Fail();
        }

        q._sqesSize = p.sq_entries * (nuint)sizeof(io_uring_sqe);
        q.Sqes = (io_uring_sqe*)mmap(null, q._sqesSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, (long)IORING_OFF_SQES);
        if (q.Sqes == (io_uring_sqe*)-1)
        {
            q.Sqes = null;
            return q.Fail();
        }

        q.SqEntries = p.sq_entries;
        q.SqMask = *(uint*)(q._sqRing + p.sq_off.ring_mask);
        q.SqHead = (uint*)(q._sqRing + p.sq_off.head);
        q.SqTail = (uint*)(q._sqRing + p.sq_off.tail);
        q.SqFlags = (uint*)(q._sqRing + p.sq_off.flags);
        q.SqDropped = (uint*)(q._sqRing + p.sq_off.dropped);
        q.CqEntries = p.cq_entries;
        q.CqMask = *(uint*)(q._cqRing + p.cq_off.ring_mask);
        q.CqHead = (uint*)(q._cqRing + p.cq_off.head);
        q.CqTail = (uint*)(q._cqRing + p.cq_off.tail);
        q.CqOverflow = (uint*)(q._cqRing + p.cq_off.overflow);
        q.Cqes = (io_uring_cqe*)(q._cqRing + p.cq_off.cqes);
        // The SQ index array maps ring slot i to SQE i once and for all, so submitting only moves the tail.
        uint* array = (uint*)(q._sqRing + p.sq_off.array);
        for (uint i = 0; i < p.sq_entries; i++)
            array[i] = i;
        return q;
    }

    private OsError Fail()
    {
        OsError e = LinuxErrno.Last();
        Dispose();
        return e;
    }

    /// <summary>Binds a SINGLE_ISSUER ring to the calling thread (IORING_REGISTER_ENABLE_RINGS) on first use.</summary>
    internal Result EnsureEnabled()
    {
        if (!Disabled)
            return Result.Success;
        // reason: ENABLE_RINGS takes no argument; null is never dereferenced
        unsafe
        {
            if (io_uring_register(Fd, IORING_REGISTER_ENABLE_RINGS, null, 0) < 0)
                return LinuxErrno.Last();
        }

        Disabled = false;
        return Result.Success;
    }

    /// <summary>io_uring_enter; returns the kernel's count or the error (EINTR included: callers decide).</summary>
    // reason: arg is the caller's getevents argument (argSize bytes) valid for the call, or null without EXT_ARG
    internal unsafe Result<int> Enter(uint toSubmit, uint minComplete, uint flags, void* arg = null, nuint argSize = 0)
    {
        int r = io_uring_enter(Fd, toSubmit, minComplete, flags, arg, argSize);
        return r >= 0 ? r : LinuxErrno.Last();
    }

    /// <summary>Task work or overflowed completions may wait in the kernel: an enter with GETEVENTS posts them. Deferred
    /// task work (DEFER_TASKRUN) is not flagged, so such a ring always answers yes.</summary>
    // reason: SqFlags points into the SQ ring mapping, valid until Dispose (callers hold the ring)
    internal unsafe bool NeedsFlush
        => (Flags & IORING_SETUP_DEFER_TASKRUN) != 0
           || (Volatile.Read(ref *SqFlags) & (IORING_SQ_CQ_OVERFLOW | IORING_SQ_TASKRUN)) != 0;

    // reason: each mapping is unmapped once (the pointers are nulled) and the single-mmap case is not unmapped twice
    public unsafe void Dispose()
    {
        if (Sqes != null)
            munmap(Sqes, _sqesSize);
        if (_cqRing != null && _cqRing != _sqRing)
            munmap(_cqRing, _cqRingSize);
        if (_sqRing != null)
            munmap(_sqRing, _sqRingSize);
        Sqes = null;
        _cqRing = _sqRing = null;
        if (Fd >= 0)
            Sys.Close(Fd);
        Fd = -1;
    }
}
