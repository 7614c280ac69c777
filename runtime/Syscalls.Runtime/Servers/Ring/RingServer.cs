using System;
using Syscalls.Runtime.Backends.Common;
using Syscalls.Runtime.Servers.Common;
using Syscalls.Runtime.Sockets;

namespace Syscalls.Runtime.Servers;

/// <summary>The completion-model server over any <see cref="IRing"/> (io_uring, the emulated ring, IOCP), shaped like
/// the C liburing reference: multishot accept, one multishot receive per connection drawing from one shared
/// provided-buffer group (idle connections hold no buffer), one send in flight per connection with further data
/// queued behind it in order, and one ring enter per loop iteration for all of it.</summary>
/// <remarks>
/// <para>This file: the loop, completions, accepting, submissions and closing. Receiving: RingServer.Receive.cs
/// (multishot, and what both strategies share) and RingServer.SingleShot.cs (IOCP's); sending: RingServer.Transport.cs.</para>
/// <para>A connection closes through the ring (its in-flight receive and send are canceled first); its slot and
/// <see cref="IConnectionHandler.OnClosed"/> wait for the last final completion, so no buffer or descriptor is reused
/// under the kernel. EMFILE/ENFILE in accept pause accepting for a backoff (a ring timeout), never spin.</para>
/// </remarks>
internal sealed partial class RingServer : IServer, IConnectionTransport
{
    /// <summary>The features of the multishot model; a ring without them (IOCP) is served single-shot.</summary>
    internal const RingFeatures Multishot = RingFeatures.MultishotAccept | RingFeatures.MultishotRecv | RingFeatures.ProvidedBuffers;

    private const uint ListenerSlot = uint.MaxValue;
    private const byte TagRecv = 1, TagSend = 2, TagClose = 3, TagAccept = 4, TagTimer = 5, TagCancel = 6;

    private readonly IRing _ring;
    private readonly IConnectionHandler _handler;
    private readonly ServerOptions _options;
    private readonly SocketHandle _listener;
    private readonly SlotTable<RingSlot> _slots;
    private readonly RingCompletion[] _completions = new RingCompletion[1024];
    private readonly RingSubmitter _submitter;
    private uint _acceptGeneration;
    private bool _acceptArmed;
    private AcceptBackoff _accept;
    private volatile bool _stopping;
    private RunState _run;

    internal RingServer(BackendKind backend, string reason, IRing ring, ServerOptions options, IConnectionHandler handler)
    {
        Backend = backend;
        SelectionReason = reason;
        _ring = ring;
        _submitter = new RingSubmitter(ring);
        _options = options;
        _handler = handler;
        _slots = new SlotTable<RingSlot>(options.InitialConnectionCapacity, UserData.MaxGeneration);
        _singleShot = (ring.Features & Multishot) != Multishot;
        _pollFirst = _singleShot && ring.Supports(RingOpcode.PollReadable);
        _recvSize = options.RingReceiveBufferSize;
        _recvCount = options.ReceiveBufferCount;
        _recvPool = CreateReceivePool(_recvSize, _recvCount);
        InitSendBuffers();
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

    public int ConnectionCount => _slots.Count;

    /// <summary>The listening socket, for tests that set options accepted sockets inherit (SO_SNDBUF).</summary>
    internal SocketHandle Listener => _listener;

    public void Run()
    {
        _run.EnterRun(this);
        try
        {
            ArmAccept();
            while (!_stopping)
            {
                if (_submitter.HasBacklog)
                    _submitter.FlushBacklog();
                Result<int> waited = _ring.SubmitAndWait(_completions, _submitter.HasBacklog ? 1 : -1);
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

        if ((c.Flags & RingCompletionFlags.Buffer) != 0 && !_singleShot)
            _lentBuffers++;   // given back by ReturnRecvBuffer, whichever path the completion takes
        int slot = (int)ud.Slot;
        if ((uint)slot >= (uint)_slots.Capacity || _slots[slot].Generation != ud.Generation || _slots[slot].State == SlotState.Free)
        {
            // Every operation of a slot finishes before the slot is reused, so this is only a lent buffer to give back.
            if ((c.Flags & RingCompletionFlags.Buffer) != 0)
                ReturnRecvBuffer(c.BufferId);
            return;
        }

        switch (ud.Tag)
        {
            case TagRecv when _singleShot:
                OnSingleShotCompleted(slot, in c);
                break;
            case TagRecv:
                OnReceived(slot, in c);
                break;
            case TagSend:
                OnSent(slot, in c);
                break;
            case TagClose:
                _slots[slot].Flags &= ~ConnectionFlags.CloseInFlight;
                TryRelease(slot);
                break;
        }
    }

    // ---------------------------------------------------------------- accepting

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

        if (!_acceptArmed && !_accept.Paused)
            ArmAccept();
    }

    private void AddConnection(int fd)
    {
        var handle = new SocketHandle(fd);
        if (_options.NoDelay)
            SocketCalls.SetNoDelay(fd, true);
        int slot = _slots.Allocate(handle);
        ref RingSlot s = ref _slots[slot];
        s.QueueHead = s.QueueTail = -1;
        s.RecvBuffer = -1;
        s.PendingBytes = 0;
        _accept.Reset();
        ArmRecv(slot);
        var connection = new Connection(this, _slots.IdOf(slot));
        try
        {
            _handler.OnOpened(connection);
        }
        catch (Exception e)
        {
            HandlerThrew(connection, nameof(IConnectionHandler.OnOpened), e);
        }
    }

    private void ArmAccept()
    {
        if (_stopping || _acceptArmed)
            return;
        _acceptArmed = true;
        UserData ud = UserData.Create(ListenerSlot, 0, TagAccept);
        Submit(_singleShot ? RingOperation.Accept(_listener, ud) : RingOperation.AcceptMultishot(_listener, ud));
    }

    private void PauseAccept(OsError error)
    {
        int ms = _accept.Pause(out bool first);
        if (first)
            Log($"accept paused for {ms} ms: {error}");
        _acceptGeneration++;
        if (_acceptArmed)
            Submit(RingOperation.Cancel(UserData.Create(ListenerSlot, 0, TagAccept), UserData.Create(ListenerSlot, 0, TagCancel)));
        Submit(RingOperation.TimeoutAfter(TimeSpan.FromMilliseconds(ms), UserData.Create(ListenerSlot, _acceptGeneration, TagTimer)));
    }

    private void ResumeAccept()
    {
        if (!_accept.Paused)
            return;
        _accept.Resume();
        _acceptGeneration++;   // a pending backoff timer is now stale
        ArmAccept();
    }

    // ---------------------------------------------------------------- submissions

    private void Submit(in RingOperation op) => _submitter.Submit(op);

    // ---------------------------------------------------------------- closing

    private void QueueClose(int slot, OsError reason) => _slots.QueueClose(slot, reason);

    private void FlushCloseQueue()
    {
        for (int i = 0; i < _slots.ClosingCount; i++)
            BeginClose(_slots.ClosingAt(i));
        bool freed = _slots.ClosingCount > 0;
        _slots.ClearClosing();
        if (freed && _accept.Paused)
            ResumeAccept();   // a descriptor is being freed: EMFILE may be over
    }

    /// <summary>Drops queued data and closes through the ring, which cancels the receive and send in flight first.</summary>
    private void BeginClose(int slot)
    {
        ref RingSlot s = ref _slots[slot];
        DropQueue(ref s);
        if ((s.Flags & ConnectionFlags.Abort) != 0)
            SocketCalls.SetLingerZero(s.Handle!.Descriptor);
        s.Flags |= ConnectionFlags.CloseInFlight | ConnectionFlags.CloseBegun;
        Submit(RingOperation.Close(s.Handle!, UserData.Create((uint)slot, s.Generation, TagClose)));
    }

    /// <summary>The slot is reused, and the handler told, only after the last final completion of its operations.</summary>
    private void TryRelease(int slot)
    {
        ref RingSlot s = ref _slots[slot];
        const ConnectionFlags Busy = ConnectionFlags.RecvArmed | ConnectionFlags.Sending | ConnectionFlags.CloseInFlight | ConnectionFlags.CloseBegun;
        if (s.State != SlotState.Closing || (s.Flags & Busy) != ConnectionFlags.CloseBegun)
            return;
        var connection = new Connection(this, _slots.IdOf(slot));
        OsError reason = s.CloseReason;
        s.Handle?.Dispose();   // the ring took the descriptor; this only drops the handle's own reference
        _slots.Release(slot);
        try
        {
            _handler.OnClosed(connection, reason);
        }
        catch (Exception e)
        {
            HandlerFailures.Report(_options, _ring.Name, connection, nameof(IConnectionHandler.OnClosed), e);
        }
    }

    /// <summary>Exactly once (see <see cref="RunState"/>): closes every connection through the ring and waits for
    /// their final completions, then disposes the ring and the listener.</summary>
    private void Shutdown()
    {
        _stopping = true;
        for (int slot = 0; slot < _slots.Capacity; slot++)
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
            if (_submitter.HasBacklog)
                _submitter.FlushBacklog();
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

    /// <summary>A callback threw: reported, and this connection alone is aborted.</summary>
    private void HandlerThrew(Connection connection, string callback, Exception e)
    {
        HandlerFailures.Report(_options, _ring.Name, connection, callback, e);
        _slots.Fail(connection.Id, HandlerFailures.Reason);
    }

    private void Log(string message) => _options.Log?.Invoke($"{_ring.Name}: {message}");
}
