using System;
using System.Buffers;
using Syscalls.Runtime.Servers.Common;
using Syscalls.Runtime.Sockets;

namespace Syscalls.Runtime.Servers;

/// <summary>Per-connection state of the poller server, kept in one array of structs (48 bytes per connection plus
/// its <see cref="SocketHandle"/>): no receive buffer while idle, an output buffer only while a send is backlogged.</summary>
internal struct PollerSlot : IConnectionSlot
{
    public byte[]? Pending;       // unsent tail, rented from ArrayPool while backlogged
    public int Fd;                // the handle's descriptor, read without a dereference on every event
    public int PendingStart;
    public int PendingCount;
    public Interest Interest;     // what the poller currently watches

    public SocketHandle? Handle { get; set; }

    public uint Generation { get; set; }

    public SlotState State { get; set; }

    public ConnectionFlags Flags { get; set; }

    public OsError CloseReason { get; set; }

    /// <summary>The poller token of a slot: the generation in the high half, so a stale event is recognised.</summary>
    internal static ulong Token(int slot, uint generation) => ((ulong)generation << 32) | (uint)slot;

    /// <summary>Appends to the unsent tail (renting or growing its buffer).</summary>
    internal void AppendPending(ReadOnlySpan<byte> data)
    {
        int needed = PendingCount + data.Length;
        if (Pending is null || PendingStart + needed > Pending.Length)
        {
            byte[] buffer = Pending is not null && needed <= Pending.Length
                ? Pending
                : ArrayPool<byte>.Shared.Rent(Math.Max(needed, 4096));
            if (Pending is not null)
            {
                Pending.AsSpan(PendingStart, PendingCount).CopyTo(buffer);
                if (!ReferenceEquals(buffer, Pending))
                    ArrayPool<byte>.Shared.Return(Pending);
            }

            Pending = buffer;
            PendingStart = 0;
        }

        data.CopyTo(Pending.AsSpan(PendingStart + PendingCount));
        PendingCount += data.Length;
    }

    /// <summary>Drops <paramref name="sent"/> bytes from the tail; returns the buffer to the pool when empty.</summary>
    internal void ConsumePending(int sent)
    {
        PendingStart += sent;
        PendingCount -= sent;
        if (PendingCount == 0)
            ReturnPending();
    }

    /// <summary>Gives the tail's buffer back to the pool (the connection is closing or drained).</summary>
    internal void ReturnPending()
    {
        if (Pending is not null)
            ArrayPool<byte>.Shared.Return(Pending);
        Pending = null;
        PendingStart = PendingCount = 0;
    }
}
