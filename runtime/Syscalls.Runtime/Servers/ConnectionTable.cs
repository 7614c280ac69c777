using System;
using System.Buffers;
using Syscalls.Runtime.Sockets;

namespace Syscalls.Runtime.Servers;

/// <summary>Per-connection state of a loop server, kept in one array of structs (about 48 bytes per connection plus
/// its <see cref="SocketHandle"/>): no receive buffer while idle, an output buffer only while a send is backlogged.</summary>
internal struct ConnectionSlot
{
    public SocketHandle? Handle;
    public byte[]? Pending;       // unsent tail, rented from ArrayPool while backlogged
    public int Fd;
    public uint Generation;
    public int PendingStart;
    public int PendingCount;
    public OsError CloseReason;
    public SlotState State;
    public SlotFlags Flags;
    public Interest Interest;     // what the poller currently watches
}

internal enum SlotState : byte
{
    Free = 0,
    Open,
    Closing,    // queued for close at the end of the current dispatch
}

[Flags]
internal enum SlotFlags : byte
{
    None = 0,
    PeerClosed = 1,           // recv returned 0
    WriteShutdown = 2,        // shutdown(SHUT_WR) done
    ShutdownRequested = 4,    // shutdown(SHUT_WR) once pending drains
    CloseRequested = 8,       // close once pending drains
    Abort = 16,               // close with a reset
}

/// <summary>Slots with generations and a free list; grows by doubling (the only allocation, amortised).</summary>
internal sealed class ConnectionTable
{
    private ConnectionSlot[] _slots;
    private int[] _free;
    private int _freeCount;

    internal ConnectionTable(int capacity)
    {
        capacity = Math.Max(capacity, 16);
        _slots = new ConnectionSlot[capacity];
        _free = new int[capacity];
        for (int i = 0; i < capacity; i++)
            _free[i] = capacity - 1 - i;
        _freeCount = capacity;
    }

    internal int Count { get; private set; }

    internal int Capacity => _slots.Length;

    internal ref ConnectionSlot this[int slot] => ref _slots[slot];

    /// <summary>Takes a free slot and advances its generation.</summary>
    internal int Allocate()
    {
        if (_freeCount == 0)
            Grow();
        int slot = _free[--_freeCount];
        ref ConnectionSlot s = ref _slots[slot];
        s.Generation++;
        s.State = SlotState.Open;
        s.Flags = SlotFlags.None;
        s.CloseReason = default;
        Count++;
        return slot;
    }

    internal void Release(int slot)
    {
        ref ConnectionSlot s = ref _slots[slot];
        if (s.Pending is not null)
            ArrayPool<byte>.Shared.Return(s.Pending);
        uint generation = s.Generation;
        s = default;
        s.Generation = generation;
        _free[_freeCount++] = slot;
        Count--;
    }

    /// <summary>The slot of <paramref name="id"/> if it is the slot's current, open connection.</summary>
    internal bool TryGet(ConnectionId id, out int slot)
    {
        slot = id.Slot;
        return (uint)slot < (uint)_slots.Length && _slots[slot].Generation == id.Generation && _slots[slot].State == SlotState.Open;
    }

    /// <summary>Like <see cref="TryGet"/> for a poller token (generation in the high half).</summary>
    internal bool TryGetByToken(ulong token, out int slot)
    {
        slot = (int)(uint)token;
        return (uint)slot < (uint)_slots.Length && _slots[slot].Generation == (uint)(token >> 32) && _slots[slot].State == SlotState.Open;
    }

    internal static ulong Token(int slot, uint generation) => ((ulong)generation << 32) | (uint)slot;

    /// <summary>Appends to the slot's unsent tail (renting or growing its buffer).</summary>
    internal static void AppendPending(ref ConnectionSlot s, ReadOnlySpan<byte> data)
    {
        int needed = s.PendingCount + data.Length;
        if (s.Pending is null || s.PendingStart + needed > s.Pending.Length)
        {
            byte[] buffer = s.Pending is not null && needed <= s.Pending.Length
                ? s.Pending
                : ArrayPool<byte>.Shared.Rent(Math.Max(needed, 4096));
            if (s.Pending is not null)
            {
                s.Pending.AsSpan(s.PendingStart, s.PendingCount).CopyTo(buffer);
                if (!ReferenceEquals(buffer, s.Pending))
                    ArrayPool<byte>.Shared.Return(s.Pending);
            }

            s.Pending = buffer;
            s.PendingStart = 0;
        }

        data.CopyTo(s.Pending.AsSpan(s.PendingStart + s.PendingCount));
        s.PendingCount += data.Length;
    }

    /// <summary>Drops <paramref name="sent"/> bytes from the tail; returns the buffer to the pool when empty.</summary>
    internal static void ConsumePending(ref ConnectionSlot s, int sent)
    {
        s.PendingStart += sent;
        s.PendingCount -= sent;
        if (s.PendingCount == 0)
        {
            ArrayPool<byte>.Shared.Return(s.Pending!);
            s.Pending = null;
            s.PendingStart = 0;
        }
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
