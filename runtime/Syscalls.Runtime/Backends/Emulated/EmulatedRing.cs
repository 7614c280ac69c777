using System;
using System.Runtime.InteropServices;
using Syscalls.Runtime.Backends.Common;
using Syscalls.Runtime.Backends.IoUring;

namespace Syscalls.Runtime.Backends.Emulated;

/// <summary>The <see cref="IRing"/> contract on a readiness poller with non-blocking calls, for hosts without io_uring:
/// each submitted operation is tried at once; one that would block waits in its descriptor's FIFO until the poller
/// reports the descriptor ready, then is retried. Multishot accept and receive, buffer groups, cancel, timeouts (a
/// deadline heap that bounds the poller's wait) and close behave as on io_uring, with the same flags and errors.</summary>
/// <remarks>Level-triggered registrations, one per descriptor with waiters, interest = what its waiters need; one
/// transfer per waiter and readiness event keeps descriptors fair. Steady state allocates nothing.</remarks>
internal sealed partial class EmulatedRing : IRing
{
    private const byte WaitNone = 0, WaitRead = 1, WaitWrite = 2, WaitTimer = 3, WaitSubmit = 4;

    private readonly IPoller _poller;
    private readonly InFlightTable _ops;
    private readonly int _entries;
    private readonly PollEvent[] _events = new PollEvent[256];
    private EmuOp[] _emu;
    private FdWaiters[] _fds = [];
    private int[] _submissions;
    private int _submissionCount;
    private RingCompletion[] _cq = new RingCompletion[256];
    private int _cqHead;
    private int _cqCount;
    private Group[] _groups = [];
    private readonly TimerHeap _timers = new();
    private KernelRoot _root;   // as the kernel rings: a dropped ring leaks, its buffers never reach another owner
    private bool _disposed;

    private EmulatedRing(IPoller poller, int entries)
    {
        _poller = poller;
        _entries = entries;
        _ops = new InFlightTable(entries * 2);
        _emu = new EmuOp[_ops.Capacity];
        _submissions = new int[entries];
        _root.Hold(this);
    }

    public string Name => "emulated(" + _poller.Name + ")";

    public RingFeatures Features => RingFeatures.MultishotAccept | RingFeatures.MultishotRecv | RingFeatures.ProvidedBuffers;

    public int SubmissionSpace => _entries - _submissionCount;

    internal static IRing Create(RingOptions options, IPoller poller) => new EmulatedRing(poller, Math.Clamp(options.Entries, 2, 32768));

    /// <summary>Read and Write (pread/pwrite at an offset, or the current position) are emulated on Linux only;
    /// elsewhere the ring is for sockets: Recv/Send, ReceiveFrom/SendTo.</summary>
    public bool Supports(RingOpcode opcode)
        => opcode <= RingOpcode.SendTo && (OperatingSystem.IsLinux() || opcode is not (RingOpcode.Read or RingOpcode.Write));

    public Result Enqueue(in RingOperation operation)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!Supports(operation.Opcode))
            return OsError.FromKind(ErrorKind.NotSupported);
        if (_submissionCount == _entries)
            return OsError.FromKind(ErrorKind.WouldBlock);
        if (operation.Opcode == RingOpcode.RecvMultishot && FindGroup(operation.BufferGroup) < 0)
            return OsError.FromKind(ErrorKind.InvalidArgument);
        Result<int> added = _ops.Add(operation);
        if (!added.TryGetValue(out int index))
            return added.Error;
        if (_emu.Length < _ops.Capacity)
            Array.Resize(ref _emu, _ops.Capacity);
        ref EmuOp e = ref _emu[index];
        e = default;
        e.Next = -1;
        e.Wait = WaitSubmit;
        e.Offset = operation.Buffer.Offset;
        e.Length = operation.Buffer.Length;
        e.FileOffset = operation.Offset;
        e.Endpoint = operation.Endpoint;
        e.Delay = operation.Timeout;
        e.Target = operation.Target;
        if (operation.Opcode == RingOpcode.Close)
            operation.Handle!.SetHandleAsInvalid();   // as on io_uring: the ring owns the descriptor from now on
        _submissions[_submissionCount++] = index;
        return Result.Success;
    }

    public Result<int> Submit()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int n = _submissionCount;
        // Operations queue in order; Start may complete some at once and never enqueues, so the array is stable.
        for (int i = 0; i < n; i++)
            Start(_submissions[i]);
        _submissionCount = 0;
        return n;
    }

    public int Harvest(Span<RingCompletion> completions)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_cqCount == 0)
            Poll(0);
        return Drain(completions);
    }

    public Result<int> SubmitAndWait(Span<RingCompletion> completions, int timeoutMilliseconds)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Submit();
        Result r = Poll(_cqCount > 0 ? 0 : timeoutMilliseconds);
        if (!r.IsSuccess)
            return r.Error;
        return Drain(completions);
    }

    public Result RegisterBufferGroup(ushort groupId, RingBufferPool pool)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(pool);
        if (FindGroup(groupId) >= 0)
            return OsError.FromKind(ErrorKind.AlreadyExists);
        var g = new Group { Id = groupId, Pool = pool, Free = new int[pool.BufferCount] };
        while (pool.TryRent(out int id))
        {
            pool.MarkProvided(id, true);
            g.Free[g.Count++] = id;
        }

        Array.Resize(ref _groups, _groups.Length + 1);
        _groups[^1] = g;
        return Result.Success;
    }

    public void ReturnBuffer(ushort groupId, int bufferId)
    {
        int g = FindGroup(groupId);
        if (g < 0)
            throw new ArgumentException($"Buffer group {groupId} is not registered.", nameof(groupId));
        ref Group group = ref _groups[g];
        group.Pool.MarkProvided(bufferId, true);
        group.Free[group.Count++] = bufferId;   // LIFO: the warmest buffer goes out next
    }

    public void Wake() => _poller.Wake();

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        for (int i = 0; i < _ops.Capacity; i++)
        {
            if (!_ops[i].Active)
                continue;
            // A Close not yet submitted still owns its descriptor, which its handle gave up: close it, or it leaks.
            if (_ops[i].Opcode == RingOpcode.Close && _emu[i].Wait == WaitSubmit)
                SocketCalls.Close(_ops[i].Fd);
            Finish(i, 0, HostErrors.Canceled);
        }

        for (int fd = 0; fd < _fds.Length; fd++)
        {
            if (_fds[fd].Registered is not null)
                Unregister(fd);
        }

        _poller.Dispose();
        _root.Release();
    }

    // ---------------------------------------------------------------- completion queue

    private void Post(in RingCompletion completion)
    {
        if (_cqCount == _cq.Length)
        {
            var bigger = new RingCompletion[_cq.Length * 2];
            for (int i = 0; i < _cqCount; i++)
                bigger[i] = _cq[(_cqHead + i) % _cq.Length];
            _cq = bigger;
            _cqHead = 0;
        }

        _cq[(_cqHead + _cqCount) % _cq.Length] = completion;
        _cqCount++;
    }

    private int Drain(Span<RingCompletion> completions)
    {
        int n = Math.Min(completions.Length, _cqCount);
        for (int i = 0; i < n; i++)
        {
            completions[i] = _cq[_cqHead];
            _cqHead = (_cqHead + 1) % _cq.Length;
        }

        _cqCount -= n;
        return n;
    }

    /// <summary>A completion that keeps the operation going (multishot).</summary>
    private void PostMore(int index, int result, int bufferId)
        => Post(new RingCompletion(_ops[index].UserData, result, default,
            RingCompletionFlags.More | (bufferId >= 0 ? RingCompletionFlags.Buffer : 0), bufferId));

    /// <summary>The final completion: posts it, unlinks the operation from its wait, drops its references.</summary>
    private void Finish(int index, int result, OsError error, int bufferId = -1)
    {
        Unwait(index);
        Post(new RingCompletion(_ops[index].UserData, result, error, bufferId >= 0 ? RingCompletionFlags.Buffer : 0, bufferId));
        _ops.Complete(index);
    }

    /// <summary>The final completion of a ReceiveFrom: the sender, and whether the datagram was cut.</summary>
    private void FinishDatagram(int index, int result, bool truncated, in NetEndpoint source)
    {
        Unwait(index);
        Post(new RingCompletion(_ops[index].UserData, result, default, truncated ? RingCompletionFlags.Truncated : 0, source));
        _ops.Complete(index);
    }

    // ---------------------------------------------------------------- waiting

    /// <summary>Waits for readiness (bounded by the nearest timer), retries the waiters of ready descriptors, fires
    /// expired timers. EINTR counts as an empty wait.</summary>
    private Result Poll(int timeoutMilliseconds)
    {
        long next = _timers.NextDeadline(_ops, _emu);
        if (next != long.MaxValue)
        {
            long until = Math.Max(0, next - Environment.TickCount64);
            if (timeoutMilliseconds < 0 || until < timeoutMilliseconds)
                timeoutMilliseconds = (int)Math.Min(until, int.MaxValue);
        }

        Result<int> waited = _poller.Wait(_events, timeoutMilliseconds);
        if (!waited.TryGetValue(out int n))
            return waited.Error;
        for (int i = 0; i < n; i++)
            OnReady((int)_events[i].Token, _events[i].Readiness);
        FireTimers();
        return Result.Success;
    }

    private void OnReady(int fd, Readiness readiness)
    {
        if ((uint)fd >= (uint)_fds.Length)
            return;
        const Readiness Errorish = Readiness.Closed | Readiness.Error;
        _fds[fd].Reported = readiness;   // what the attempts below were woken by
        if ((readiness & (Readiness.Readable | Readiness.ReadClosed | Errorish)) != 0)
            RetryQueue(fd, write: false);
        if ((readiness & (Readiness.Writable | Errorish)) != 0)
            RetryQueue(fd, write: true);
        UpdateInterest(fd);
    }

    /// <summary>Retries a descriptor's waiters in FIFO order until one must wait again. A multishot waiter that made
    /// progress stays at the head and yields (one transfer per event; level triggering brings it back).</summary>
    private void RetryQueue(int fd, bool write)
    {
        while (true)
        {
            int head = write ? _fds[fd].WriteHead : _fds[fd].ReadHead;
            if (head < 0)
                return;
            if (Attempt(head) != Outcome.Done)
                return;
        }
    }

    /// <summary>Appends an operation to its descriptor's read or write FIFO, registering the descriptor on first use.</summary>
    private void WaitOn(int index, bool write)
    {
        int fd = _ops[index].Fd;
        if (fd >= _fds.Length)
        {
            int old = _fds.Length;
            Array.Resize(ref _fds, Math.Max(fd + 1, old * 2));
            for (int i = old; i < _fds.Length; i++)
                _fds[i] = FdWaiters.Empty;
        }

        ref FdWaiters w = ref _fds[fd];
        if (w.Registered is null)
        {
            // Registered with the interest this waiter needs, so a new wait costs one epoll_ctl, not two.
            Interest first = write ? Interest.Writable : Interest.Readable;
            if (!_poller.Register(_ops[index].Handle!, (ulong)fd, first).IsSuccess)
            {
                Finish(index, 0, OsError.FromKind(ErrorKind.BadDescriptor));
                return;
            }

            w.Registered = _ops[index].Handle;
            w.Interest = first;
        }

        ref EmuOp e = ref _emu[index];
        e.Wait = write ? WaitWrite : WaitRead;
        e.Next = -1;
        ref int head = ref write ? ref w.WriteHead : ref w.ReadHead;
        ref int tail = ref write ? ref w.WriteTail : ref w.ReadTail;
        if (head < 0)
            head = index;
        else
            _emu[tail].Next = index;
        tail = index;
        UpdateInterest(fd);
    }

    /// <summary>Takes an operation out of whatever it waits in (a descriptor FIFO; timers are skipped lazily).</summary>
    private void Unwait(int index)
    {
        ref EmuOp e = ref _emu[index];
        byte wait = e.Wait;
        e.Wait = WaitNone;
        if (wait is not (WaitRead or WaitWrite))
            return;
        int fd = _ops[index].Fd;
        ref FdWaiters w = ref _fds[fd];
        bool write = wait == WaitWrite;
        ref int head = ref write ? ref w.WriteHead : ref w.ReadHead;
        ref int tail = ref write ? ref w.WriteTail : ref w.ReadTail;
        int prev = -1;
        for (int i = head; i >= 0; prev = i, i = _emu[i].Next)
        {
            if (i != index)
                continue;
            if (prev < 0)
                head = e.Next;
            else
                _emu[prev].Next = e.Next;
            if (tail == index)
                tail = prev;
            break;
        }

        UpdateInterest(fd);
    }

    /// <summary>Watches what the descriptor's waiters need; deregisters (dropping the poller's reference on the handle)
    /// when nobody waits, so a closed handle's descriptor is not kept open by the emulation.</summary>
    private void UpdateInterest(int fd)
    {
        ref FdWaiters w = ref _fds[fd];
        if (w.Registered is null)
            return;
        if (w.ReadHead < 0 && w.WriteHead < 0)
        {
            Unregister(fd);
            return;
        }

        Interest want = (w.ReadHead >= 0 ? Interest.Readable : 0) | (w.WriteHead >= 0 ? Interest.Writable : 0);
        if (want != w.Interest && _poller.Modify(w.Registered, (ulong)fd, want).IsSuccess)
            w.Interest = want;
    }

    private void Unregister(int fd)
    {
        _poller.Deregister(_fds[fd].Registered!);
        _fds[fd] = FdWaiters.Empty;
    }

    private void FireTimers()
    {
        long now = Environment.TickCount64;
        while (_timers.TryPopExpired(now, _ops, _emu, out int index))
            Finish(index, 0, HostErrors.TimerExpired);
    }

    private int FindGroup(ushort groupId)
    {
        for (int i = 0; i < _groups.Length; i++)
        {
            if (_groups[i].Id == groupId)
                return i;
        }

        return -1;
    }

    // ---------------------------------------------------------------- state

    private enum Outcome : byte
    {
        Done,      // final completion posted
        Wait,      // queued (or still queued) for readiness
        Progress,  // multishot: a completion posted, the operation goes on
    }

    private struct EmuOp
    {
        public int Next;              // next waiter in the descriptor's FIFO
        public byte Wait;
        public bool Connecting;       // connect started, waiting for writability
        public bool Polled;           // PollReadable: queued for readability, so the next attempt means it came
        public int Offset;
        public int Length;
        public long FileOffset;       // Read/Write: pread/pwrite there; negative: the current position, as io_uring's -1
        public long Deadline;
        public TimeSpan Delay;
        public NetEndpoint Endpoint;
        public UserData Target;
    }

    private struct FdWaiters
    {
        public static readonly FdWaiters Empty = new() { ReadHead = -1, ReadTail = -1, WriteHead = -1, WriteTail = -1 };

        public SafeHandle? Registered;   // the handle the poller holds while anything waits on this descriptor
        public int ReadHead;
        public int ReadTail;
        public int WriteHead;
        public int WriteTail;
        public Interest Interest;
        public Readiness Reported;       // the last readiness event, while its waiters are retried
    }

    private struct Group
    {
        public ushort Id;
        public RingBufferPool Pool;
        public int[] Free;
        public int Count;
    }
}
