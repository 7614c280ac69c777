using Syscalls.Runtime.Backends.Windows;
using Syscalls.Windows;
using static Syscalls.Windows.Ws2_32;

namespace Syscalls.Runtime.Backends.Iocp;

/// <summary>ReceiveFrom and SendTo as overlapped WSARecvFrom / WSASendTo. The sender's address, its length and the
/// destination live in the slot's native block, which the kernel may write until the packet is dequeued.</summary>
/// <remarks>A datagram longer than the buffer fails the receive with WSAEMSGSIZE after filling the buffer: that is
/// STATUS_BUFFER_OVERFLOW, a warning rather than an error, so the operation did run and (when it fails at once) a
/// completion packet still follows unless the handle skips the port on success. Whether Windows skips it for a
/// warning is not documented (lalinsky/zio #733 saw the packet come without the skip mode; libuv relies on its absence
/// with it), so datagram sockets are never put in that mode: every receive then completes through its packet, and
/// WSAEMSGSIZE becomes <see cref="RingCompletionFlags.Truncated"/> with the buffer's length (Winsock cannot tell the
/// datagram's).</remarks>
internal sealed partial class IocpRing
{
    // reason: the slot's block is ours until its packet is dequeued (or it completes inline); the buffer is a pinned
    // POH slab marked in flight until Finish
    private unsafe bool IssueDatagram(ref Op op)
    {
        IocpOperation* block = op.Block;
        fixed (byte* data = op.Buffer.Span)
        {
            block->Buffer.buf = data;
            block->Buffer.len = (uint)op.Buffer.Length;
        }

        if (op.Opcode == RingOpcode.ReceiveFrom)
        {
            block->AddressLength = Winsock.SockaddrCapacity;
            return WSARecvFrom(op.Socket, &block->Buffer, 1, &block->Bytes, &block->Flags, (sockaddr*)block->Addresses,
                &block->AddressLength, &block->Overlapped, null) == 0;
        }

        // A default endpoint sends to the connected peer: WSASendTo ignores a null address on a connected socket.
        int length = op.Endpoint.IsValid ? Winsock.WriteSockaddr(op.Endpoint, block->Addresses) : 0;
        return WSASendTo(op.Socket, &block->Buffer, 1, &block->Bytes, 0, length == 0 ? null : (sockaddr*)block->Addresses,
            length, &block->Overlapped, null) == 0;
    }

    /// <summary>The receive ran but the datagram was longer than the buffer (see the remarks).</summary>
    private static bool IsCutDatagram(RingOpcode opcode, OsError error)
        => opcode == RingOpcode.ReceiveFrom && error.Code == WSAEMSGSIZE;

    // reason: the block is still the slot's until Complete releases it; the address length was written by the kernel
    private unsafe void FinishReceiveFrom(int slot, int bytes, bool truncated)
    {
        IocpOperation* block = _ops[slot].Block;
        NetEndpoint source = Winsock.ReadSockaddr(block->Addresses, block->AddressLength);
        // A cut datagram filled the buffer, whatever count the packet carries.
        int result = truncated ? _ops[slot].Buffer.Length : bytes;
        Complete(slot, result, default, truncated ? RingCompletionFlags.Truncated : RingCompletionFlags.None, source);
    }

    /// <summary>Only stream sockets skip the port on success (see the remarks); unknown counts as datagram.</summary>
    private static bool IsStreamSocket(nuint socket)
    {
        Result<int> type = Winsock.GetSockOpt(socket, (int)SOL_SOCKET, SO_TYPE);
        return type.IsSuccess && type.Value == SOCK_STREAM;
    }
}
