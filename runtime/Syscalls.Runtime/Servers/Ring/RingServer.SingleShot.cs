using Syscalls.Runtime.Servers.Common;

namespace Syscalls.Runtime.Servers;

/// <summary>The receive side on a ring without multishot operations and buffer groups (IOCP): per connection a
/// PollReadable (IOCP: a zero-byte WSARecv) that holds no buffer, then a Recv into a buffer rented from the receive
/// pool, issued only once data is there (and at once again after a receive that filled its buffer). Idle connections
/// so hold no buffer here either; when the pool runs dry a connection waits, as after ENOBUFS, until buffers come
/// back. Accepting is single-shot too: one Accept re-armed per completion (RingServer.cs).</summary>
internal sealed partial class RingServer
{
    private readonly bool _pollFirst;

    private void ArmSingleShot(int slot)
    {
        ref RingSlot s = ref _slots[slot];
        UserData ud = UserData.Create((uint)slot, s.Generation, TagRecv);
        if (_pollFirst && (s.Flags & ConnectionFlags.DataReady) == 0)
        {
            // Wait for data without a buffer (RecvBuffer stays -1, which marks the completion as this wait's).
            s.Flags |= ConnectionFlags.RecvArmed;
            Submit(RingOperation.PollReadable(s.Handle!, ud));
            return;
        }

        if (!_recvPool.TryRent(out int buffer))
        {
            Starve(slot);   // as ENOBUFS: re-armed when a buffer comes back
            return;
        }

        s.Flags &= ~ConnectionFlags.DataReady;
        s.RecvBuffer = buffer;
        s.Flags |= ConnectionFlags.RecvArmed;
        Submit(RingOperation.Recv(s.Handle!, _recvPool.Slice(buffer, 0, _recvSize), ud));
    }

    /// <summary>A single-shot receive or PollReadable ended. A receive hands on the buffer rented for it as a lent
    /// group buffer would be; a PollReadable leads to the receive.</summary>
    private void OnSingleShotCompleted(int slot, in RingCompletion c)
    {
        int buffer = _slots[slot].RecvBuffer;
        _slots[slot].RecvBuffer = -1;
        if (buffer < 0)
        {
            OnReadable(slot, in c);
            return;
        }

        // A full buffer means more is likely behind it: receive again at once, without waiting first. Only while buffers
        // are plentiful: that receive holds a buffer until data comes, and a stream that stopped at a buffer's end
        // would leave it held by an idle connection (enough of those starved the others, as slow readers did).
        if (c.IsSuccess && c.Result == _recvSize && FreeReceiveBuffers > ReceiveLowWater)
            _slots[slot].Flags |= ConnectionFlags.DataReady;
        OnReceived(slot, new RingCompletion(c.UserData, c.Result, c.Error, c.Flags | RingCompletionFlags.Buffer, buffer));
    }

    /// <summary>The PollReadable ended: data (or end of stream) is there, receive it into a buffer.</summary>
    private void OnReadable(int slot, in RingCompletion c)
    {
        ref RingSlot s = ref _slots[slot];
        s.Flags &= ~ConnectionFlags.RecvArmed;
        if (s.State != SlotState.Open)
        {
            TryRelease(slot);
            return;
        }

        if (c.IsSuccess)
        {
            s.Flags |= ConnectionFlags.DataReady;
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
}
