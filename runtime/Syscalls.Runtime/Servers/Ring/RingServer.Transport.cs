using System;
using System.Collections.Generic;
using Syscalls.Runtime.Backends.Common;
using Syscalls.Runtime.Servers.Common;

namespace Syscalls.Runtime.Servers;

/// <summary>The send side: per connection a FIFO of buffer refs, the head one in flight. A ref below
/// below the receive buffer count is a receive buffer sent back as it is (the echo path); the others are
/// pooled send buffers that hold copies. <c>_start</c>/<c>_end</c> delimit each ref's unsent bytes.</summary>
internal sealed partial class RingServer
{
    private const int SendBufferSize = 16 * 1024;
    private const int SendBuffersPerPool = 32;

    private readonly List<RingBufferPool> _sendPools = new();
    private int[] _next = [];
    private int[] _start = [];
    private int[] _end = [];
    private int _sendPoolWithRoom;
    private int _deliverSlot = -1;
    private int _deliverBuffer;
    private int _deliverLength;
    private bool _deliverCaptured;

    /// <summary>Sends made straight from the receive buffer the handler was given (the echo path), for tests.</summary>
    internal long SendsFromReceiveBuffer { get; private set; }

    /// <summary>Bytes copied into send buffers, for tests: the echo path copies none.</summary>
    internal long BytesCopiedToSend { get; private set; }

    public Result Send(ConnectionId id, ReadOnlySpan<byte> data)
    {
        if (!TryGet(id, out int slot))
            return OsError.FromKind(ErrorKind.NotConnected);
        ref RingSlot s = ref _slots[slot];
        if ((s.Flags & (ConnectionFlags.WriteShutdown | ConnectionFlags.ShutdownRequested | ConnectionFlags.CloseRequested)) != 0)
            return OsError.FromKind(ErrorKind.NotConnected);
        if (data.IsEmpty)
            return Result.Success;
        if (slot == _deliverSlot && !_deliverCaptured && s.QueueHead < 0 && FreeReceiveBuffers > ReceiveLowWater
            && _recvPool.GetSpan(_deliverBuffer)[.._deliverLength].Overlaps(data, out int offset)
            && offset >= 0 && offset + data.Length <= _deliverLength)
        {
            // The handler echoes (part of) the buffer it was given: send from it and give it back afterwards. Only
            // with nothing queued before it (so a connection holds one at most) and while a quarter of the buffers
            // are free: a send to a peer that does not read stalls for good, and stalled sends holding every buffer
            // would starve every other connection's receives. Below that the echo is copied, as other data is.
            _deliverCaptured = true;
            SendsFromReceiveBuffer++;
            _start[_deliverBuffer] = offset;
            _end[_deliverBuffer] = offset + data.Length;
            Append(ref s, _deliverBuffer);
        }
        else
        {
            BytesCopiedToSend += data.Length;
            CopyIn(ref s, data);
        }

        s.PendingBytes += data.Length;
        if ((s.Flags & ConnectionFlags.Sending) == 0)
            SendHead(slot);
        if (s.PendingBytes > _options.MaxPendingSendBytes && (s.Flags & ConnectionFlags.Throttled) == 0)
        {
            // Back-pressure: stop receiving until the queue drains (the receive is re-armed by OnSent).
            s.Flags |= ConnectionFlags.Throttled;
            if ((s.Flags & ConnectionFlags.RecvArmed) != 0)
                Submit(RingOperation.Cancel(UserData.Create((uint)slot, s.Generation, TagRecv), UserData.Create((uint)slot, s.Generation, TagCancel)));
        }

        return Result.Success;
    }

    public Result ShutdownWrite(ConnectionId id)
    {
        if (!TryGet(id, out int slot))
            return OsError.FromKind(ErrorKind.NotConnected);
        ref RingSlot s = ref _slots[slot];
        if (s.QueueHead >= 0)
        {
            s.Flags |= ConnectionFlags.ShutdownRequested;
            return Result.Success;
        }

        return _slots.ShutdownWrite(slot);
    }

    public void Close(ConnectionId id)
    {
        if (!TryGet(id, out int slot))
            return;
        ref RingSlot s = ref _slots[slot];
        if (s.QueueHead < 0)
            QueueClose(slot, default);
        else
            s.Flags |= ConnectionFlags.CloseRequested;
    }

    public void Abort(ConnectionId id)
    {
        if (!TryGet(id, out int slot))
            return;
        _slots[slot].Flags |= ConnectionFlags.Abort;
        QueueClose(slot, default);
    }

    public bool IsOpen(ConnectionId id) => TryGet(id, out _);

    public int GetPendingSendBytes(ConnectionId id) => TryGet(id, out int slot) ? _slots[slot].PendingBytes : 0;

    private bool TryGet(ConnectionId id, out int slot) => _slots.TryGet(id, out slot);

    /// <summary>Hands a received buffer to the handler; it goes back to the group afterwards unless a send took it.</summary>
    private void Deliver(int slot, int bufferId, int length)
    {
        _deliverSlot = slot;
        _deliverBuffer = bufferId;
        _deliverLength = length;
        _deliverCaptured = false;
        var connection = new Connection(this, _slots.IdOf(slot));
        try
        {
            _handler.OnData(connection, _recvPool.GetSpan(bufferId)[..length]);
        }
        catch (Exception e)
        {
            HandlerThrew(connection, nameof(IConnectionHandler.OnData), e);
        }
        finally
        {
            _deliverSlot = -1;
            if (!_deliverCaptured)
                ReturnRecvBuffer(bufferId);
        }
    }

    private void OnSent(int slot, in RingCompletion c)
    {
        ref RingSlot s = ref _slots[slot];
        s.Flags &= ~ConnectionFlags.Sending;
        int head = s.QueueHead;
        if (!c.IsSuccess || s.State != SlotState.Open)
        {
            if (s.State == SlotState.Open)
                QueueClose(slot, c.Error);   // EPIPE, ECONNRESET: the peer is gone
            DropQueue(ref s);
            TryRelease(slot);
            return;
        }

        _start[head] += c.Result;
        s.PendingBytes -= c.Result;
        if (_start[head] == _end[head])
        {
            s.QueueHead = _next[head];
            if (s.QueueHead < 0)
                s.QueueTail = -1;
            ReleaseRef(head);
        }

        if (s.QueueHead >= 0)
        {
            SendHead(slot);
        }
        else if ((s.Flags & ConnectionFlags.CloseRequested) != 0)
        {
            QueueClose(slot, default);
            return;
        }
        else if ((s.Flags & ConnectionFlags.ShutdownRequested) != 0)
        {
            _slots.ShutdownWrite(slot);
        }

        if ((s.Flags & ConnectionFlags.Throttled) != 0 && s.PendingBytes <= _options.MaxPendingSendBytes)
        {
            s.Flags &= ~ConnectionFlags.Throttled;
            ArmRecv(slot);
        }
    }

    private void SendHead(int slot)
    {
        ref RingSlot s = ref _slots[slot];
        int head = s.QueueHead;
        BufferSlice slice = head < _recvCount
            ? _recvPool.Slice(head, _start[head], _end[head] - _start[head])
            : _sendPools[(head - _recvCount) / SendBuffersPerPool].Slice((head - _recvCount) % SendBuffersPerPool, _start[head], _end[head] - _start[head]);
        s.Flags |= ConnectionFlags.Sending;
        Submit(RingOperation.Send(s.Handle!, slice, UserData.Create((uint)slot, s.Generation, TagSend)));
    }

    /// <summary>Copies into the tail send buffer while it has room (unless it is the one in flight), then into new ones.</summary>
    private void CopyIn(ref RingSlot s, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            int tail = s.QueueTail;
            bool appendable = tail >= _recvCount && _end[tail] < SendBufferSize
                              && !(tail == s.QueueHead && (s.Flags & ConnectionFlags.Sending) != 0);
            if (!appendable)
            {
                tail = RentSendBuffer();
                Append(ref s, tail);
            }

            int pool = (tail - _recvCount) / SendBuffersPerPool;
            Span<byte> room = _sendPools[pool].GetSpan((tail - _recvCount) % SendBuffersPerPool)[_end[tail]..];
            int n = Math.Min(room.Length, data.Length);
            data[..n].CopyTo(room);
            _end[tail] += n;
            data = data[n..];
        }
    }

    private void Append(ref RingSlot s, int bufferRef)
    {
        _next[bufferRef] = -1;
        if (s.QueueTail >= 0)
            _next[s.QueueTail] = bufferRef;
        else
            s.QueueHead = bufferRef;
        s.QueueTail = bufferRef;
    }

    /// <summary>Gives back every queued buffer except the one a send still has in flight.</summary>
    private void DropQueue(ref RingSlot s)
    {
        int keep = (s.Flags & ConnectionFlags.Sending) != 0 ? s.QueueHead : -1;
        for (int r = keep >= 0 ? _next[keep] : s.QueueHead; r >= 0;)
        {
            int next = _next[r];
            ReleaseRef(r);
            r = next;
        }

        s.QueueHead = s.QueueTail = keep;
        s.PendingBytes = 0;
        if (keep >= 0)
        {
            _next[keep] = -1;
            s.PendingBytes = _end[keep] - _start[keep];
        }
    }

    private void ReleaseRef(int bufferRef)
    {
        if (bufferRef < _recvCount)
        {
            ReturnRecvBuffer(bufferRef);
            return;
        }

        int pool = (bufferRef - _recvCount) / SendBuffersPerPool;
        _sendPools[pool].Return((bufferRef - _recvCount) % SendBuffersPerPool);
        if (pool < _sendPoolWithRoom)
            _sendPoolWithRoom = pool;
    }

    private int RentSendBuffer()
    {
        for (int p = _sendPoolWithRoom; p < _sendPools.Count; p++)
        {
            if (_sendPools[p].TryRent(out int id))
            {
                _sendPoolWithRoom = p;
                int r = _recvCount + p * SendBuffersPerPool + id;
                _start[r] = _end[r] = 0;
                return r;
            }
        }

        _sendPools.Add(new RingBufferPool(SendBufferSize, SendBuffersPerPool));   // grows only under load
        int total = _recvCount + _sendPools.Count * SendBuffersPerPool;
        Array.Resize(ref _next, total);
        Array.Resize(ref _start, total);
        Array.Resize(ref _end, total);
        _sendPoolWithRoom = _sendPools.Count - 1;
        return RentSendBuffer();
    }

    private void InitSendBuffers()
    {
        _next = new int[_recvCount];
        _start = new int[_recvCount];
        _end = new int[_recvCount];
    }
}
