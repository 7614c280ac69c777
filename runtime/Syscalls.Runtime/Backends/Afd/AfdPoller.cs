using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Threading;
using Syscalls.Runtime.Backends.Common;
using Syscalls.Runtime.Backends.Windows;
using Syscalls.Windows;
using static Syscalls.Windows.Kernel32;
using static Syscalls.Windows.Ntdll;
using static Syscalls.Windows.Ws2_32;

namespace Syscalls.Runtime.Backends.Afd;

/// <summary>A readiness poller for Windows on the AFD driver, as wepoll and mio do it: one handle on
/// <c>\Device\Afd</c>, associated with a completion port, takes an IOCTL_AFD_POLL per registered socket; each poll
/// completes through the port when the socket is ready, and the wait dequeues completions in batches, so a wait costs
/// O(ready sockets), not O(registered) as WSAPoll does.</summary>
/// <remarks>
/// <list type="bullet">
/// <item>An AFD poll is oneshot by nature. <see cref="TriggerMode.Level"/> re-submits it before the next wait (it then
/// completes at once while the condition holds); <see cref="TriggerMode.Oneshot"/> leaves it until
/// <see cref="Modify"/>. <see cref="TriggerMode.Edge"/> is refused: AFD reports states, not transitions.</item>
/// <item>A peer's FIN is AFD_POLL_DISCONNECT, reported as <see cref="Readiness.ReadClosed"/> | Readable and only to a
/// registration that asked for Readable, so a half-open socket watched for writability alone does not wake the loop
/// (the sticky POLLHUP of WSAPoll does).</item>
/// <item>A Modify that changes the polled events cancels the pending poll (CancelIoEx) and submits the new one when the
/// cancellation has completed. A Deregister cancels it too; the native block of a registration is freed only when the
/// kernel is done with it (its completion dequeued), never before.</item>
/// <item>The AFD request layout (AFD_POLL_INFO) is in no SDK header; it is declared below as wepoll, mio and ReactOS
/// declare it, and the Wine run of the poller tests exercises it. The NT calls and their structs are generated from
/// winternl.h (family ntdll) and proven like every other binding.</item>
/// </list>
/// </remarks>
[SupportedOSPlatform("windows")]
internal sealed class AfdPoller : IPoller
{
    private const uint IOCTL_AFD_POLL = 0x00012024;
    private const uint AFD_POLL_RECEIVE = 0x0001;
    private const uint AFD_POLL_SEND = 0x0004;
    private const uint AFD_POLL_DISCONNECT = 0x0008;
    private const uint AFD_POLL_ABORT = 0x0010;
    private const uint AFD_POLL_LOCAL_CLOSE = 0x0020;
    private const uint AFD_POLL_ACCEPT = 0x0080;
    private const uint AFD_POLL_CONNECT_FAIL = 0x0100;
    private const uint AlwaysPolled = AFD_POLL_ABORT | AFD_POLL_LOCAL_CLOSE | AFD_POLL_CONNECT_FAIL;
    private const nuint AfdKey = 1, WakeKey = 2;
    private const int MaxBatch = 256;
    private const int DisposeDrainMilliseconds = 2000;

    private readonly nint _port;                  // the owning thread's view of the port _waker closes
    private readonly PortWaker _waker;
    private readonly nint _afd;
    private readonly Dictionary<nuint, int> _bySocket = new();
    // reason: MaxBatch entries owned by this poller, freed in Dispose; only the waiting thread touches them
    private unsafe OVERLAPPED_ENTRY* _entries;
    private Registration[] _slots = new Registration[64];
    private int[] _freeSlots = new int[64];
    private int _freeCount;
    private int _slotCount;
    private int[] _rearm = new int[64];
    private int _rearmCount;
    private int _pending;
    private KernelRoot _root;                     // alive until Dispose drains: the kernel writes the poll blocks
    private int _disposed;

    // reason: the entries are allocated here and owned by this poller until Dispose
    private unsafe AfdPoller(nint port, nint afd)
    {
        _port = port;
        _waker = new PortWaker(port, WakeKey);
        _afd = afd;
        _entries = (OVERLAPPED_ENTRY*)NativeMemory.AllocZeroed((nuint)(MaxBatch * sizeof(OVERLAPPED_ENTRY)));
        _root.Hold(this);
    }

    public string Name => "afd";

    public PollerCapabilities Capabilities
        => PollerCapabilities.Oneshot | PollerCapabilities.ReadClosed | PollerCapabilities.ScalableWait;

    /// <summary>Opens <c>\Device\Afd\Syscalls</c> and a completion port for it.</summary>
    // reason: the name, the attributes and the status block are locals that outlive the synchronous NtCreateFile
    internal static unsafe Result<AfdPoller> TryCreate()
    {
        Result started = Winsock.EnsureStarted();
        if (!started.IsSuccess)
            return started.Error;
        nint port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, 0, 0, 1);
        if (port == 0)
            return WinError.Last();
        nint afd = 0;
        const string Path = @"\Device\Afd\Syscalls";   // any name below \Device\Afd opens the driver
        fixed (char* path = Path)
        {
            ushort bytes = (ushort)(Path.Length * sizeof(char));
            var name = new UNICODE_STRING { Length = bytes, MaximumLength = bytes, Buffer = path };
            var attributes = new OBJECT_ATTRIBUTES { Length = (uint)sizeof(OBJECT_ATTRIBUTES), ObjectName = &name };
            IO_STATUS_BLOCK status = default;
            int st = NtCreateFile(&afd, SYNCHRONIZE, &attributes, &status, null, 0,
                FILE_SHARE_READ | FILE_SHARE_WRITE, FILE_OPEN, 0, null, 0);
            if (st != STATUS_SUCCESS)
            {
                CloseHandle(port);
                return NtError(st);
            }
        }

        if (CreateIoCompletionPort(afd, port, AfdKey, 0) == 0
            || SetFileCompletionNotificationModes(afd, (byte)FILE_SKIP_SET_EVENT_ON_HANDLE) == 0)
        {
            OsError e = WinError.Last();
            CloseHandle(afd);
            CloseHandle(port);
            return e;
        }

        return new AfdPoller(port, afd);
    }

    public Result Register(SafeHandle handle, ulong token, Interest interest, TriggerMode mode = TriggerMode.Level)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if ((mode & TriggerMode.Edge) != 0)
            return OsError.FromKind(ErrorKind.NotSupported);
        Result<nuint> acquired = SocketRegistrations.Acquire(handle, _bySocket);
        if (!acquired.TryGetValue(out nuint s))
            return acquired.Error;

        Result<nuint> baseSocket = BaseSocket(s);
        if (!baseSocket.TryGetValue(out nuint b))
        {
            handle.DangerousRelease();
            return baseSocket.Error;
        }

        int slot = AllocateSlot();
        ref Registration r = ref _slots[slot];
        r.Handle = handle;
        r.Socket = s;
        r.Base = b;
        r.Token = token;
        r.Interest = interest;
        r.Oneshot = (mode & TriggerMode.Oneshot) != 0;
        Result submitted = Submit(slot);
        if (!submitted.IsSuccess)
        {
            r.Handle = null;
            FreeSlot(slot);
            handle.DangerousRelease();
            return submitted;
        }

        _bySocket[s] = slot;
        return Result.Success;
    }

    // reason: the registration's block is live (allocated with its slot) and its poll is the one CancelIoEx names
    public unsafe Result Modify(SafeHandle handle, ulong token, Interest interest, TriggerMode mode = TriggerMode.Level)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if ((mode & TriggerMode.Edge) != 0)
            return OsError.FromKind(ErrorKind.NotSupported);
        if (!TryFind(handle, out int slot))
            return OsError.FromKind(ErrorKind.NotFound);
        ref Registration r = ref _slots[slot];
        r.Token = token;
        r.Interest = interest;
        r.Oneshot = (mode & TriggerMode.Oneshot) != 0;
        r.Disarmed = false;
        if (!r.Pending)
            return Submit(slot);
        if (r.PendingEvents != Events(interest))
        {
            // The pending poll asks for other events: cancel it; its completion re-submits with these.
            CancelIoEx(_afd, (OVERLAPPED*)&r.Block->Status);
        }

        return Result.Success;
    }

    // reason: the registration's block stays allocated until its pending poll's completion is dequeued
    public unsafe Result Deregister(SafeHandle handle)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (!TryFind(handle, out int slot))
            return OsError.FromKind(ErrorKind.NotFound);
        ref Registration r = ref _slots[slot];
        _bySocket.Remove(r.Socket);
        SafeHandle h = r.Handle!;
        r.Handle = null;
        if (r.Pending)
            CancelIoEx(_afd, (OVERLAPPED*)&r.Block->Status);   // the slot is freed when the cancellation completes
        else
            FreeSlot(slot);
        h.DangerousRelease();
        return Result.Success;
    }

    // reason: _entries is owned by this poller; each lpOverlapped is the status block heading a live registration block
    public unsafe Result<int> Wait(Span<PollEvent> events, int timeoutMilliseconds)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (events.Length == 0)
            return 0;
        long deadline = timeoutMilliseconds < 0 ? long.MaxValue : Environment.TickCount64 + timeoutMilliseconds;
        while (true)
        {
            SubmitRearms();
            long left = deadline == long.MaxValue ? -1 : Math.Max(0, deadline - Environment.TickCount64);
            uint n = 0, max = (uint)Math.Min(events.Length, MaxBatch);
            if (GetQueuedCompletionStatusEx(_port, _entries, max, &n, left < 0 ? INFINITE : (uint)left, 0) == 0)
            {
                OsError e = WinError.Last();
                return e.Kind is ErrorKind.TimedOut or ErrorKind.Interrupted ? 0 : e;
            }

            int k = 0;
            bool woken = false;
            for (int i = 0; i < (int)n; i++)
            {
                ref OVERLAPPED_ENTRY entry = ref _entries[i];
                if (entry.lpCompletionKey == WakeKey)
                {
                    _waker.Dequeued();
                    woken = true;
                    continue;
                }

                Readiness ready = Completed(((PollBlock*)entry.lpOverlapped)->Slot, out ulong token);
                if (ready != Readiness.None)
                    events[k++] = new PollEvent(token, ready);
            }

            // Completions that report nothing (a cancellation, a state nobody asked for) are not a wake-up: wait on.
            if (k > 0 || woken || left == 0)
                return k;
        }
    }

    public void Wake() => _waker.Wake();

    // reason: pending polls are canceled and their completions drained before any block is freed
    public unsafe void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        for (int slot = 0; slot < _slotCount; slot++)
        {
            ref Registration r = ref _slots[slot];
            if (r.Pending)
                CancelIoEx(_afd, (OVERLAPPED*)&r.Block->Status);
            r.Handle?.DangerousRelease();
            r.Handle = null;
        }

        // The kernel owns every pending poll's block until its completion: wait for them before freeing anything.
        long deadline = Environment.TickCount64 + DisposeDrainMilliseconds;
        while (_pending > 0 && Environment.TickCount64 < deadline)
        {
            uint n = 0;
            if (GetQueuedCompletionStatusEx(_port, _entries, MaxBatch, &n, 100, 0) == 0)
                continue;
            for (int i = 0; i < (int)n; i++)
            {
                if (_entries[i].lpCompletionKey == AfdKey)
                {
                    _slots[((PollBlock*)_entries[i].lpOverlapped)->Slot].Pending = false;
                    _pending--;
                }
            }
        }

        if (_pending == 0)
        {
            for (int slot = 0; slot < _slotCount; slot++)
                NativeMemory.Free(_slots[slot].Block);
        }
        // else: a completion never came (it cannot on a working kernel); leaking the blocks beats freeing memory the
        // kernel may still write.
        _bySocket.Clear();
        CloseHandle(_afd);
        _waker.Dispose();   // closes the port, now or when the last Wake under way is done
        NativeMemory.Free(_entries);
        _entries = null;
        if (_pending == 0)
            _root.Release();   // else leaked, with the blocks the kernel may still write
    }

    // ---------------------------------------------------------------- internals

    /// <summary>One poll's completion: what to report (and the token), and what comes next for the slot.</summary>
    // reason: the block is the slot's, and the kernel is done with it: its completion was just dequeued
    private unsafe Readiness Completed(int slot, out ulong token)
    {
        ref Registration r = ref _slots[slot];
        token = r.Token;
        r.Pending = false;
        _pending--;
        if (r.Handle is null)
        {
            FreeSlot(slot);   // deregistered while the poll was pending
            return Readiness.None;
        }

        PollBlock* block = r.Block;
        int status = block->Status.Status;
        Readiness ready = Readiness.None;
        if (status == STATUS_CANCELLED)
        {
            // Canceled by Modify: submitted again below with the new events.
        }
        else if (status < 0)
        {
            ready = Readiness.Error;
        }
        else if (block->Info.NumberOfHandles > 0)
        {
            uint e = block->Info.Handle.Events;
            if ((e & AFD_POLL_LOCAL_CLOSE) != 0)
            {
                // The socket was closed under its registration: nothing more can come from it. The registration stays
                // until Deregister (which then finds no poll pending), as epoll drops a closed descriptor silently.
                r.Disarmed = true;
                return Readiness.None;
            }

            ready = Map(e) & Wanted(r.Interest);
        }

        if (ready != Readiness.None && r.Oneshot)
            r.Disarmed = true;
        else
            QueueRearm(slot);
        return ready;
    }

    /// <summary>Submits the polls of level-triggered registrations reported (or canceled) since the last wait: each
    /// completes at once while its condition still holds.</summary>
    private void SubmitRearms()
    {
        int n = _rearmCount;
        _rearmCount = 0;
        for (int i = 0; i < n; i++)
        {
            int slot = _rearm[i];
            ref Registration r = ref _slots[slot];
            r.Queued = false;
            if (r.Handle is null || r.Pending || r.Disarmed)
                continue;
            Result submitted = Submit(slot);
            if (!submitted.IsSuccess)
                BackendSelector.Emit(null, $"afd: poll of socket {r.Socket} not re-armed: {submitted.Error}");
        }
    }

    private void QueueRearm(int slot)
    {
        if (_slots[slot].Queued)
            return;
        _slots[slot].Queued = true;
        if (_rearmCount == _rearm.Length)
            Array.Resize(ref _rearm, _rearm.Length * 2);
        _rearm[_rearmCount++] = slot;
    }

    /// <summary>Issues IOCTL_AFD_POLL for the slot's socket; its completion always comes through the port.</summary>
    // reason: the block is the slot's native memory; it stays allocated until this poll's completion is dequeued
    private unsafe Result Submit(int slot)
    {
        ref Registration r = ref _slots[slot];
        PollBlock* block = r.Block;
        uint events = Events(r.Interest);
        block->Status = default;
        block->Info = new AfdPollInfo
        {
            Timeout = long.MaxValue,
            NumberOfHandles = 1,
            Exclusive = 0,
            Handle = new AfdPollHandleInfo { Handle = (nint)r.Base, Events = events, Status = 0 },
        };
        int st = NtDeviceIoControlFile(_afd, 0, null, &block->Status, &block->Status, IOCTL_AFD_POLL,
            &block->Info, (uint)sizeof(AfdPollInfo), &block->Info, (uint)sizeof(AfdPollInfo));
        if (st != STATUS_SUCCESS && st != STATUS_PENDING)
            return NtError(st);
        r.Pending = true;
        r.PendingEvents = events;
        _pending++;
        return Result.Success;
    }

    /// <summary>The socket AFD knows (below any layered provider): polls name it, not a provider's handle.</summary>
    // reason: the output and the byte count are stack locals that outlive the synchronous WSAIoctl
    private static unsafe Result<nuint> BaseSocket(nuint s)
    {
        nuint b = 0;
        uint bytes = 0;
        if (WSAIoctl(s, SIO_BASE_HANDLE, null, 0, &b, (uint)sizeof(nuint), &bytes, null, null) == SOCKET_ERROR)
            return WinError.Last();
        return b;
    }

    // reason: a new slot gets a zeroed native block, owned by the slot until the poller is disposed
    private unsafe int AllocateSlot()
    {
        if (_freeCount > 0)
            return _freeSlots[--_freeCount];
        if (_slotCount == _slots.Length)
        {
            Array.Resize(ref _slots, _slots.Length * 2);
            Array.Resize(ref _freeSlots, _slots.Length);
        }

        int slot = _slotCount++;
        _slots[slot].Block = (PollBlock*)NativeMemory.AllocZeroed((nuint)sizeof(PollBlock));
        _slots[slot].Block->Slot = slot;
        return slot;
    }

    // reason: keeps the slot's block for reuse; only its bookkeeping is reset
    private unsafe void FreeSlot(int slot)
    {
        PollBlock* block = _slots[slot].Block;
        _slots[slot] = default;
        _slots[slot].Block = block;
        _freeSlots[_freeCount++] = slot;
    }

    private bool TryFind(SafeHandle handle, out int slot)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return _bySocket.TryGetValue((nuint)handle.DangerousGetHandle(), out slot)
               && ReferenceEquals(_slots[slot].Handle, handle);
    }

    private static uint Events(Interest interest)
    {
        uint e = AlwaysPolled;
        if ((interest & Interest.Readable) != 0)
            e |= AFD_POLL_RECEIVE | AFD_POLL_ACCEPT | AFD_POLL_DISCONNECT;
        if ((interest & Interest.Writable) != 0)
            e |= AFD_POLL_SEND;
        return e;
    }

    /// <summary>What a registration hears about: its directions, and errors and full closes always.</summary>
    private static Readiness Wanted(Interest interest)
        => Readiness.Closed | Readiness.Error
           | ((interest & Interest.Readable) != 0 ? Readiness.Readable | Readiness.ReadClosed : 0)
           | ((interest & Interest.Writable) != 0 ? Readiness.Writable : 0);

    private static Readiness Map(uint e)
    {
        Readiness r = Readiness.None;
        if ((e & (AFD_POLL_RECEIVE | AFD_POLL_ACCEPT)) != 0)
            r |= Readiness.Readable;
        if ((e & AFD_POLL_SEND) != 0)
            r |= Readiness.Writable;
        if ((e & AFD_POLL_DISCONNECT) != 0)
            r |= Readiness.Readable | Readiness.ReadClosed;   // the read meets end of stream
        if ((e & AFD_POLL_ABORT) != 0)
            r |= Readiness.Readable | Readiness.Writable | Readiness.Closed | Readiness.Error;
        if ((e & AFD_POLL_CONNECT_FAIL) != 0)
            r |= Readiness.Writable | Readiness.Error;
        return r;
    }

    private static OsError NtError(int status) => WinError.ToError((int)RtlNtStatusToDosError(status));

    private struct Registration
    {
        // reason: native, allocated with the slot and never moved; kept across reuse, freed in Dispose after the drain
        public unsafe PollBlock* Block;
        public SafeHandle? Handle;        // null: free, or deregistered with a poll still pending
        public nuint Socket;
        public nuint Base;
        public ulong Token;
        public Interest Interest;
        public uint PendingEvents;
        public bool Oneshot;
        public bool Pending;              // a poll is in the kernel
        public bool Disarmed;             // oneshot reported (or the socket closed): no poll until Modify
        public bool Queued;               // in the re-arm queue
    }

    // AFD_POLL_HANDLE_INFO and AFD_POLL_INFO (one handle), as the AFD driver reads and writes them on x64.
    [StructLayout(LayoutKind.Sequential)]
    private struct AfdPollHandleInfo
    {
        public nint Handle;
        public uint Events;
        public int Status;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct AfdPollInfo
    {
        public long Timeout;
        public uint NumberOfHandles;
        public uint Exclusive;
        public AfdPollHandleInfo Handle;
    }

    /// <summary>One registration's native memory: the status block (the completion's OVERLAPPED pointer points at
    /// it), the poll request the kernel fills in, and the slot it belongs to.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct PollBlock
    {
        public IO_STATUS_BLOCK Status;
        public AfdPollInfo Info;
        public int Slot;
    }
}
