using System;
using System.Runtime.Versioning;
using Syscalls.Linux;
using Syscalls.Runtime.Backends.Linux;
using static Syscalls.Linux.LibC;

namespace Syscalls.Runtime.Backends.IoUring;

/// <summary>ReceiveFrom and SendTo as IORING_OP_RECVMSG / IORING_OP_SENDMSG (Linux 5.3, before every opcode the ring
/// requires): the msghdr, its one iovec and the address live in the operation's scratch block, which the kernel reads
/// (and, for a receive, writes back: msg_namelen, msg_flags) up to the final completion.</summary>
internal sealed partial class IoUringRing
{
    /// <summary>Block layout: msghdr, iovec, then the address. 56 bytes are left for it on 64-bit Linux, and an IPv6
    /// sockaddr_in6 needs 28: the kernel cuts a longer one to msg_namelen, which no IP socket sends.</summary>
    private static readonly unsafe int AddressOffset = sizeof(msghdr) + sizeof(iovec);

    private static readonly unsafe uint AddressRoom = checked((uint)(NativeScratch.BlockSize - AddressOffset));

    // reason: block is the operation's scratch block (NativeScratch.BlockSize bytes) kept until its final completion;
    // the buffer is a pinned POH slab marked in flight by the table; sa is a stack buffer copied from before returning
    private static unsafe void PrepareMessage(io_uring_sqe* sqe, byte* block, in RingOperation operation)
    {
        new Span<byte>(block, NativeScratch.BlockSize).Clear();
        var msg = (msghdr*)block;
        var iov = (iovec*)(msg + 1);
        byte* name = block + AddressOffset;
        iov->iov_base = BufferAddress(operation.Buffer);
        iov->iov_len = (nuint)operation.Buffer.Length;
        msg->msg_iov = iov;
        msg->msg_iovlen = 1;
        if (operation.Opcode == RingOpcode.ReceiveFrom)
        {
            msg->msg_name = name;
            msg->msg_namelen = AddressRoom;
            sqe->msg_flags = MSG_TRUNC;   // the result is then the datagram's real length, however much the buffer took
        }
        else
        {
            if (operation.Endpoint.IsValid)
            {
                byte* sa = stackalloc byte[Sys.SockaddrCapacity];
                uint length = Sys.WriteSockaddr(operation.Endpoint, sa);
                new ReadOnlySpan<byte>(sa, (int)length).CopyTo(new Span<byte>(name, (int)AddressRoom));
                msg->msg_name = name;
                msg->msg_namelen = length;
            }

            sqe->msg_flags = MSG_NOSIGNAL;
        }

        sqe->addr = (ulong)msg;
        sqe->len = 1;   // as liburing's io_uring_prep_recvmsg/sendmsg
    }

    /// <summary>A RECVMSG's success: the sender and MSG_TRUNC, which the kernel wrote back into the msghdr.</summary>
    // reason: block is the operation's scratch block, still rented (the caller returns it after this)
    private static unsafe RingCompletion ReceivedDatagram(UserData userData, int result, byte* block)
    {
        var msg = (msghdr*)block;
        NetEndpoint source = Sys.ReadSockaddr(block + AddressOffset, Math.Min(msg->msg_namelen, AddressRoom));
        bool truncated = (msg->msg_flags & MSG_TRUNC) != 0;
        return new RingCompletion(userData, result, default, truncated ? RingCompletionFlags.Truncated : 0, source);
    }
}
