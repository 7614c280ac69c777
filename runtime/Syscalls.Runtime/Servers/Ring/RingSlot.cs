using Syscalls.Runtime.Servers.Common;
using Syscalls.Runtime.Sockets;

namespace Syscalls.Runtime.Servers;

/// <summary>Per-connection state of the ring server: about 40 bytes plus the <see cref="SocketHandle"/>; no buffer
/// while idle.</summary>
internal struct RingSlot : IConnectionSlot
{
    public int QueueHead;      // buffer refs waiting to be sent, in order (see RingServer.Transport.cs)
    public int QueueTail;
    public int RecvBuffer;     // single-shot mode: the buffer the pending receive fills, else -1
    public int PendingBytes;

    public SocketHandle? Handle { get; set; }

    public uint Generation { get; set; }

    public SlotState State { get; set; }

    public ConnectionFlags Flags { get; set; }

    public OsError CloseReason { get; set; }
}
