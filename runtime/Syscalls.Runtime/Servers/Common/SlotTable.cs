using System;
using Syscalls.Runtime.Backends.Common;
using Syscalls.Runtime.Sockets;

namespace Syscalls.Runtime.Servers.Common;

/// <summary>Where a connection slot is in its life.</summary>
internal enum SlotState : byte
{
    Free = 0,
    Open,
    Closing,    // queued for close; the loop server finishes it after the current batch, the ring server after the
                // final completions of its operations
}

/// <summary>What a loop server knows of a connection beyond its state. The first five are every model's; the rest are
/// the ring server's own.</summary>
[Flags]
internal enum ConnectionFlags : ushort
{
    None = 0,
    PeerClosed = 1,           // end of stream received
    WriteShutdown = 2,        // shutdown(SHUT_WR) done
    ShutdownRequested = 4,    // shutdown(SHUT_WR) once pending data drains
    CloseRequested = 8,       // close once pending data drains
    Abort = 16,               // close with a reset
    RecvArmed = 32,           // ring: a receive (or a PollReadable) is in flight
    Sending = 64,             // ring: a send is in flight
    Starved = 128,            // ring: the receive found no buffer; re-armed when buffers return
    Throttled = 256,          // ring: reading paused, too much unsent data
    CloseInFlight = 512,      // ring: the ring's close has not completed yet
    CloseBegun = 1024,        // ring: the close was handed to the ring (a slot queued for close waits for that first)
    DataReady = 2048,         // ring, single-shot: data is there, the next receive needs no PollReadable first
}

/// <summary>The fields every loop server's connection slot has, so that <see cref="SlotTable{T}"/> can keep them.
/// Implemented by structs: the table's generic code is specialised per slot type, with no boxing.</summary>
internal interface IConnectionSlot
{
    SocketHandle? Handle { get; set; }

    uint Generation { get; set; }

    SlotState State { get; set; }

    ConnectionFlags Flags { get; set; }

    OsError CloseReason { get; set; }
}

/// <summary>The connection slots of a loop server in one array of structs: generations (so a stale
/// <see cref="ConnectionId"/> never reaches the slot's next connection), a free list, and the queue of slots to close
/// once the current batch of events is dispatched. Grows by doubling, the only allocation, amortised. One thread.</summary>
internal sealed class SlotTable<T>
    where T : struct, IConnectionSlot
{
    private readonly uint _generationMask;
    private T[] _slots;
    private int[] _free;
    private int _freeCount;
    private int[] _closing = new int[64];

    /// <param name="capacity">Slots allocated up front.</param>
    /// <param name="generationMask">The bits a generation may use: all of a poller token's high half, or the 24 of
    /// a ring's <see cref="UserData"/>.</param>
    internal SlotTable(int capacity, uint generationMask)
    {
        _generationMask = generationMask;
        capacity = Math.Max(capacity, 16);
        _slots = new T[capacity];
        _free = new int[capacity];
        for (int i = 0; i < capacity; i++)
            _free[i] = capacity - 1 - i;
        _freeCount = capacity;
    }

    /// <summary>Slots in use (open or closing).</summary>
    internal int Count { get; private set; }

    internal int Capacity => _slots.Length;

    internal ref T this[int slot] => ref _slots[slot];

    /// <summary>Slots queued by <see cref="QueueClose"/> and not yet taken by <see cref="ClearClosing"/>.</summary>
    internal int ClosingCount { get; private set; }

    /// <summary>A free slot for <paramref name="handle"/>, open, at its next generation.</summary>
    internal int Allocate(SocketHandle handle)
    {
        if (_freeCount == 0)
            Grow();
        int slot = _free[--_freeCount];
        ref T s = ref _slots[slot];
        s.Generation = (s.Generation + 1) & _generationMask;
        s.State = SlotState.Open;
        s.Flags = ConnectionFlags.None;
        s.CloseReason = default;
        s.Handle = handle;
        Count++;
        return slot;
    }

    /// <summary>Clears the slot (keeping its generation) and frees it; the caller has released what it held.</summary>
    internal void Release(int slot)
    {
        ref T s = ref _slots[slot];
        uint generation = s.Generation;
        s = default;
        s.Generation = generation;
        _free[_freeCount++] = slot;
        Count--;
    }

    /// <summary>The slot of <paramref name="id"/> if it is the slot's current, open connection.</summary>
    internal bool TryGet(ConnectionId id, out int slot) => TryGet(id.Slot, id.Generation, out slot);

    /// <summary>The slot <paramref name="index"/> if <paramref name="generation"/> is its current, open connection's.</summary>
    internal bool TryGet(int index, uint generation, out int slot)
    {
        slot = index;
        return (uint)slot < (uint)_slots.Length && _slots[slot].Generation == generation && _slots[slot].State == SlotState.Open;
    }

    internal ConnectionId IdOf(int slot) => new(slot, _slots[slot].Generation);

    /// <summary>Open to closing with <paramref name="reason"/>, queued for the server to finish; false (and nothing
    /// done) when the slot is not open, so a close is only ever queued once.</summary>
    internal bool QueueClose(int slot, OsError reason)
    {
        ref T s = ref _slots[slot];
        if (s.State != SlotState.Open)
            return false;
        s.State = SlotState.Closing;
        s.CloseReason = reason;
        if (ClosingCount == _closing.Length)
            Array.Resize(ref _closing, _closing.Length * 2);
        _closing[ClosingCount++] = slot;
        return true;
    }

    /// <summary>The handler of <paramref name="id"/> threw: the connection is aborted with <paramref name="reason"/>
    /// (or, already closing, will report that reason). Nothing happens for an id that is no longer the slot's.</summary>
    internal void Fail(ConnectionId id, OsError reason)
    {
        if ((uint)id.Slot >= (uint)_slots.Length || _slots[id.Slot].Generation != id.Generation)
            return;
        ref T s = ref _slots[id.Slot];
        if (s.State == SlotState.Open)
        {
            s.Flags |= ConnectionFlags.Abort;
            QueueClose(id.Slot, reason);
        }
        else if (s.State == SlotState.Closing)
        {
            s.CloseReason = reason;
        }
    }

    /// <summary>The <paramref name="i"/>th queued slot. Finishing one may queue others (a handler closes another
    /// connection from OnClosed): index up to <see cref="ClosingCount"/> as it grows, do not cache it.</summary>
    internal int ClosingAt(int i) => _closing[i];

    internal void ClearClosing() => ClosingCount = 0;

    /// <summary>shutdown(SHUT_WR) now (the caller made sure nothing is pending); closes once both directions are
    /// done, the peer's too.</summary>
    internal Result ShutdownWrite(int slot)
    {
        ref T s = ref _slots[slot];
        s.Flags = (s.Flags & ~ConnectionFlags.ShutdownRequested) | ConnectionFlags.WriteShutdown;
        Result r = SocketCalls.ShutdownWrite(s.Handle!.Descriptor);
        if ((s.Flags & ConnectionFlags.PeerClosed) != 0)
            QueueClose(slot, default);
        return r;
    }

    private void Grow()
    {
        int old = _slots.Length;
        Array.Resize(ref _slots, old * 2);
        Array.Resize(ref _free, old * 2);
        for (int i = old * 2 - 1; i >= old; i--)
            _free[_freeCount++] = i;
    }
}
