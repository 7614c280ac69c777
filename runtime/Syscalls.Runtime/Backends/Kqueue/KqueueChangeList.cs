using System;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Syscalls.Darwin;
using static Syscalls.Darwin.LibC;

namespace Syscalls.Runtime.Backends.Kqueue;

/// <summary>What the poller has asked the kernel for on one descriptor, once every queued change is applied.</summary>
internal struct KqueueEntry
{
    /// <summary>The EVFILT_READ knote exists (or its EV_ADD is queued).</summary>
    internal const byte ReadFilter = 1;

    /// <summary>The EVFILT_WRITE knote exists (or its EV_ADD is queued).</summary>
    internal const byte WriteFilter = 2;

    internal ulong Token;
    internal Interest Interest;
    internal TriggerMode Mode;
    internal byte Filters;

    /// <summary>The last change the kernel refused for this registration (None when all were applied).</summary>
    internal OsError ChangeError;

    /// <summary>A refused change waits to be reported by the next wait.</summary>
    internal bool FailurePending;

    /// <summary>What the failure is reported as: the direction(s) of the refused filter(s) plus Error.</summary>
    internal Readiness FailureReadiness;
}

/// <summary>The changelist of the next kevent(2) call: a native array of <c>struct kevent</c> (32 bytes on 64-bit
/// macOS, the bindings carry the layout) that grows as changes are queued and empties once the kernel applied it.</summary>
/// <remarks>macOS declares struct kevent under #pragma pack(4): on LP64 its offsets are the natural ones and only its
/// alignment (4) differs, which NativeMemory's allocations exceed.</remarks>
[SupportedOSPlatform("macos")]
internal sealed class KqueueChangeList : IDisposable
{
    // reason: _capacity changes; Grow reallocates, Dispose frees, only the thread owning the poller's changes touches them
    private unsafe kevent* _items;
    private int _capacity;

    internal int Count { get; private set; }

    /// <summary>The queued changes (valid until the next <see cref="Add"/>, which may move them).</summary>
    // reason: the caller passes Count entries to kevent(2) before the next Add, which may move them
    internal unsafe kevent* Items => _items;

    /// <summary>Queues one change. <paramref name="token"/> travels in udata so that an EV_ERROR reply (which echoes
    /// the change) and every event of the knote name their registration without a lookup.</summary>
    // reason: Count < _capacity after Grow, and the buffer is owned by this list until Dispose
    internal unsafe void Add(int fd, int filter, int flags, ulong token)
    {
        if (Count == _capacity)
            Grow(Math.Max(16, _capacity * 2));
        ref kevent ev = ref _items[Count++];
        ev = default;
        ev.ident = (nuint)(uint)fd;
        ev.filter = (short)filter;
        ev.flags = (ushort)flags;
        ev.udata = (void*)token;
    }

    /// <summary>Sets (or clears) EV_RECEIPT on every queued change: the kernel then answers each one with an EV_ERROR
    /// entry (data 0 on success) and, having produced output, skips the event scan, so a flush consumes no readiness.
    /// </summary>
    /// <remarks>Old xnu (macOS 10.12 era) overwrote the errno of a refused EV_RECEIPT change with 0; current xnu keeps
    /// it. That is why the wait path batches without EV_RECEIPT and only flushes use it.</remarks>
    // reason: i < Count <= _capacity, and the buffer is owned by this list until Dispose
    internal unsafe void RequestReceipts(bool on)
    {
        for (int i = 0; i < Count; i++)
        {
            if (on)
                _items[i].flags |= (ushort)EV_RECEIPT;
            else
                _items[i].flags &= unchecked((ushort)~EV_RECEIPT);
        }
    }

    /// <summary>Forgets the queued changes (call once the kernel has applied them).</summary>
    internal void Clear() => Count = 0;

    // reason: the list's own buffer, freed once and then forgotten; callers stop using Items before disposing
    public unsafe void Dispose()
    {
        if (_items != null)
            NativeMemory.Free(_items);
        _items = null;
        _capacity = 0;
        Count = 0;
    }

    // reason: the buffer is owned by this list and only touched by the thread that owns the poller's changes
    private unsafe void Grow(int capacity)
    {
        _items = (kevent*)NativeMemory.Realloc(_items, (nuint)(capacity * sizeof(kevent)));
        _capacity = capacity;
    }
}
