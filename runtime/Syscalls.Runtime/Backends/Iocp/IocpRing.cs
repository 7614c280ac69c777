using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Threading;
using Syscalls.Runtime.Backends.Common;
using Syscalls.Runtime.Backends.Windows;
using Syscalls.Windows;
using static Syscalls.Windows.Kernel32;

namespace Syscalls.Runtime.Backends.Iocp;

/// <summary>A completion ring on an I/O completion port: overlapped WSARecv/WSASend, AcceptEx and ConnectEx through
/// the mswsock extension pointers, CancelIoEx, completions dequeued in batches with GetQueuedCompletionStatusEx, and
/// a waker through PostQueuedCompletionStatus.</summary>
/// <remarks>
/// <para>Every operation owns a native <see cref="IocpOperation"/> (its OVERLAPPED) from issue to completion packet,
/// cancellation included; Dispose cancels what is in flight and waits for the packets before freeing anything.</para>
/// <para>Sockets are associated with the port on their first operation and switched to
/// FILE_SKIP_COMPLETION_PORT_ON_SUCCESS: an operation that succeeds at once queues no packet and completes inline
/// (from the next Harvest). An operation that fails at once never queues a packet either.</para>
/// <para>What IOCP lacks is emulated or refused: Timeout is a deadline kept by the ring (the wait is shortened to
/// it); Nop and Close complete inline; Cancel of a queued or timer operation needs no kernel. Multishot accept and
/// receive, provided buffers, Read and Write are not supported (<see cref="Supports"/> says so; Enqueue returns
/// <see cref="ErrorKind.NotSupported"/>): a server re-arms one Accept or Recv per completion instead, and waits for
/// data with PollReadable (a zero-byte WSARecv) so that an idle connection holds no buffer.</para>
/// <para>A socket can belong to one completion port only: a handle already associated elsewhere (for instance a
/// System.Net.Sockets socket that did asynchronous I/O) fails with <see cref="ErrorKind.InvalidArgument"/>.</para>
/// </remarks>
[SupportedOSPlatform("windows")]
internal sealed partial class IocpRing : IRing
{
    private const nuint SocketKey = 1;
    private const nuint WakeKey = 2;
    private const int MaxBatch = 256;
    private const int DisposeDrainMilliseconds = 5000;

    private readonly nint _port;                  // the owning thread's view of the port _waker closes
    private readonly PortWaker _waker;
    private readonly bool _skipOnSuccess;
    private readonly int _queueCapacity;
    private readonly int[] _queue;
    private int _queued;
    private Op[] _ops = new Op[64];
    private readonly Stack<int> _freeSlots = new();
    private int _slotCount;
    private readonly Dictionary<ulong, int> _byUserData = new();
    private readonly ConditionalWeakTable<SafeHandle, HandleState> _handles = new();
    private readonly PriorityQueue<(int Slot, uint Generation), long> _timers = new();
    private RingCompletion[] _ready = new RingCompletion[64];
    private int _readyHead;
    private int _readyCount;
    // reason: MaxBatch entries the kernel fills on dequeue; allocated in the constructor, freed at the end of Dispose
    private readonly unsafe OVERLAPPED_ENTRY* _entries;
    private int _inFlight;
    private bool _wokenUnseen;
    private KernelRoot _root;                     // alive until Dispose drains, whatever the user drops
    private int _disposed;

    private IocpRing(nint port, RingOptions options, bool skipOnSuccess)
    {
        _port = port;
        _waker = new PortWaker(port, WakeKey);
        _skipOnSuccess = skipOnSuccess;
        _queueCapacity = Math.Max(1, options.Entries);
        _queue = new int[_queueCapacity];
        // reason: a fresh native block of MaxBatch entries, owned by this ring and freed in Dispose
        unsafe
        {
            _entries = (OVERLAPPED_ENTRY*)NativeMemory.AllocZeroed(MaxBatch, (nuint)sizeof(OVERLAPPED_ENTRY));
        }

        _root.Hold(this);
    }

    /// <summary>Operations that succeeded at once and completed without a packet (FILE_SKIP_COMPLETION_PORT_ON_SUCCESS).</summary>
    internal long InlineCompletions { get; private set; }

    /// <summary>Completion packets dequeued for operations.</summary>
    internal long PacketCompletions { get; private set; }

    /// <summary>The most entries one GetQueuedCompletionStatusEx call returned.</summary>
    internal int LargestBatch { get; private set; }

    /// <summary>GetQueuedCompletionStatusEx calls that were allowed to block (a timeout other than 0).</summary>
    internal long BlockingWaits { get; private set; }

    /// <summary>The remote address of the last accepted connection, from GetAcceptExSockaddrs.</summary>
    internal NetEndpoint LastAcceptedRemote { get; private set; }

    public string Name => "iocp";

    public RingFeatures Features => RingFeatures.KernelCompletion;

    public int SubmissionSpace => _queueCapacity - _queued;

    /// <summary>Creates a port and loads the extension functions. <paramref name="skipCompletionPortOnSuccess"/> is
    /// for tests of the other path (every operation then completes through a packet).</summary>
    internal static Result<IocpRing> TryCreate(RingOptions? options = null, bool skipCompletionPortOnSuccess = true)
    {
        options ??= new RingOptions();
        const RingFeatures Unsupported = RingFeatures.MultishotAccept | RingFeatures.MultishotRecv | RingFeatures.ProvidedBuffers;
        if ((options.RequiredFeatures & Unsupported) != 0)
            return OsError.FromKind(ErrorKind.NotSupported);
        Result started = Winsock.EnsureStarted();
        if (!started.IsSuccess)
            return started.Error;
        Result loaded = Mswsock.Load();
        if (!loaded.IsSuccess)
            return loaded.Error;
        // One thread drives the ring, so one thread may run at a time.
        nint port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, 0, 0, 1);
        if (port == 0)
            return WinError.Last();
        return new IocpRing(port, options, skipCompletionPortOnSuccess);
    }

    /// <summary>What the selector needs to decide: port creation and the extension functions, plus the features
    /// <paramref name="options"/> asks for. One line each; never throws.</summary>
    internal static IReadOnlyList<BackendProbe> Probe(RingOptions options, BackendKind kind)
    {
        var probes = new List<BackendProbe>();
        try
        {
            Result<IocpRing> ring = TryCreate(new RingOptions { Entries = 8 });
            probes.Add(new BackendProbe(kind, "setup", ring.IsSuccess, ring.Error, "CreateIoCompletionPort, AcceptEx, ConnectEx"));
            if (ring.TryGetValue(out IocpRing? r))
                r.Dispose();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            probes.Add(new BackendProbe(kind, "setup", false, OsError.FromKind(ErrorKind.NotSupported), e.Message));
        }

        if ((options.RequiredFeatures & RingFeatures.MultishotAccept) != 0)
            probes.Add(new BackendProbe(kind, "multishot-accept", false, OsError.FromKind(ErrorKind.NotSupported), "IOCP has one AcceptEx per completion"));
        if ((options.RequiredFeatures & RingFeatures.MultishotRecv) != 0)
            probes.Add(new BackendProbe(kind, "multishot-recv", false, OsError.FromKind(ErrorKind.NotSupported), "IOCP has one WSARecv per completion"));
        if ((options.RequiredFeatures & RingFeatures.ProvidedBuffers) != 0)
            probes.Add(new BackendProbe(kind, "provided-buffers", false, OsError.FromKind(ErrorKind.NotSupported), "no buffer groups on IOCP"));
        return probes;
    }

    public bool Supports(RingOpcode opcode) => opcode is RingOpcode.Nop or RingOpcode.Accept or RingOpcode.Connect
        or RingOpcode.Recv or RingOpcode.Send or RingOpcode.Close or RingOpcode.Timeout or RingOpcode.Cancel
        or RingOpcode.PollReadable or RingOpcode.ReceiveFrom or RingOpcode.SendTo;

    public Result Enqueue(in RingOperation operation)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (!Supports(operation.Opcode))
            return OsError.FromKind(ErrorKind.NotSupported);
        if (_queued == _queueCapacity)
            return OsError.FromKind(ErrorKind.WouldBlock);
        bool hasBuffer = operation.Opcode is RingOpcode.Recv or RingOpcode.Send or RingOpcode.ReceiveFrom or RingOpcode.SendTo;
        if (hasBuffer)
            operation.Buffer.Pool!.MarkInFlight(operation.Buffer.BufferId);   // throws unless rented: nothing to undo yet
        nuint socket = 0;
        if (operation.Handle is { } handle)
        {
            if (!HandleRefs.TryAddRef(handle))
            {
                if (hasBuffer)
                    operation.Buffer.Pool!.MarkCompleted(operation.Buffer.BufferId);
                return OsError.FromKind(ErrorKind.BadDescriptor);
            }

            socket = (nuint)handle.DangerousGetHandle();
        }

        int slot = AllocateSlot();
        ref Op op = ref _ops[slot];
        op.Phase = IocpPhase.Queued;
        op.Opcode = operation.Opcode;
        op.UserData = operation.UserData;
        op.Handle = operation.Handle;
        op.Socket = socket;
        op.HasBuffer = hasBuffer;
        op.Buffer = operation.Buffer;
        op.Endpoint = operation.Endpoint;
        op.Target = operation.Target;
        op.Timeout = operation.Timeout;
        op.CancelRequested = false;
        if (operation.Opcode == RingOpcode.Close)
            operation.Handle!.SetHandleAsInvalid();   // as on io_uring: the ring owns the socket from now on
        _byUserData[operation.UserData.Value] = slot;
        _queue[_queued++] = slot;
        return Result.Success;
    }

    public Result<int> Submit()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        int n = _queued;
        _queued = 0;
        // Issue in order: a Cancel queued after its target finds the target already issued.
        for (int i = 0; i < n; i++)
            Issue(_queue[i]);
        return n;
    }

    public int Harvest(Span<RingCompletion> completions)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        ExpireTimers();
        int k = TakeReady(completions);
        if (k < completions.Length && _inFlight > 0)
        {
            k += Dequeue(completions[k..], 0, out bool woken);
            // The wake packet is gone from the port now: remember it, or the next SubmitAndWait would block through
            // the wake it was meant to end (the lost wake-up that hung RingServer.Stop).
            _wokenUnseen |= woken;
        }

        return k;
    }

    public Result<int> SubmitAndWait(Span<RingCompletion> completions, int timeoutMilliseconds)
    {
        Submit();
        int k = Harvest(completions);
        bool wokenBefore = _wokenUnseen;
        _wokenUnseen = false;
        if (k > 0 || wokenBefore || completions.IsEmpty || timeoutMilliseconds == 0)
            return k;
        long start = Environment.TickCount64;
        while (true)
        {
            int wait = timeoutMilliseconds < 0 ? -1 : (int)Math.Max(0, timeoutMilliseconds - (Environment.TickCount64 - start));
            int timer = MillisecondsToNextTimer();
            if (timer >= 0 && (wait < 0 || timer < wait))
                wait = timer;
            k = Dequeue(completions, wait, out bool woken);
            if (!_lastWaitError.IsNone)
            {
                OsError e = _lastWaitError;
                _lastWaitError = default;
                return e;
            }

            ExpireTimers();
            k += TakeReady(completions[k..]);
            if (k > 0 || woken)
                return k;
            if (timeoutMilliseconds >= 0 && Environment.TickCount64 - start >= timeoutMilliseconds)
                return 0;
        }
    }

    public Result RegisterBufferGroup(ushort groupId, RingBufferPool pool) => OsError.FromKind(ErrorKind.NotSupported);

    public void ReturnBuffer(ushort groupId, int bufferId)
        => throw new InvalidOperationException("The IOCP ring has no buffer groups, so it never lends buffers.");

    public void Wake() => _waker.Wake();

    // reason: Kernel-phase blocks stay allocated until their packet is dequeued below; blocks and _entries are freed only after the drain
    public unsafe void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        for (int i = 0; i < _queued; i++)
        {
            // A Close not yet issued still owns its socket, which its handle gave up: close it, or it leaks.
            if (_ops[_queue[i]].Opcode == RingOpcode.Close)
                Winsock.Close(_ops[_queue[i]].Socket);
            Release(_queue[i]);
        }
        _queued = 0;
        for (int slot = 0; slot < _slotCount; slot++)
        {
            ref Op op = ref _ops[slot];
            if (op.Phase == IocpPhase.Timer)
                Release(slot);
            else if (op.Phase == IocpPhase.Kernel)
                CancelIoEx((nint)op.Socket, &op.Block->Overlapped);
        }

        // The kernel owns every in-flight OVERLAPPED until its packet: wait for them before freeing anything.
        long deadline = Environment.TickCount64 + DisposeDrainMilliseconds;
        while (_inFlight > 0 && Environment.TickCount64 < deadline)
        {
            uint n = 0;
            if (GetQueuedCompletionStatusEx(_port, _entries, MaxBatch, &n, 100, 0) == 0)
                continue;
            for (int i = 0; i < (int)n; i++)
            {
                if (_entries[i].lpOverlapped is null)
                    continue;
                int slot = ((IocpOperation*)_entries[i].lpOverlapped)->Slot;
                _inFlight--;
                if (_ops[slot].Opcode == RingOpcode.Accept && _ops[slot].AcceptSocket != 0)
                    Winsock.Close(_ops[slot].AcceptSocket);
                Release(slot);
            }
        }

        bool drained = _inFlight == 0;
        if (drained)
        {
            for (int slot = 0; slot < _slotCount; slot++)
                NativeMemory.Free(_ops[slot].Block);
        }
        // else: a packet never came (it cannot on a working kernel); leaking the blocks beats freeing memory the
        // kernel may still write.
        NativeMemory.Free(_entries);
        _waker.Dispose();   // closes the port, now or when the last Wake under way is done
        if (drained)
            _root.Release();   // else leaked, with the buffers the kernel may still write
    }

    // ---------------------------------------------------------------- completions

    private OsError _lastWaitError;

    /// <summary>Dequeues up to <c>completions.Length</c> packets (one GetQueuedCompletionStatusEx call) and turns
    /// those of operations into completions; wake packets only set <paramref name="woken"/>.</summary>
    // reason: _entries (MaxBatch entries) is owned by this ring until Dispose; each lpOverlapped is the first field of a live slot block
    private unsafe int Dequeue(Span<RingCompletion> completions, int timeoutMilliseconds, out bool woken)
    {
        woken = false;
        if (completions.IsEmpty)
            return 0;
        uint max = (uint)Math.Min(completions.Length, MaxBatch), n = 0;
        uint wait = timeoutMilliseconds < 0 ? INFINITE : (uint)timeoutMilliseconds;
        if (wait != 0)
            BlockingWaits++;
        if (GetQueuedCompletionStatusEx(_port, _entries, max, &n, wait, 0) == 0)
        {
            OsError e = WinError.Last();
            if (e.Kind != ErrorKind.TimedOut)
                _lastWaitError = e;
            return 0;
        }

        if ((int)n > LargestBatch)
            LargestBatch = (int)n;
        for (int i = 0; i < (int)n; i++)
        {
            ref OVERLAPPED_ENTRY entry = ref _entries[i];
            if (entry.lpOverlapped is null)
            {
                if (entry.lpCompletionKey == WakeKey)
                {
                    _waker.Dequeued();
                    woken = true;
                }

                continue;
            }

            int slot = ((IocpOperation*)entry.lpOverlapped)->Slot;
            Debug.Assert(_ops[slot].Phase == IocpPhase.Kernel);
            _inFlight--;
            PacketCompletions++;
            // Internal is the NTSTATUS of the operation; WSAGetOverlappedResult turns a failure into its WSA error.
            OsError error = entry.Internal == 0 ? default : OverlappedError(slot);
            Finish(slot, (int)entry.dwNumberOfBytesTransferred, error);
        }

        return TakeReady(completions);
    }

    private int TakeReady(Span<RingCompletion> completions)
    {
        int k = 0;
        while (k < completions.Length && _readyCount > 0)
        {
            completions[k++] = _ready[_readyHead];
            _readyHead = (_readyHead + 1) % _ready.Length;
            _readyCount--;
        }

        return k;
    }

    /// <summary>Queues the final completion of <paramref name="slot"/> and frees the slot.</summary>
    private void Complete(int slot, int result, OsError error, RingCompletionFlags flags = RingCompletionFlags.None, NetEndpoint source = default)
    {
        if (_readyCount == _ready.Length)
        {
            var grown = new RingCompletion[_ready.Length * 2];
            for (int i = 0; i < _readyCount; i++)
                grown[i] = _ready[(_readyHead + i) % _ready.Length];
            _ready = grown;
            _readyHead = 0;
        }

        _ready[(_readyHead + _readyCount++) % _ready.Length] =
            new RingCompletion(_ops[slot].UserData, error.IsNone ? result : 0, error, flags, source);
        Release(slot);
    }

    /// <summary>Drops the slot's references (descriptor, buffer, user-data index) and frees it.</summary>
    private void Release(int slot)
    {
        ref Op op = ref _ops[slot];
        if (op.Handle is not null)
            op.Handle.DangerousRelease();
        if (op.HasBuffer)
            op.Buffer.Pool!.MarkCompleted(op.Buffer.BufferId);
        if (_byUserData.TryGetValue(op.UserData.Value, out int mapped) && mapped == slot)
            _byUserData.Remove(op.UserData.Value);
        op.Handle = null;
        op.HasBuffer = false;
        op.Buffer = default;
        op.AcceptSocket = 0;
        op.Phase = IocpPhase.Free;
        op.Generation++;
        _freeSlots.Push(slot);
    }

    private int AllocateSlot()
    {
        if (_freeSlots.Count > 0)
            return _freeSlots.Pop();
        if (_slotCount == _ops.Length)
            Array.Resize(ref _ops, _ops.Length * 2);
        int slot = _slotCount++;
        // reason: the block is owned by this slot for the ring's lifetime and freed in Dispose after the last packet
        unsafe
        {
            _ops[slot].Block = (IocpOperation*)NativeMemory.AllocZeroed((nuint)sizeof(IocpOperation));
            _ops[slot].Block->Slot = slot;
        }
        return slot;
    }

    // ---------------------------------------------------------------- timers (emulated)

    private void ExpireTimers()
    {
        long now = Environment.TickCount64;
        while (_timers.TryPeek(out (int Slot, uint Generation) t, out long deadline) && deadline <= now)
        {
            _timers.Dequeue();
            ref Op op = ref _ops[t.Slot];
            if (op.Phase == IocpPhase.Timer && op.Generation == t.Generation)
                Complete(t.Slot, 0, HostErrors.TimerExpired);
        }
    }

    private int MillisecondsToNextTimer()
    {
        while (_timers.TryPeek(out (int Slot, uint Generation) t, out long deadline))
        {
            ref Op op = ref _ops[t.Slot];
            if (op.Phase == IocpPhase.Timer && op.Generation == t.Generation)
                return (int)Math.Clamp(deadline - Environment.TickCount64, 0, int.MaxValue);
            _timers.Dequeue();   // canceled: drop it lazily
        }

        return -1;
    }

    /// <summary>What the ring knows of one socket: associated with the port, and whether immediate successes skip it.</summary>
    private sealed class HandleState
    {
        internal bool SkipOnSuccess;
    }

    /// <summary>The managed half of one slot.</summary>
    private struct Op
    {
        // reason: allocated in AllocateSlot; never moves; freed in Dispose only after its last packet
        internal unsafe IocpOperation* Block;
        internal IocpPhase Phase;
        internal RingOpcode Opcode;
        internal bool HasBuffer;
        internal bool CancelRequested;
        internal uint Generation;
        internal UserData UserData;
        internal UserData Target;
        internal SafeHandle? Handle;
        internal nuint Socket;
        internal nuint AcceptSocket;
        internal BufferSlice Buffer;
        internal NetEndpoint Endpoint;
        internal TimeSpan Timeout;
    }
}
