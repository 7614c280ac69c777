using System;
using Syscalls.Runtime.Sockets;

namespace Syscalls.Runtime;

/// <summary>A datagram socket on a completion loop (io_uring, IOCP, the emulated ring): a receive is a
/// <see cref="RingOpcode.ReceiveFrom"/> into the socket's pinned 64 KiB buffer, submitted only while someone waits,
/// then copied into the caller's memory; a send copies the datagram into the socket's pinned send buffer and submits a
/// <see cref="RingOpcode.SendTo"/>, completing when the kernel did.</summary>
/// <remarks>The receive buffer holds any UDP datagram whole, so a cut is found (and its real length known) when
/// copying into a smaller caller buffer, whatever the ring says. A cancellation asks the ring to cancel and waits for
/// its answer: an operation the kernel finished first completes normally, so no datagram is dropped and none is sent
/// unseen. Closing goes through the ring (which cancels what is in flight on the descriptor); the slot and the buffers
/// stay until every final completion. Loop thread only.</remarks>
internal sealed class RingDatagramSocket : AsyncDatagramSocket, ICompletionTarget
{
    private const byte TagReceive = 1, TagSend = 2, TagCancel = 3, TagClose = 4;
    private const int BufferSize = MaxDatagramSize + 1;   // 64 KiB: nothing UDP carries is cut

    private readonly RingDriver _ring;
    private readonly UserData _id;
    private readonly RingBufferPool _buffers = new(BufferSize, 2);
    private readonly int _receiveBuffer;
    private readonly int _sendBuffer;
    private bool _receiveInFlight;
    private bool _sendInFlight;
    private bool _closeInFlight;
    private int _cancelsInFlight;
    private bool _released;

    internal RingDatagramSocket(EventLoop loop, RingDriver ring, SocketHandle handle, NetEndpoint local)
        : base(loop, handle, local)
    {
        _ring = ring;
        _buffers.TryRent(out _receiveBuffer);
        _buffers.TryRent(out _sendBuffer);
        _id = ring.Register(this);
    }

    /// <summary>A ReceiveFrom is with the kernel (tests: a canceled receive must not leave one behind).</summary>
    internal bool ReceiveInFlight => _receiveInFlight;

    private UserData Tagged(byte tag) => _id.WithTag(tag);

    // ---------------------------------------------------------------- operations

    private protected override void BeginReceive()
    {
        _receiveInFlight = true;
        _ring.Submit(RingOperation.ReceiveFrom(Handle, _buffers.Slice(_receiveBuffer, 0, BufferSize), Tagged(TagReceive)));
    }

    private protected override void BeginSend()
    {
        SendOperation op = PendingSend;
        op.Data.Span.CopyTo(_buffers.GetSpan(_sendBuffer));
        _sendInFlight = true;
        _ring.Submit(RingOperation.SendTo(Handle, _buffers.Slice(_sendBuffer, 0, op.Data.Length), op.Destination, Tagged(TagSend)));
    }

    private protected override void CancelReceive()
    {
        if (_receiveInFlight)
            SubmitCancel(TagReceive);
    }

    private protected override void CancelSend()
    {
        if (_sendInFlight)
            SubmitCancel(TagSend);
    }

    private void SubmitCancel(byte target)
    {
        _cancelsInFlight++;
        _ring.Submit(RingOperation.Cancel(Tagged(target), Tagged(TagCancel)));
    }

    // ---------------------------------------------------------------- completions

    public void OnCompletion(in RingCompletion completion)
    {
        switch (completion.UserData.Tag)
        {
            case TagReceive:
                _receiveInFlight = false;
                if (!Closed)
                    OnReceived(in completion);
                break;
            case TagSend:
                _sendInFlight = false;
                if (!Closed)
                    OnSent(in completion);
                break;
            case TagCancel:
                _cancelsInFlight--;   // the target's own completion says how it ended
                break;
            case TagClose:
                _closeInFlight = false;
                break;
        }

        if (Closed)
            TryRelease();
    }

    public void OnDispatchFailed(Exception error) => DispatchFailed(error);

    private void OnReceived(in RingCompletion c)
    {
        ReceiveOperation op = PendingReceive;
        if (!op.IsPending)
            return;
        if (c.IsSuccess)
        {
            Span<byte> target = op.Buffer.Span;
            int copied = Math.Min(Math.Min(c.Result, BufferSize), target.Length);
            _buffers.GetSpan(_receiveBuffer)[..copied].CopyTo(target);
            // A ring that cut the datagram to our buffer and could not say by how much (IOCP) leaves the length
            // unknown; none does for UDP, whose datagrams all fit.
            op.Complete(Received(c.Result, copied, c.Source, lengthKnown: !c.IsTruncated || c.Result > BufferSize));
        }
        else if (c.Error.Kind == ErrorKind.Canceled && op.CancellationToken.IsCancellationRequested)
        {
            op.FailCanceled();
        }
        else if (IsIgnorable(c.Error) || c.Error.Kind is ErrorKind.Canceled or ErrorKind.Interrupted)
        {
            BeginReceive();   // Windows' ICMP report on an unconnected socket, or a cancel meant for the last receive
        }
        else
        {
            op.Fail(new OsException(c.Error));
        }
    }

    private void OnSent(in RingCompletion c)
    {
        SendOperation op = PendingSend;
        if (!op.IsPending)
            return;
        if (c.IsSuccess)
            op.Complete(c.Result);
        else if (c.Error.Kind == ErrorKind.Canceled && op.CancellationToken.IsCancellationRequested)
            op.FailCanceled();
        else if (c.Error.Kind == ErrorKind.Canceled)
            BeginSend();   // a cancel meant for the previous send (same tag) that met this one: send it again
        else
            op.Fail(new OsException(c.Error));
    }

    // ---------------------------------------------------------------- close

    private protected override void CloseSocket()
    {
        _closeInFlight = true;
        _ring.Submit(RingOperation.Close(Handle, Tagged(TagClose)));   // cancels what is in flight on it first
        TryRelease();
    }

    private protected override bool IsDrained => _released;

    /// <summary>Frees the slot once every final completion came: the buffers are then no longer the kernel's.</summary>
    private void TryRelease()
    {
        if (_released || _receiveInFlight || _sendInFlight || _closeInFlight || _cancelsInFlight > 0)
            return;
        _released = true;
        _ring.Release(_id);
        OnDrained();
    }
}
