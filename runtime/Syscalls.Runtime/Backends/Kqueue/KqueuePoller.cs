using System;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Threading;
using Syscalls.Darwin;
using Syscalls.Runtime.Backends.Common;
using static Syscalls.Darwin.LibC;

namespace Syscalls.Runtime.Backends.Kqueue;

/// <summary>kqueue(2) poller for macOS: EVFILT_READ/EVFILT_WRITE knotes per descriptor, level (no flag), edge
/// (EV_CLEAR) and oneshot (EV_DISPATCH); an EVFILT_USER knote triggered with NOTE_TRIGGER is the waker.</summary>
/// <remarks>
/// <para>Changes are batched: <see cref="Register"/> and <see cref="Modify"/> only queue kevents, and the next
/// <see cref="Wait"/> hands them to the kernel in the same kevent(2) call that waits. A change the kernel refuses comes
/// back as an EV_ERROR entry that echoes it (udata = the token): it is reported per item, as an event for that
/// registration's token with <see cref="Readiness.Error"/> plus the refused direction, and its errno is kept for
/// <see cref="ChangeError"/>. <see cref="Deregister"/> and an oversized batch are flushed at once with EV_RECEIPT on
/// every change, which makes the kernel answer each change and skip the event scan, so no readiness is consumed.</para>
/// <para>Oneshot uses EV_DISPATCH (the knote stays, disabled after it fires; <see cref="Modify"/> re-enables it) and
/// disables the sibling filter of a reported registration, so that, as with EPOLLONESHOT, a registration reports once
/// in total, not once per filter. EV_EOF on the read filter is <see cref="Readiness.ReadClosed"/>; EV_EOF on both
/// filters in one wait is <see cref="Readiness.Closed"/>; EV_EOF with a non-zero fflags (the socket's pending error)
/// adds <see cref="Readiness.Error"/>. <see cref="Interest.None"/> keeps the registration with no knote at all, so
/// nothing (not even an error) is reported for it until <see cref="Modify"/> asks again.</para>
/// </remarks>
[SupportedOSPlatform("macos")]
internal sealed class KqueuePoller : IPoller
{
    /// <summary>Token of the waker's knote; user tokens may not use it (same rule as the other pollers).</summary>
    internal const ulong WakeToken = ulong.MaxValue;

    /// <summary>ident of the EVFILT_USER waker (user idents are their own namespace, apart from descriptors).</summary>
    private const nuint WakeIdent = 0;

    /// <summary>Used inside one <see cref="Collect"/> only: the write filter reported EV_EOF.</summary>
    private const Readiness WriteClosed = (Readiness)(1 << 30);

    private readonly int _kq;                     // the owning thread's view of _kqHandle
    private readonly SharedHandle _kqHandle;      // Wake triggers the waker through it under a reference
    private readonly Registrations _registrations = new();
    private readonly KqueueChangeList _changes = new();
    private KqueueEntry[] _entries = new KqueueEntry[256];
    private int[] _batchSlot = new int[256];
    private uint[] _batchStamp = new uint[256];
    private uint _stamp;
    private int _failures;
    // reason: the kernel writes ready events here (_nativeCapacity entries); EnsureNative/Dispose own it
    private unsafe kevent* _native;
    private int _nativeCapacity;
    private int _wakePending;
    private int _disposed;

    private KqueuePoller(int kq)
    {
        _kq = kq;
        _kqHandle = new SharedHandle(kq, SharedHandleKind.Descriptor);
    }

    public string Name => "kqueue";

    public PollerCapabilities Capabilities
        => PollerCapabilities.EdgeTriggered | PollerCapabilities.Oneshot | PollerCapabilities.ReadClosed | PollerCapabilities.ScalableWait;

    /// <summary>Changes queued for the next kevent(2) call (for tests).</summary>
    internal int PendingChanges => _changes.Count;

    /// <summary>Creates the kqueue (close-on-exec) and its EVFILT_USER waker.</summary>
    internal static Result<KqueuePoller> Create()
    {
        int kq = kqueue();
        if (kq < 0)
            return DarwinErrno.Last();
        // kqueue(2) takes no flags: close-on-exec needs fcntl, the variadic call the bindings pad on Apple arm64.
        Result r = DarwinSocketOptions.SetCloseOnExec(kq);
        if (r.IsSuccess)
            r = AddWaker(kq);
        if (!r.IsSuccess)
        {
            close(kq);
            return r.Error;
        }

        return new KqueuePoller(kq);
    }

    /// <summary>The selector's entry point: a poller, or the reason there is none.</summary>
    internal static bool TryCreate([NotNullWhen(true)] out IPoller? poller, out OsError error)
    {
        Result<KqueuePoller> created = Create();
        poller = created.IsSuccess ? created.Value : null;
        error = created.Error;
        return poller is not null;
    }

    public Result Register(SafeHandle handle, ulong token, Interest interest, TriggerMode mode = TriggerMode.Level)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (token == WakeToken)
            return OsError.FromKind(ErrorKind.InvalidArgument);
        Result<int> acquired = _registrations.Acquire(handle);
        if (!acquired.TryGetValue(out int fd))
            return acquired.Error;
        EnsureFd(fd);
        ref KqueueEntry e = ref _entries[fd];
        e = default;
        Queue(fd, ref e, token, interest, mode);
        _registrations.Add(fd, handle);
        return Result.Success;
    }

    public Result Modify(SafeHandle handle, ulong token, Interest interest, TriggerMode mode = TriggerMode.Level)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (token == WakeToken)
            return OsError.FromKind(ErrorKind.InvalidArgument);
        Result<int> found = _registrations.Find(handle);
        if (!found.TryGetValue(out int fd))
            return found.Error;
        ref KqueueEntry e = ref _entries[fd];
        ClearFailure(ref e);
        Queue(fd, ref e, token, interest, mode);
        return Result.Success;
    }

    public Result Deregister(SafeHandle handle)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        Result<int> found = _registrations.Find(handle);
        if (!found.TryGetValue(out int fd))
            return found.Error;
        ref KqueueEntry e = ref _entries[fd];
        if ((e.Filters & KqueueEntry.ReadFilter) != 0)
            _changes.Add(fd, EVFILT_READ, EV_DELETE, e.Token);
        if ((e.Filters & KqueueEntry.WriteFilter) != 0)
            _changes.Add(fd, EVFILT_WRITE, EV_DELETE, e.Token);
        ClearFailure(ref e);
        e = default;
        // The knotes go now, before the reference is dropped: dropping it may close the descriptor, and its number,
        // reused by the next socket, must inherit neither a queued change nor an event.
        Result r = FlushCore(fd);
        _registrations.Remove(fd);
        return r;
    }

    /// <summary>Applies every queued change now (one kevent call with EV_RECEIPT, no event consumed); refused changes
    /// are reported by the next <see cref="Wait"/> as usual. For callers that need the kernel state settled.</summary>
    internal Result Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return FlushCore(-1);
    }

    /// <summary>The last change the kernel refused for <paramref name="handle"/>'s registration (None if none).</summary>
    internal OsError ChangeError(SafeHandle handle)
        => _registrations.Find(handle).TryGetValue(out int fd) ? _entries[fd].ChangeError : OsError.FromKind(ErrorKind.NotFound);

    // reason: changelist (Count) and _native (events.Length) are ours, ts is a stack local, no Register/Modify runs during a wait
    public unsafe Result<int> Wait(Span<PollEvent> events, int timeoutMilliseconds)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (events.Length == 0)
            return 0;
        if (_failures > 0)
            return TakeFailures(events);
        if (_changes.Count > events.Length)
        {
            // A refused change needs a free eventlist slot for its EV_ERROR reply; without one xnu stops at the first
            // refusal, returns -1 and never looks at the rest. A batch larger than the span is flushed on its own.
            Result flushed = FlushCore(-1);
            if (!flushed.IsSuccess)
                return flushed.Error;
            if (_failures > 0)
                return TakeFailures(events);
        }

        EnsureNative(events.Length);
        timespec ts = default;
        timespec* timeout = null;
        if (timeoutMilliseconds >= 0)
        {
            ts.tv_sec = timeoutMilliseconds / 1000;
            ts.tv_nsec = timeoutMilliseconds % 1000 * 1_000_000L;
            timeout = &ts;
        }

        int n = kevent(_kq, _changes.Items, _changes.Count, _native, events.Length, timeout);
        if (n < 0)
        {
            OsError e = DarwinErrno.Last();
            if (e.Kind != ErrorKind.Interrupted)
                return e;
            // EINTR comes only from the scan, which xnu enters after applying the whole changelist without a refusal
            // (a refusal produces output and skips the scan): the batch is in, only the wait was cut short.
            _changes.Clear();
            return 0;
        }

        _changes.Clear();
        int k = Collect(events, n);
        if (_failures > 0 && k < events.Length)
            k += TakeFailures(events[k..]);
        return k;
    }

    // reason: &trigger is a stack local; with nevents 0 kevent applies the change and returns without scanning
    // Under a reference: Dispose on the owning thread may be closing the kqueue, whose number could then be taken.
    public unsafe void Wake()
    {
        if (Interlocked.Exchange(ref _wakePending, 1) != 0 || !_kqHandle.TryUse(out nint kq))
            return;
        kevent trigger = default;
        trigger.ident = WakeIdent;
        trigger.filter = (short)EVFILT_USER;
        trigger.fflags = (uint)NOTE_TRIGGER;
        try
        {
            // A trigger that failed must not leave the mark: every later Wake would be dropped.
            if (kevent((int)kq, &trigger, 1, null, 0, null) < 0)
                Volatile.Write(ref _wakePending, 0);
        }
        finally
        {
            _kqHandle.DangerousRelease();
        }
    }

    // reason: _disposed is set, so no Wait can be using _native any more; freed once, then forgotten
    public unsafe void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _registrations.ReleaseAll();
        _kqHandle.Dispose();   // closing the kqueue (now, or after the last Wake under way) drops every knote it holds
        _changes.Dispose();
        if (_native != null)
            NativeMemory.Free(_native);
        _native = null;
    }

    // ---------------------------------------------------------------- changes

    // reason: change, receipt and zero are stack locals that outlive the synchronous kevent call
    private static unsafe Result AddWaker(int kq)
    {
        kevent change = default;
        change.ident = WakeIdent;
        change.filter = (short)EVFILT_USER;
        change.flags = (ushort)(EV_ADD | EV_CLEAR | EV_RECEIPT);   // EV_CLEAR: a delivered trigger resets itself
        change.udata = (void*)WakeToken;
        kevent receipt = default;
        timespec zero = default;
        int n = kevent(kq, &change, 1, &receipt, 1, &zero);
        if (n < 0)
            return DarwinErrno.Last();
        return n == 1 && (receipt.flags & EV_ERROR) != 0 && receipt.data != 0 ? DarwinErrno.ToError((int)receipt.data) : Result.Success;
    }

    private void Queue(int fd, ref KqueueEntry e, ulong token, Interest interest, TriggerMode mode)
    {
        // EV_CLEAR/EV_DISPATCH are copied into a knote only when it is created (xnu and FreeBSD alike): a mode change
        // needs a fresh knote. EV_ENABLE re-arms a knote EV_DISPATCH disabled; EV_ADD on a live knote updates udata.
        bool modeChanged = e.Filters != 0 && e.Mode != mode;
        int add = EV_ADD | EV_ENABLE | ModeFlags(mode);
        Apply(fd, ref e, KqueueEntry.ReadFilter, EVFILT_READ, (interest & Interest.Readable) != 0, modeChanged, add, token);
        Apply(fd, ref e, KqueueEntry.WriteFilter, EVFILT_WRITE, (interest & Interest.Writable) != 0, modeChanged, add, token);
        e.Token = token;
        e.Interest = interest;
        e.Mode = mode;
    }

    private void Apply(int fd, ref KqueueEntry e, byte bit, int filter, bool wanted, bool modeChanged, int add, ulong token)
    {
        bool has = (e.Filters & bit) != 0;
        if (wanted)
        {
            if (has && modeChanged)
                _changes.Add(fd, filter, EV_DELETE, token);
            _changes.Add(fd, filter, add, token);
            e.Filters |= bit;
        }
        else if (has)
        {
            _changes.Add(fd, filter, EV_DELETE, token);
            e.Filters &= (byte)~bit;
        }
    }

    private static int ModeFlags(TriggerMode mode)
    {
        int flags = 0;
        if ((mode & TriggerMode.Edge) != 0)
            flags |= EV_CLEAR;
        if ((mode & TriggerMode.Oneshot) != 0)
            flags |= EV_DISPATCH;
        return flags;
    }

    /// <summary>Submits the changelist with EV_RECEIPT; a refusal for <paramref name="forgetFd"/> (being deregistered)
    /// is dropped, the others are kept for the next wait.</summary>
    // reason: the changelist and _native hold n entries each and belong to this poller; zero is a stack local
    private unsafe Result FlushCore(int forgetFd)
    {
        int n = _changes.Count;
        if (n == 0)
            return Result.Success;
        _changes.RequestReceipts(true);
        EnsureNative(n);
        timespec zero = default;
        int got;
        while (true)
        {
            got = kevent(_kq, _changes.Items, n, _native, n, &zero);
            if (got >= 0)
                break;
            OsError e = DarwinErrno.Last();
            if (e.Kind == ErrorKind.Interrupted)
                continue;   // safe to resend: every change we queue is idempotent (ENOENT of a repeated delete is ignored)
            // -1 with room for every reply means the call failed as a whole (bad kqueue, fault): nothing was applied.
            _changes.RequestReceipts(false);
            return e;
        }

        _changes.Clear();
        for (int i = 0; i < got; i++)
        {
            // reason: i < got <= n <= _nativeCapacity
            ref kevent ev = ref _native[i];
            if ((ev.flags & EV_ERROR) != 0 && ev.data != 0)
                RecordFailure(ref ev, forgetFd);
        }

        return Result.Success;
    }

    /// <summary>Notes a refused change (an EV_ERROR reply whose data is the errno) for the next wait to report.</summary>
    private void RecordFailure(ref kevent ev, int forgetFd)
    {
        int errno = (int)ev.data;
        // ENOENT: a delete or disable found no knote (the kernel drops knotes when a descriptor closes): already so.
        if (errno == ENOENT || ev.filter == EVFILT_USER)
            return;
        int fd = (int)ev.ident;
        if (fd == forgetFd || _registrations.Get(fd) is null)
            return;
        ref KqueueEntry e = ref _entries[fd];
        bool read = ev.filter == EVFILT_READ;
        e.Filters &= (byte)~(read ? KqueueEntry.ReadFilter : KqueueEntry.WriteFilter);
        e.ChangeError = DarwinErrno.ToError(errno);
        // The direction as well as Error, so that a caller watching only Readable/Writable still tries the call and
        // meets the real error (e.g. EPIPE from EVFILT_WRITE on a pipe whose reader is gone).
        e.FailureReadiness |= Readiness.Error | (read ? Readiness.Readable : Readiness.Writable);
        if (!e.FailurePending)
        {
            e.FailurePending = true;
            _failures++;
        }
    }

    private void ClearFailure(ref KqueueEntry e)
    {
        if (e.FailurePending)
            _failures--;
        e.FailurePending = false;
        e.FailureReadiness = Readiness.None;
        e.ChangeError = default;
    }

    private int TakeFailures(Span<PollEvent> events)
    {
        int k = 0;
        for (int fd = 0; fd < _entries.Length && _failures > 0 && k < events.Length; fd++)
        {
            ref KqueueEntry e = ref _entries[fd];
            if (!e.FailurePending)
                continue;
            events[k++] = new PollEvent(e.Token, e.FailureReadiness);
            e.FailurePending = false;
            e.FailureReadiness = Readiness.None;
            _failures--;
        }

        return k;
    }

    // ---------------------------------------------------------------- events

    /// <summary>Turns <paramref name="n"/> native entries into events: one per descriptor (its read and write knotes
    /// merged), refusals recorded, the waker's trigger swallowed.</summary>
    // reason: _native is owned by this poller until Dispose, and i < n <= events.Length <= _nativeCapacity
    private unsafe int Collect(Span<PollEvent> events, int n)
    {
        if (++_stamp == 0)
        {
            Array.Clear(_batchStamp);
            _stamp = 1;
        }

        int k = 0;
        bool writeClosed = false;
        for (int i = 0; i < n; i++)
        {
            ref kevent ev = ref _native[i];
            if ((ev.flags & EV_ERROR) != 0)
            {
                // xnu ORs EV_ERROR into the echoed change's flags, FreeBSD replaces them: test the bit, never equality.
                if (ev.data != 0)
                    RecordFailure(ref ev, -1);
                continue;
            }

            if (ev.filter == EVFILT_USER)
            {
                Volatile.Write(ref _wakePending, 0);
                continue;
            }

            int fd = (int)ev.ident;
            Readiness r = Map(ref ev);
            writeClosed |= (r & WriteClosed) != 0;
            if ((uint)fd < (uint)_batchStamp.Length && _batchStamp[fd] == _stamp)
            {
                int slot = _batchSlot[fd];
                events[slot] = new PollEvent(events[slot].Token, events[slot].Readiness | r);
                continue;
            }

            if ((uint)fd < (uint)_batchStamp.Length)
            {
                _batchStamp[fd] = _stamp;
                _batchSlot[fd] = k;
                if ((_entries[fd].Mode & TriggerMode.Oneshot) != 0)
                    DisableSibling(fd, ev.filter);
            }

            events[k++] = new PollEvent((ulong)ev.udata, r);
        }

        if (writeClosed)
        {
            for (int j = 0; j < k; j++)
            {
                Readiness r = events[j].Readiness;
                if ((r & WriteClosed) == 0)
                    continue;
                r &= ~WriteClosed;
                if ((r & Readiness.ReadClosed) != 0)
                    r |= Readiness.Closed;
                events[j] = new PollEvent(events[j].Token, r);
            }
        }

        return k;
    }

    /// <summary>EV_DISPATCH disabled the knote that fired; its sibling is disabled in the next call so that the
    /// registration as a whole reports once, as EPOLLONESHOT does.</summary>
    private void DisableSibling(int fd, short fired)
    {
        ref KqueueEntry e = ref _entries[fd];
        if (fired == EVFILT_READ && (e.Filters & KqueueEntry.WriteFilter) != 0)
            _changes.Add(fd, EVFILT_WRITE, EV_DISABLE, e.Token);
        else if (fired == EVFILT_WRITE && (e.Filters & KqueueEntry.ReadFilter) != 0)
            _changes.Add(fd, EVFILT_READ, EV_DISABLE, e.Token);
    }

    private static Readiness Map(ref kevent ev)
    {
        bool eof = (ev.flags & EV_EOF) != 0;
        Readiness r = Readiness.None;
        if (ev.filter == EVFILT_READ)
            r = Readiness.Readable | (eof ? Readiness.ReadClosed : Readiness.None);
        else if (ev.filter == EVFILT_WRITE)
            r = Readiness.Writable | (eof ? WriteClosed : Readiness.None);
        // With EV_EOF, fflags carries the socket's pending error (so_error), e.g. ECONNREFUSED after a failed connect.
        if (eof && ev.fflags != 0)
            r |= Readiness.Error;
        return r;
    }

    // ---------------------------------------------------------------- buffers

    private void EnsureFd(int fd)
    {
        if (fd < _entries.Length)
            return;
        int size = Math.Max(fd + 1, _entries.Length * 2);
        Array.Resize(ref _entries, size);
        Array.Resize(ref _batchSlot, size);
        Array.Resize(ref _batchStamp, size);
    }

    // reason: the buffer is owned by this poller, freed in Dispose, and only touched by the thread that waits
    private unsafe void EnsureNative(int capacity)
    {
        if (capacity <= _nativeCapacity)
            return;
        _native = (kevent*)NativeMemory.Realloc(_native, (nuint)(capacity * sizeof(kevent)));
        _nativeCapacity = capacity;
    }
}
