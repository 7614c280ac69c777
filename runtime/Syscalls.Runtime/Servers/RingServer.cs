using System;
using Syscalls.Runtime.Backends.Common;
using Syscalls.Runtime.Servers.Common;
using Syscalls.Runtime.Sockets;
using static Syscalls.Linux.LibC;

// CA1416: the Linux errno constants are compile-time numbers; using them off Linux reads no native state. The
// emulated ring reports io_uring's (Linux) error numbers on every OS, and they are classified here.
#pragma warning disable CA1416

namespace Syscalls.Runtime.Servers;

/// <summary>The completion-model server over any <see cref="IRing"/> (io_uring or the emulated ring), shaped like the C
/// liburing reference: multishot accept, one multishot receive per connection drawing from one shared provided-buffer
/// group (idle connections hold no buffer), one send in flight per connection with further data queued behind it in
/// order, and one ring enter per loop iteration for all of it.</summary>
/// <remarks>
/// <para>Echo path without copies: data a handler sends straight back from the buffer it was given is sent from that
/// provided buffer, which returns to the group when the send completes. Other data is copied into pooled send
/// buffers. Steady state allocates nothing.</para>
/// <para>A connection closes through the ring (its in-flight receive and send are canceled first); its slot and
/// <see cref="IConnectionHandler.OnClosed"/> wait for the last final completion, so no buffer or descriptor is reused
/// under the kernel. EMFILE/ENFILE in accept pause accepting for a backoff (a ring timeout), never spin.</para>
/// <para>On a ring without multishot operations and buffer groups (IOCP) the server runs single-shot: one Accept
/// re-armed per completion, and per connection a PollReadable (IOCP: a zero-byte WSARecv) that holds no buffer, then
/// a Recv into a buffer rented from the same pool, issued only once data is there (and at once again after a receive
/// that filled its buffer). Idle connections so hold no buffer here either; when the pool runs dry, a connection waits
/// (as after ENOBUFS) until buffers come back.</para>
/// </remarks>
internal sealed partial class RingServer : IServer, IConnectionTransport
{
    /// <summary>Ring size the server wants: room for a receive and a send completion per connection between two
    /// harvests at 10k connections without spilling into the kernel's overflow list (CQ = 2 x SQ).</summary>
    internal const int RingEntries = 16384;
    internal const RingFeatures Needed = RingFeatures.MultishotAccept | RingFeatures.MultishotRecv | RingFeatures.ProvidedBuffers;

    /// <summary>The ring features the server needs on <paramref name="kind"/>: IOCP has no multishot operations, and
    /// the server runs single-shot there; elsewhere it insists on the multishot model (io_uring without it falls
    /// back to the poller server, as before).</summary>
    internal static RingFeatures RequiredFeatures(BackendKind kind) => kind == BackendKind.Iocp ? RingFeatures.None : Needed;

    private const ushort Group = 1;
    private const int RecvBufferSize = 2048;
    private const int RecvBufferCount = 4096;
    private const uint ListenerSlot = uint.MaxValue;
    private const byte TagRecv = 1, TagSend = 2, TagClose = 3, TagAccept = 4, TagTimer = 5, TagCancel = 6;
    private const int AcceptBackoffMinMs = 50, AcceptBackoffMaxMs = 1000;

    private readonly IRing _ring;
    private readonly IConnectionHandler _handler;
    private readonly ServerOptions _options;
    private readonly SocketHandle _listener;
    private readonly RingBufferPool _recvPool;
    private readonly bool _singleShot;
    private readonly bool _pollFirst;
    private readonly RingCompletion[] _completions = new RingCompletion[1024];
    private RingSlot[] _slots;
    private int[] _freeSlots;
    private int _freeCount;
    private int[] _closeQueue = new int[64];
    private int _closeCount;
    private RingOperation[] _backlog = [];
    private int _backlogCount;
    private int[] _starved = new int[64];
    private int _starvedCount;
    private bool _buffersReturned;
    private uint _acceptGeneration;
    private bool _acceptArmed;
    private bool _acceptPaused;
    private int _acceptBackoffMs = AcceptBackoffMinMs;
    private volatile bool _stopping;
    private RunState _run;

    internal RingServer(BackendKind backend, string reason, IRing ring, ServerOptions options, IConnectionHandler handler)
    {
        Backend = backend;
        SelectionReason = reason;
        _ring = ring;
        _options = options;
        _handler = handler;
        int capacity = Math.Max(16, options.InitialConnectionCapacity);
        _slots = new RingSlot[capacity];
        _freeSlots = new int[capacity];
        for (int i = 0; i < capacity; i++)
            _freeSlots[_freeCount++] = capacity - 1 - i;
        _recvPool = new RingBufferPool(RecvBufferSize, RecvBufferCount);
        // A fixed cost paid up front: fault the whole slab in now, so memory does not grow with connections later.
        for (int b = 0; b < RecvBufferCount; b++)
            _recvPool.GetSpan(b).Clear();
        InitSendBuffers();
        _singleShot = (ring.Features & Needed) != Needed;
        _pollFirst = _singleShot && ring.Supports(RingOpcode.PollReadable);
        _listener = SocketOps.ListenOrThrow(options.Endpoint, options.Backlog);
        LocalEndpoint = SocketOps.GetLocalEndpoint(_listener).Value;
        Result r = _singleShot ? Result.Success : _ring.RegisterBufferGroup(Group, _recvPool);
        if (!r.IsSuccess)
        {
            _listener.Dispose();
            r.ThrowIfFailed();
        }
    }

    public BackendKind Backend { get; }

    public string SelectionReason { get; }

    public NetEndpoint LocalEndpoint { get; }

    public int ConnectionCount { get; private set; }

    /// <summary>Single-shot mode: receive buffers out of the pool (pending receives, data not yet sent back); -1 in
    /// multishot mode, where the ring's buffer group holds them. For tests: idle connections must hold none.</summary>
    internal int ReceiveBuffersOut => _singleShot ? RecvBufferCount - _recvPool.Available : -1;

    public void Run()
    {
        _run.EnterRun(this);
        try
        {
            ArmAccept();
            while (!_stopping)
            {
                if (_backlogCount > 0)
                    FlushBacklog();
                Result<int> waited = _ring.SubmitAndWait(_completions, _backlogCount > 0 ? 1 : -1);
                if (!waited.TryGetValue(out int n))
                {
                    Log($"wait failed: {waited.Error}");
                    break;
                }

                for (int i = 0; i < n; i++)
                    Dispatch(in _completions[i]);
                FlushCloseQueue();
                if (_buffersReturned)
                    RearmStarved();
            }
        }
        finally
        {
            _run.ExitRun();
            Shutdown();
        }
    }

    public void Stop()
    {
        _stopping = true;
        _ring.Wake();
    }

    /// <summary>Stops; shuts down here when Run never started, else Run does as it returns (on its thread).</summary>
    public void Dispose()
    {
        Stop();
        if (_run.TryDisposeBeforeRun())
            Shutdown();
    }

    // ---------------------------------------------------------------- completions

    private void Dispatch(in RingCompletion c)
    {
        UserData ud = c.UserData;
        if (ud.Slot == ListenerSlot)
        {
            if (ud.Tag == TagAccept)
                OnAccepted(in c);
            else if (ud.Tag == TagTimer && ud.Generation == (_acceptGeneration & UserData.MaxGeneration))
                ResumeAccept();
            return;
        }

        int slot = (int)ud.Slot;
        if ((uint)slot >= (uint)_slots.Length || _slots[slot].Generation != ud.Generation || _slots[slot].State == SlotState.Free)
        {
            // Every operation of a slot finishes before the slot is reused, so this is only a lent buffer to give back.
            if ((c.Flags & RingCompletionFlags.Buffer) != 0)
                ReturnRecvBuffer(c.BufferId);
            return;
        }

        switch (ud.Tag)
        {
            case TagRecv when _singleShot:
                // A single-shot receive filled the buffer rented for it: hand it on as a lent group buffer would be.
                int buffer = _slots[slot].RecvBuffer;
                _slots[slot].RecvBuffer = -1;
                if (buffer < 0)
                {
                    OnReadable(slot, in c);
                    break;
                }

                if (c.IsSuccess && c.Result == RecvBufferSize)
                    _slots[slot].Flags |= RingFlags.DataReady;   // likely more behind it: receive again, no wait first
                OnReceived(slot, new RingCompletion(c.UserData, c.Result, c.Error, c.Flags | RingCompletionFlags.Buffer, buffer));
                break;
            case TagRecv:
                OnReceived(slot, in c);
                break;
            case TagSend:
                OnSent(slot, in c);
                break;
            case TagClose:
                _slots[slot].Flags &= ~RingFlags.CloseInFlight;
                TryRelease(slot);
                break;
        }
    }

    private void OnReceived(int slot, in RingCompletion c)
    {
        ref RingSlot s = ref _slots[slot];
        if (!c.HasMore)
            s.Flags &= ~RingFlags.RecvArmed;
        if (c.IsSuccess && c.Result > 0 && (c.Flags & RingCompletionFlags.Buffer) != 0)
        {
            if (s.State != SlotState.Open || (s.Flags & (RingFlags.PeerClosed | RingFlags.CloseRequested)) != 0)
            {
                ReturnRecvBuffer(c.BufferId);   // a closing connection drops what still arrives
            }
            else
            {
                Deliver(slot, c.BufferId, c.Result);
            }
        }
        else if ((c.Flags & RingCompletionFlags.Buffer) != 0)
        {
            ReturnRecvBuffer(c.BufferId);
        }

        if (c.HasMore)
            return;
        // The multishot receive ended: why decides what follows.
        s = ref _slots[slot];
        if (s.State != SlotState.Open)
        {
            TryRelease(slot);
            return;
        }

        if (c.IsSuccess && c.Result == 0)
        {
            s.Flags |= RingFlags.PeerClosed;
            _handler.OnEndOfStream(new Connection(this, new ConnectionId(slot, s.Generation)));
        }
        else if (c.Error.Code == ENOBUFS)
        {
            Starve(slot);
        }
        else if (c.IsSuccess || c.Error.Kind == ErrorKind.Canceled)
        {
            ArmRecv(slot);   // ended on its own (or canceled for back-pressure): re-arm unless throttled
        }
        else
        {
            QueueClose(slot, c.Error);
        }
    }

    /// <summary>Single-shot mode: the PollReadable ended. Data (or end of stream) is there: receive it into a
    /// buffer.</summary>
    private void OnReadable(int slot, in RingCompletion c)
    {
        ref RingSlot s = ref _slots[slot];
        s.Flags &= ~RingFlags.RecvArmed;
        if (s.State != SlotState.Open)
        {
            TryRelease(slot);
            return;
        }

        if (c.IsSuccess)
        {
            s.Flags |= RingFlags.DataReady;
            ArmRecv(slot);
        }
        else if (c.Error.Kind == ErrorKind.Canceled)
        {
            ArmRecv(slot);   // canceled for back-pressure: re-armed unless throttled
        }
        else
        {
            QueueClose(slot, c.Error);
        }
    }

    private void OnAccepted(in RingCompletion c)
    {
        if (!c.HasMore)
            _acceptArmed = false;
        if (c.IsSuccess)
        {
            if (_stopping)
                SocketCalls.Close(c.Result);
            else
                AddConnection(c.Result);
        }
        else if (c.Error.Kind is ErrorKind.TooManyOpenFiles or ErrorKind.OutOfMemory)
        {
            PauseAccept(c.Error);
        }
        else if (c.Error.Kind is not (ErrorKind.ConnectionAborted or ErrorKind.ConnectionReset or ErrorKind.WouldBlock
                     or ErrorKind.Interrupted or ErrorKind.Canceled))
        {
            Log($"accept failed: {c.Error}");
            PauseAccept(c.Error);
        }

        if (!_acceptArmed && !_acceptPaused)
            ArmAccept();
    }

    private void AddConnection(int fd)
    {
        var handle = new SocketHandle(fd);
        if (_options.NoDelay)
            SocketCalls.SetNoDelay(fd, true);
        if (_freeCount == 0)
            GrowSlots();
        int slot = _freeSlots[--_freeCount];
        ref RingSlot s = ref _slots[slot];
        s.Generation = (s.Generation + 1) & UserData.MaxGeneration;
        s.State = SlotState.Open;
        s.Handle = handle;
        s.QueueHead = s.QueueTail = -1;
        s.RecvBuffer = -1;
        ConnectionCount++;
        _acceptBackoffMs = AcceptBackoffMinMs;
        ArmRecv(slot);
        _handler.OnOpened(new Connection(this, new ConnectionId(slot, s.Generation)));
    }

    // ---------------------------------------------------------------- submissions

    private void Submit(in RingOperation op)
    {
        Result r = _backlogCount == 0 ? _ring.Enqueue(op) : OsError.FromKind(ErrorKind.WouldBlock);
        if (r.Error.Kind == ErrorKind.WouldBlock && _backlogCount == 0)
        {
            _ring.Submit();   // the submission queue is full: hand it over and retry
            r = _ring.Enqueue(op);
        }

        if (r.Error.Kind == ErrorKind.WouldBlock)
        {
            // The kernel took nothing (EAGAIN/EBUSY: short of memory or a CQ backlog): keep the order, retry next loop.
            if (_backlogCount == _backlog.Length)
                Array.Resize(ref _backlog, Math.Max(16, _backlog.Length * 2));
            _backlog[_backlogCount++] = op;
            return;
        }

        if (!r.IsSuccess)
            throw new OsException(r.Error);   // only a broken invariant (closed handle, unknown group) gets here
    }

    private void FlushBacklog()
    {
        int done = 0;
        for (; done < _backlogCount; done++)
        {
            Result r = _ring.Enqueue(_backlog[done]);
            if (r.Error.Kind == ErrorKind.WouldBlock)
                break;
            r.ThrowIfFailed();
        }

        Array.Copy(_backlog, done, _backlog, 0, _backlogCount - done);
        Array.Clear(_backlog, _backlogCount - done, done);
        _backlogCount -= done;
    }

    private void ArmAccept()
    {
        if (_stopping || _acceptArmed)
            return;
        _acceptArmed = true;
        UserData ud = UserData.Create(ListenerSlot, 0, TagAccept);
        Submit(_singleShot ? RingOperation.Accept(_listener, ud) : RingOperation.AcceptMultishot(_listener, ud));
    }

    private void ArmRecv(int slot)
    {
        ref RingSlot s = ref _slots[slot];
        if (s.State != SlotState.Open || (s.Flags & (RingFlags.RecvArmed | RingFlags.PeerClosed | RingFlags.Throttled | RingFlags.CloseRequested)) != 0)
            return;
        UserData ud = UserData.Create((uint)slot, s.Generation, TagRecv);
        if (_singleShot)
        {
            if (_pollFirst && (s.Flags & RingFlags.DataReady) == 0)
            {
                // Wait for data without a buffer (RecvBuffer stays -1, which marks the completion as this wait's).
                s.Flags |= RingFlags.RecvArmed;
                Submit(RingOperation.PollReadable(s.Handle!, ud));
                return;
            }

            if (!_recvPool.TryRent(out int buffer))
            {
                Starve(slot);   // as ENOBUFS: re-armed when a buffer comes back
                return;
            }

            s.Flags &= ~RingFlags.DataReady;
            s.RecvBuffer = buffer;
            s.Flags |= RingFlags.RecvArmed;
            Submit(RingOperation.Recv(s.Handle!, _recvPool.Slice(buffer, 0, RecvBufferSize), ud));
            return;
        }

        s.Flags |= RingFlags.RecvArmed;
        Submit(RingOperation.RecvMultishot(s.Handle!, Group, ud));
    }

    private void Starve(int slot)
    {
        if ((_slots[slot].Flags & RingFlags.Starved) != 0)
            return;
        _slots[slot].Flags |= RingFlags.Starved;
        if (_starvedCount == _starved.Length)
            Array.Resize(ref _starved, _starved.Length * 2);
        _starved[_starvedCount++] = slot;
    }

    /// <summary>Receives that ended with ENOBUFS (the group was empty) start again once buffers came back.</summary>
    private void RearmStarved()
    {
        _buffersReturned = false;
        int n = _starvedCount;
        _starvedCount = 0;
        for (int i = 0; i < n; i++)
        {
            int slot = _starved[i];
            _slots[slot].Flags &= ~RingFlags.Starved;
            ArmRecv(slot);
        }
    }

    private void ReturnRecvBuffer(int bufferId)
    {
        if (_singleShot)
            _recvPool.Return(bufferId);
        else
            _ring.ReturnBuffer(Group, bufferId);
        _buffersReturned = true;
    }

    private void PauseAccept(OsError error)
    {
        if (!_acceptPaused)
            Log($"accept paused for {_acceptBackoffMs} ms: {error}");
        _acceptPaused = true;
        _acceptGeneration++;
        if (_acceptArmed)
            Submit(RingOperation.Cancel(UserData.Create(ListenerSlot, 0, TagAccept), UserData.Create(ListenerSlot, 0, TagCancel)));
        Submit(RingOperation.TimeoutAfter(TimeSpan.FromMilliseconds(_acceptBackoffMs), UserData.Create(ListenerSlot, _acceptGeneration, TagTimer)));
        _acceptBackoffMs = Math.Min(_acceptBackoffMs * 2, AcceptBackoffMaxMs);
    }

    private void ResumeAccept()
    {
        if (!_acceptPaused)
            return;
        _acceptPaused = false;
        _acceptGeneration++;   // a pending backoff timer is now stale
        ArmAccept();
    }

    // ---------------------------------------------------------------- closing

    private void QueueClose(int slot, OsError reason)
    {
        ref RingSlot s = ref _slots[slot];
        if (s.State != SlotState.Open)
            return;
        s.State = SlotState.Closing;
        s.CloseReason = reason;
        if (_closeCount == _closeQueue.Length)
            Array.Resize(ref _closeQueue, _closeQueue.Length * 2);
        _closeQueue[_closeCount++] = slot;
    }

    private void FlushCloseQueue()
    {
        // Handlers may close other connections from OnClosed: index, do not cache the count.
        for (int i = 0; i < _closeCount; i++)
            BeginClose(_closeQueue[i]);
        bool freed = _closeCount > 0;
        _closeCount = 0;
        if (freed && _acceptPaused)
            ResumeAccept();   // a descriptor is being freed: EMFILE may be over
    }

    /// <summary>Drops queued data and closes through the ring, which cancels the receive and send in flight first.</summary>
    private void BeginClose(int slot)
    {
        ref RingSlot s = ref _slots[slot];
        DropQueue(ref s);
        if ((s.Flags & RingFlags.Abort) != 0)
            SocketCalls.SetLingerZero(s.Handle!.Descriptor);
        s.Flags |= RingFlags.CloseInFlight | RingFlags.CloseBegun;
        Submit(RingOperation.Close(s.Handle!, UserData.Create((uint)slot, s.Generation, TagClose)));
    }

    /// <summary>The slot is reused, and the handler told, only after the last final completion of its operations.</summary>
    private void TryRelease(int slot)
    {
        ref RingSlot s = ref _slots[slot];
        if (s.State != SlotState.Closing || (s.Flags & (RingFlags.RecvArmed | RingFlags.Sending | RingFlags.CloseInFlight | RingFlags.CloseBegun)) != RingFlags.CloseBegun)
            return;
        var connection = new Connection(this, new ConnectionId(slot, s.Generation));
        OsError reason = s.CloseReason;
        s.Handle?.Dispose();   // the ring took the descriptor; this only drops the handle's own reference
        uint generation = s.Generation;
        s = default;
        s.Generation = generation;
        s.QueueHead = s.QueueTail = -1;
        _freeSlots[_freeCount++] = slot;
        ConnectionCount--;
        _handler.OnClosed(connection, reason);
    }

    private void GrowSlots()
    {
        int old = _slots.Length;
        Array.Resize(ref _slots, old * 2);
        Array.Resize(ref _freeSlots, old * 2);
        for (int i = old * 2 - 1; i >= old; i--)
            _freeSlots[_freeCount++] = i;
    }

    /// <summary>Exactly once (see <see cref="RunState"/>): closes every connection through the ring and waits for
    /// their final completions, then disposes the ring and the listener.</summary>
    private void Shutdown()
    {
        _stopping = true;
        for (int slot = 0; slot < _slots.Length; slot++)
        {
            if (_slots[slot].State == SlotState.Open)
                QueueClose(slot, OsError.FromKind(ErrorKind.Canceled));
        }

        FlushCloseQueue();
        if (_acceptArmed)
            Submit(RingOperation.Cancel(UserData.Create(ListenerSlot, 0, TagAccept), UserData.Create(ListenerSlot, 0, TagCancel)));
        long deadline = Environment.TickCount64 + 10_000;
        while ((ConnectionCount > 0 || _acceptArmed) && Environment.TickCount64 < deadline)
        {
            if (_backlogCount > 0)
                FlushBacklog();
            Result<int> waited = _ring.SubmitAndWait(_completions, 100);
            if (!waited.TryGetValue(out int n))
                break;
            for (int i = 0; i < n; i++)
                Dispatch(in _completions[i]);
            FlushCloseQueue();
        }

        if (ConnectionCount > 0)
            Log($"{ConnectionCount} connections still had operations in flight at shutdown");
        _ring.Dispose();   // cancels and waits for whatever is left
        _listener.Dispose();
    }

    private void Log(string message) => _options.Log?.Invoke($"{_ring.Name}: {message}");

    private enum SlotState : byte
    {
        Free = 0,
        Open,
        Closing,   // the ring closes the descriptor; the slot waits for its operations' final completions
    }

    [Flags]
    private enum RingFlags : ushort
    {
        None = 0,
        RecvArmed = 1,          // the multishot receive is in flight
        Sending = 2,            // a send is in flight
        PeerClosed = 4,         // end of stream received
        WriteShutdown = 8,      // shutdown(SHUT_WR) done
        ShutdownRequested = 16, // shutdown(SHUT_WR) once the queue drains
        CloseRequested = 32,    // close once the queue drains
        Abort = 64,             // close with a reset
        Starved = 128,          // the receive ended with ENOBUFS; re-armed when buffers return
        Throttled = 256,        // reading paused: too much unsent data
        CloseInFlight = 512,    // the ring's close has not completed yet
        CloseBegun = 1024,      // the close was handed to the ring (a slot queued for close waits for that first)
        DataReady = 2048,       // single-shot mode: data is there, the next receive needs no PollReadable first
    }

    /// <summary>Per-connection state: about 40 bytes plus the <see cref="SocketHandle"/>; no buffer while idle.</summary>
    private struct RingSlot
    {
        public SocketHandle? Handle;
        public uint Generation;
        public int QueueHead;      // buffer refs waiting to be sent, in order (see RingServer.Transport.cs)
        public int QueueTail;
        public int RecvBuffer;     // single-shot mode: the buffer the pending receive fills, else -1
        public int PendingBytes;
        public OsError CloseReason;
        public SlotState State;
        public RingFlags Flags;
    }
}
