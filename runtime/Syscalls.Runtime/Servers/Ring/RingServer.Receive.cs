using System;
using Syscalls.Runtime.Backends.Common;
using Syscalls.Runtime.Servers.Common;

namespace Syscalls.Runtime.Servers;

/// <summary>The receive side, multishot (io_uring, the emulated ring): one multishot receive per connection drawing
/// from one provided-buffer group, so idle connections hold no buffer; a receive that ends is re-armed unless the
/// connection is throttled or closing, and one that found the group empty waits until buffers come back. What ends a
/// receive and what a delivered buffer becomes is the same in single-shot mode (RingServer.SingleShot.cs).</summary>
internal sealed partial class RingServer
{
    private const ushort Group = 1;

    private readonly RingBufferPool _recvPool;
    private readonly int _recvSize;               // ServerOptions.RingReceiveBufferSize
    private readonly int _recvCount;              // ServerOptions.ReceiveBufferCount
    private readonly bool _singleShot;
    private int _lentBuffers;                     // multishot: lent by completions, not yet given back to the group
    private int[] _starved = new int[64];
    private int _starvedCount;
    private bool _buffersReturned;

    /// <summary>Single-shot mode: receive buffers out of the pool (pending receives, data not yet sent back); -1 in
    /// multishot mode, where the ring's buffer group holds them. For tests: idle connections must hold none.</summary>
    internal int ReceiveBuffersOut => _singleShot ? _recvCount - _recvPool.Available : -1;

    /// <summary>The receive buffers' size and number, as the options gave them (for tests).</summary>
    internal (int Size, int Count) ReceiveBuffers => (_recvSize, _recvCount);

    /// <summary>Buffers free for the next receives: in the group (multishot) or the pool (single-shot).</summary>
    private int FreeReceiveBuffers => _singleShot ? _recvPool.Available : _recvCount - _lentBuffers;

    /// <summary>Below this many free buffers a handler's echo is copied out instead of sent from the buffer it came in,
    /// so connections whose sends stall (slow readers) hold no buffer and the rest keep receiving.</summary>
    private int ReceiveLowWater => _recvCount / 4;

    private static RingBufferPool CreateReceivePool(int size, int count)
    {
        if (count is < 1 or > 32768)
            throw new ArgumentOutOfRangeException(nameof(ServerOptions.ReceiveBufferCount), count, "The ring server keeps 1 to 32768 receive buffers (io_uring's limit).");
        if ((long)size * count > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(ServerOptions.ReceiveBufferSize), size, $"{count} receive buffers of {size} bytes exceed 2 GiB.");
        var pool = new RingBufferPool(size, count);
        // A fixed cost paid up front: fault the whole slab in now, so memory does not grow with connections later.
        for (int b = 0; b < count; b++)
            pool.GetSpan(b).Clear();
        return pool;
    }

    private void ArmRecv(int slot)
    {
        ref RingSlot s = ref _slots[slot];
        const ConnectionFlags NoReceive = ConnectionFlags.RecvArmed | ConnectionFlags.PeerClosed | ConnectionFlags.Throttled | ConnectionFlags.CloseRequested;
        if (s.State != SlotState.Open || (s.Flags & NoReceive) != 0)
            return;
        if (_singleShot)
        {
            ArmSingleShot(slot);
            return;
        }

        s.Flags |= ConnectionFlags.RecvArmed;
        Submit(RingOperation.RecvMultishot(s.Handle!, Group, UserData.Create((uint)slot, s.Generation, TagRecv)));
    }

    /// <summary>A receive completion (in single-shot mode, one made to look like a multishot one): data goes to the
    /// handler, then the end of the receive, if this was its end, decides what follows.</summary>
    private void OnReceived(int slot, in RingCompletion c)
    {
        ref RingSlot s = ref _slots[slot];
        if (!c.HasMore)
            s.Flags &= ~ConnectionFlags.RecvArmed;
        if (c.IsSuccess && c.Result > 0 && (c.Flags & RingCompletionFlags.Buffer) != 0)
        {
            if (s.State != SlotState.Open || (s.Flags & (ConnectionFlags.PeerClosed | ConnectionFlags.CloseRequested)) != 0)
                ReturnRecvBuffer(c.BufferId);   // a closing connection drops what still arrives
            else
                Deliver(slot, c.BufferId, c.Result);
        }
        else if ((c.Flags & RingCompletionFlags.Buffer) != 0)
        {
            ReturnRecvBuffer(c.BufferId);
        }

        if (c.HasMore)
            return;
        s = ref _slots[slot];
        if (s.State != SlotState.Open)
        {
            TryRelease(slot);
            return;
        }

        if (c.IsSuccess && c.Result == 0)
        {
            s.Flags |= ConnectionFlags.PeerClosed;
            var connection = new Connection(this, _slots.IdOf(slot));
            try
            {
                _handler.OnEndOfStream(connection);
            }
            catch (Exception e)
            {
                HandlerThrew(connection, nameof(IConnectionHandler.OnEndOfStream), e);
            }
        }
        else if (c.Error == HostErrors.NoBuffers)
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

    /// <summary>The receive found no buffer (ENOBUFS from the group, or the pool empty in single-shot mode): it is
    /// armed again once a buffer comes back.</summary>
    private void Starve(int slot)
    {
        if ((_slots[slot].Flags & ConnectionFlags.Starved) != 0)
            return;
        _slots[slot].Flags |= ConnectionFlags.Starved;
        if (_starvedCount == _starved.Length)
            Array.Resize(ref _starved, _starved.Length * 2);
        _starved[_starvedCount++] = slot;
    }

    /// <summary>Receives that found no buffer start again once buffers came back (at the end of a loop iteration).</summary>
    private void RearmStarved()
    {
        _buffersReturned = false;
        int n = _starvedCount;
        _starvedCount = 0;
        for (int i = 0; i < n; i++)
        {
            int slot = _starved[i];
            _slots[slot].Flags &= ~ConnectionFlags.Starved;
            ArmRecv(slot);
        }
    }

    private void ReturnRecvBuffer(int bufferId)
    {
        if (_singleShot)
        {
            _recvPool.Return(bufferId);
        }
        else
        {
            _ring.ReturnBuffer(Group, bufferId);
            _lentBuffers--;
        }

        _buffersReturned = true;
    }
}
