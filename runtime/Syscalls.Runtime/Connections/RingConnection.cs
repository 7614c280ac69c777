using System;
using System.Buffers;
using System.Runtime.CompilerServices;
using Syscalls.Runtime.Sockets;

namespace Syscalls.Runtime;

/// <summary>A connection on a completion loop (io_uring, IOCP, the emulated ring). Receiving: a multishot receive
/// stays armed and lands in the loop's shared buffer group; what arrives is copied into the caller's memory, or kept
/// (a few buffers at most) until it is asked for. On a single-shot ring (IOCP) a receive first waits without a buffer
/// (<see cref="RingOpcode.PollReadable"/>, a zero-byte WSARecv), then receives into a pooled buffer. Idle connections
/// hold no buffer either way. Sending: bytes are copied into pinned send buffers (up to the send window) and every send
/// of one loop iteration goes out in one submission before the loop waits; one send is in flight per connection.</summary>
/// <remarks>Closing goes through the ring (it cancels what is in flight on the descriptor); the connection's slot and
/// its <see cref="AsyncConnection.Closed"/> wait for every final completion, so no buffer or descriptor is reused under
/// the kernel. Loop thread only.</remarks>
internal sealed partial class RingConnection : AsyncConnection, ICompletionTarget, IFlushTarget
{
    private const byte TagRecv = 1, TagSend = 2, TagClose = 3, TagCancel = 4, TagConnect = 5;
    private const int MaxChunks = 4;

    private readonly RingDriver _ring;
    private readonly UserData _id;
    private Chunks _chunks;
    private int _chunkHead;
    private int _chunkCount;
    private bool _recvArmed;          // a multishot receive, a PollReadable or a single-shot Recv is in flight
    private bool _recvIsPoll;         // single-shot: the armed operation is the PollReadable (no buffer)
    private int _recvBuffer = -1;     // single-shot: the pool buffer the armed Recv fills
    private bool _dataReady;          // single-shot: PollReadable reported data; receive without waiting again
    private bool _starved;            // the group ran dry (ENOBUFS): re-armed once buffers come back
    private bool _flushRequested;
    private int _cancelsInFlight;
    private bool _endOfStream;
    private OsError _error;

    private RingConnection(EventLoop loop, RingDriver ring, SocketHandle handle, NetEndpoint local, NetEndpoint remote)
        : base(loop, handle, local, remote)
    {
        _ring = ring;
        _id = ring.Register(this);
    }

    /// <summary>Wraps an accepted (or connected) socket; loop thread.</summary>
    internal static Result<AsyncConnection> Adopt(EventLoop loop, RingDriver ring, SocketHandle handle, NetEndpoint local, NetEndpoint remote)
    {
        var c = new RingConnection(loop, ring, handle, local, remote);
        c.Track();
        c.MarkOpened();
        c.ArmReceive();
        return c;
    }

    public override int PendingSendBytes => _queued;

    private UserData Tagged(byte tag) => _id.WithTag(tag);

    // ---------------------------------------------------------------- receive

    private protected override bool TryReceive(Span<byte> buffer, out int received, out OsError error)
    {
        received = 0;
        error = default;
        if (State is ConnectionState.Closing or ConnectionState.Closed)
        {
            error = OsError.FromKind(ErrorKind.ConnectionAborted);
            return true;
        }

        if (_chunkCount > 0)
        {
            received = TakeChunks(buffer);
            return true;
        }

        if (!_error.IsNone)
        {
            error = _error;
            return true;
        }

        if (_endOfStream)
            return true;
        ArmReceive();
        return false;
    }

    private protected override void ParkReceive() => ArmReceive();

    /// <summary>The caller's receive was canceled: cancel the kernel's too (it is re-armed by the next receive).</summary>
    private protected override void CancelReceive()
    {
        if (_recvArmed)
            SubmitCancel(TagRecv);
    }

    /// <summary>Keeps a receive in flight: always on a multishot ring (until throttled), only while someone waits on a
    /// single-shot one.</summary>
    private void ArmReceive()
    {
        if (_recvArmed || _endOfStream || !_error.IsNone || _starved || State is ConnectionState.Closing or ConnectionState.Closed
            || State == ConnectionState.Connecting || _chunkCount >= MaxChunks)
            return;
        if (_ring.Multishot)
        {
            _recvArmed = true;
            _ring.Submit(RingOperation.RecvMultishot(Handle, RingDriver.ReceiveGroup, Tagged(TagRecv)));
            return;
        }

        if (!PendingReceive.IsPending)
            return;   // single-shot: nothing is received until asked for
        if (_ring.PollFirst && !_dataReady)
        {
            _recvArmed = true;
            _recvIsPoll = true;
            _ring.Submit(RingOperation.PollReadable(Handle, Tagged(TagRecv)));
            return;
        }

        if (!_ring.ReceivePool.TryRent(out int buffer))
        {
            Starve();
            return;
        }

        _dataReady = false;
        _recvArmed = true;
        _recvBuffer = buffer;
        _ring.Submit(RingOperation.Recv(Handle, _ring.ReceivePool.Slice(buffer, 0, _ring.ReceivePool.BufferSize), Tagged(TagRecv)));
    }

    private void OnReceiveCompletion(in RingCompletion c)
    {
        if (_recvIsPoll)
        {
            OnReadable(in c);
            return;
        }

        int buffer = c.BufferId;
        bool lent = (c.Flags & RingCompletionFlags.Buffer) != 0;
        if (!_ring.Multishot)
        {
            buffer = _recvBuffer;
            _recvBuffer = -1;
            lent = buffer >= 0;
            if (c.IsSuccess && c.Result == _ring.ReceivePool.BufferSize)
                _dataReady = true;   // it filled the buffer: likely more behind it
        }

        if (!c.HasMore)
            _recvArmed = false;
        if (c.IsSuccess && c.Result > 0 && lent && State is not (ConnectionState.Closing or ConnectionState.Closed))
            Deliver(buffer, c.Result);
        else if (lent)
            _ring.ReturnReceiveBuffer(buffer);
        if (c.HasMore || State == ConnectionState.Closed)
            return;
        if (State == ConnectionState.Closing)
        {
            TryRelease();
            return;
        }

        if (c.IsSuccess && c.Result == 0)
        {
            _endOfStream = true;
            CompletePendingReceiveFromState();
        }
        else if (c.Error.Kind == ErrorKind.OutOfMemory)
        {
            Starve();   // ENOBUFS: the group is empty
        }
        else if (c.IsSuccess || c.Error.Kind == ErrorKind.Canceled)
        {
            if (_ring.Multishot || PendingReceive.IsPending)
                ArmReceive();   // ended on its own, or canceled (throttle, a canceled receive): re-armed unless held back
        }
        else
        {
            _error = c.Error;
            CompletePendingReceiveFromState();
        }
    }

    /// <summary>Single-shot: the PollReadable ended: data (or the end, or an error) is there.</summary>
    private void OnReadable(in RingCompletion c)
    {
        _recvArmed = false;
        _recvIsPoll = false;
        if (State == ConnectionState.Closing)
        {
            TryRelease();
            return;
        }

        if (c.IsSuccess)
        {
            _dataReady = true;
            ReceiveOperation op = PendingReceive;
            if (op.IsPending && op.Buffer.IsEmpty)
                op.Complete(0);   // a zero-byte receive asked only whether data is there
            else
                ArmReceive();
        }
        else if (c.Error.Kind == ErrorKind.Canceled)
        {
            ArmReceive();
        }
        else
        {
            _error = c.Error;
            CompletePendingReceiveFromState();
        }
    }

    /// <summary>Data landed in <paramref name="buffer"/>: straight into a waiting receive, else kept for the next.</summary>
    private void Deliver(int buffer, int length)
    {
        ReceiveOperation op = PendingReceive;
        if (op.IsPending && _chunkCount == 0 && !op.Buffer.IsEmpty)
        {
            Span<byte> target = op.Buffer.Span;
            int n = Math.Min(length, target.Length);
            _ring.ReceivePool.GetSpan(buffer)[..n].CopyTo(target);
            if (n < length)
                Keep(buffer, n, length - n);
            else
                _ring.ReturnReceiveBuffer(buffer);
            op.Complete(n);
            return;
        }

        Keep(buffer, 0, length);
        if (op.IsPending && op.Buffer.IsEmpty)
            op.Complete(0);
    }

    /// <summary>Queues received bytes no one asked for yet. When the group runs low the bytes move to a rented array
    /// and the buffer goes back at once, so slow readers cannot starve the loop's other connections; a connection
    /// holding <see cref="MaxChunks"/> stops receiving until it is read.</summary>
    private void Keep(int buffer, int offset, int length)
    {
        if (_chunkCount == MaxChunks)
        {
            // Completions the kernel posted before the throttle's cancel took effect: merged into the last chunk, so
            // nothing is overwritten and the order holds.
            AppendToLastChunk(buffer, offset, length);
            return;
        }

        ref Chunk chunk = ref _chunks[(_chunkHead + _chunkCount) % MaxChunks];
        _chunkCount++;
        if (_ring.FreeReceiveBuffers < _ring.ReceivePool.BufferCount / 4)
        {
            byte[] copy = ArrayPool<byte>.Shared.Rent(length);
            _ring.ReceivePool.GetSpan(buffer).Slice(offset, length).CopyTo(copy);
            _ring.ReturnReceiveBuffer(buffer);
            chunk = new Chunk(-1, copy, 0, length);
        }
        else
        {
            chunk = new Chunk(buffer, null, offset, length);
        }

        if (_chunkCount >= MaxChunks && _recvArmed && _ring.Multishot)
            SubmitCancel(TagRecv);   // throttled: re-armed by the read that makes room
    }

    private void AppendToLastChunk(int buffer, int offset, int length)
    {
        ref Chunk last = ref _chunks[(_chunkHead + _chunkCount - 1) % MaxChunks];
        byte[] merged = ArrayPool<byte>.Shared.Rent(last.Length + length);
        ReadOnlySpan<byte> kept = last.Heap is { } heap
            ? heap.AsSpan(last.Offset, last.Length)
            : _ring.ReceivePool.GetSpan(last.BufferId).Slice(last.Offset, last.Length);
        kept.CopyTo(merged);
        _ring.ReceivePool.GetSpan(buffer).Slice(offset, length).CopyTo(merged.AsSpan(last.Length));
        int total = last.Length + length;
        ReleaseChunk(ref last);
        _ring.ReturnReceiveBuffer(buffer);
        last = new Chunk(-1, merged, 0, total);
    }

    /// <summary>Copies kept bytes into <paramref name="target"/>; a zero-length target takes nothing.</summary>
    private int TakeChunks(Span<byte> target)
    {
        int total = 0;
        while (_chunkCount > 0 && total < target.Length)
        {
            ref Chunk chunk = ref _chunks[_chunkHead];
            ReadOnlySpan<byte> bytes = chunk.Heap is { } heap
                ? heap.AsSpan(chunk.Offset, chunk.Length)
                : _ring.ReceivePool.GetSpan(chunk.BufferId).Slice(chunk.Offset, chunk.Length);
            int n = Math.Min(bytes.Length, target.Length - total);
            bytes[..n].CopyTo(target[total..]);
            total += n;
            if (n < bytes.Length)
            {
                chunk = new Chunk(chunk.BufferId, chunk.Heap, chunk.Offset + n, chunk.Length - n);
                break;
            }

            ReleaseChunk(ref chunk);
            _chunkHead = (_chunkHead + 1) % MaxChunks;
            _chunkCount--;
        }

        if (_chunkCount < MaxChunks)
            ArmReceive();
        return total;
    }

    private void ReleaseChunk(ref Chunk chunk)
    {
        if (chunk.Heap is not null)
            ArrayPool<byte>.Shared.Return(chunk.Heap);
        else
            _ring.ReturnReceiveBuffer(chunk.BufferId);
        chunk = default;
    }

    private void DropChunks()
    {
        while (_chunkCount > 0)
        {
            ReleaseChunk(ref _chunks[_chunkHead]);
            _chunkHead = (_chunkHead + 1) % MaxChunks;
            _chunkCount--;
        }
    }

    /// <summary>The end of the stream or an error arrived: a waiting receive learns it now.</summary>
    private void CompletePendingReceiveFromState()
    {
        ReceiveOperation op = PendingReceive;
        if (!op.IsPending || _chunkCount > 0)
            return;
        if (_error.IsNone)
            op.Complete(0);
        else
            op.Fail(new OsException(_error));
    }

    private void Starve()
    {
        if (_starved)
            return;
        _starved = true;
        RequestFlush();
    }

    private void RequestFlush()
    {
        if (_flushRequested)
            return;
        _flushRequested = true;
        _ring.RequestFlush(this);
    }

    public void FlushBeforeWait()
    {
        _flushRequested = false;
        if (_starved && State is ConnectionState.Open or ConnectionState.WriteShutdown)
        {
            if (_ring.FreeReceiveBuffers > 0)
            {
                _starved = false;
                ArmReceive();
            }
            else
            {
                RequestFlush();   // still none: look again next iteration
            }
        }

        if (!_sendInFlight && _sendHead >= 0 && State != ConnectionState.Closed && !_closeBegun)
            SubmitSend();
    }

    private void SubmitCancel(byte targetTag)
    {
        _cancelsInFlight++;
        _ring.Submit(RingOperation.Cancel(Tagged(targetTag), Tagged(TagCancel)));
    }

    // ---------------------------------------------------------------- completions

    public void OnCompletion(in RingCompletion completion)
    {
        switch (completion.UserData.Tag)
        {
            case TagRecv:
                OnReceiveCompletion(in completion);
                break;
            case TagSend:
                OnSendCompletion(in completion);
                break;
            case TagCancel:
                _cancelsInFlight--;
                TryRelease();
                break;
            case TagClose:
                _closeInFlight = false;
                TryRelease();
                break;
            case TagConnect:
                OnConnectCompletion(in completion);
                break;
        }
    }

    public void OnDispatchFailed(Exception error) => DispatchFailed(error);

    private protected override bool IsDrained => State == ConnectionState.Closed;

    private readonly record struct Chunk(int BufferId, byte[]? Heap, int Offset, int Length);

    [InlineArray(MaxChunks)]
    private struct Chunks
    {
        private Chunk _first;
    }
}
