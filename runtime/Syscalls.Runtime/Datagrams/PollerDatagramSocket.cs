using System;
using Syscalls.Runtime.Backends.Common;
using Syscalls.Runtime.Sockets;

namespace Syscalls.Runtime;

/// <summary>A datagram socket on a readiness loop (epoll, kqueue, poll, AFD, WSAPoll): each operation makes its
/// non-blocking call at once (recvfrom straight into the caller's memory, sendto from it) and waits for readiness only
/// on EAGAIN.</summary>
/// <remarks>Edge-triggered pollers register the socket once for both directions. Level-triggered ones add a direction
/// when an operation parks and drop it lazily, at the first event that finds nothing waiting, so a receive loop does
/// not pay a poller update per datagram. A hang-up or error the poller reports to a level registration with nothing
/// waiting (a connected socket's ICMP error: epoll reports EPOLLERR whatever the interest) stops the watching until an
/// operation parks, so the error stays queued for the receive that reads it instead of spinning the loop. Loop thread
/// only.</remarks>
internal sealed class PollerDatagramSocket : AsyncDatagramSocket, IReadinessTarget
{
    private readonly PollerDriver _driver;
    private readonly bool _edge;
    private ulong _token;
    private bool _registered;
    private Interest _interest;

    private PollerDatagramSocket(EventLoop loop, PollerDriver driver, SocketHandle handle, NetEndpoint local)
        : base(loop, handle, local)
    {
        _driver = driver;
        _edge = driver.EdgeTriggered;
    }

    private int Fd => Handle.Descriptor;

    internal static PollerDatagramSocket Create(EventLoop loop, PollerDriver driver, SocketHandle handle, NetEndpoint local)
    {
        var socket = new PollerDatagramSocket(loop, driver, handle, local);
        if (socket._edge)
            socket.Register(Interest.Readable | Interest.Writable).ThrowIfFailed();
        return socket;
    }

    // ---------------------------------------------------------------- operations

    private protected override void BeginReceive()
    {
        if (!TryReceive())
            Watch(Interest.Readable);
    }

    private protected override void BeginSend()
    {
        if (!TrySend())
            Watch(Interest.Writable);
    }

    // Nothing is in the kernel: the operation stops waiting, and a level registration drops the direction at its next
    // event.
    private protected override void CancelReceive() => PendingReceive.FailCanceled();

    private protected override void CancelSend() => PendingSend.FailCanceled();

    /// <summary>recvfrom until a datagram, EAGAIN (false: wait) or an error the caller gets.</summary>
    private bool TryReceive()
    {
        ReceiveOperation op = PendingReceive;
        while (true)
        {
            Span<byte> buffer = op.Buffer.Span;
            Result<int> r = SocketCalls.ReceiveDatagram(Fd, buffer, out NetEndpoint from, out bool truncated);
            if (r.TryGetValue(out int length))
            {
                // Linux reports the real length of a cut datagram (MSG_TRUNC); Windows and macOS only that it was cut.
                bool known = !truncated || length > buffer.Length;
                op.Complete(Received(length, Math.Min(length, buffer.Length), from, known));
                return true;
            }

            if (r.Error.Kind == ErrorKind.WouldBlock)
                return false;
            if (r.Error.Kind == ErrorKind.Interrupted || IsIgnorable(r.Error))
                continue;
            op.Fail(new OsException(r.Error));
            return true;
        }
    }

    /// <summary>sendto until sent, EAGAIN (false: wait) or an error the caller gets.</summary>
    private bool TrySend()
    {
        SendOperation op = PendingSend;
        while (true)
        {
            Result<int> r = SocketCalls.SendDatagram(Fd, op.Data.Span, op.Destination);
            if (r.IsSuccess)
            {
                op.Complete(r.Value);
                return true;
            }

            if (r.Error.Kind == ErrorKind.WouldBlock)
                return false;
            if (r.Error.Kind == ErrorKind.Interrupted)
                continue;
            op.Fail(new OsException(r.Error));
            return true;
        }
    }

    // ---------------------------------------------------------------- readiness

    public void OnReadiness(Readiness readiness)
    {
        if (Closed)
            return;
        const Readiness ReadSide = Readiness.Readable | Readiness.ReadClosed | Readiness.Closed | Readiness.Error;
        const Readiness WriteSide = Readiness.Writable | Readiness.Closed | Readiness.Error;
        if ((readiness & ReadSide) != 0 && PendingReceive.IsPending && !TryReceive())
            Watch(Interest.Readable);
        if (Closed)
            return;
        if ((readiness & WriteSide) != 0 && PendingSend.IsPending && !TrySend())
            Watch(Interest.Writable);
        if (Closed || _edge)
            return;
        Interest waiting = (PendingReceive.IsPending ? Interest.Readable : 0) | (PendingSend.IsPending ? Interest.Writable : 0);
        if (waiting == Interest.None && (readiness & (Readiness.Closed | Readiness.Error)) != 0)
        {
            StopWatching();
            return;
        }

        if ((_interest & ~waiting) != 0)
            Modify(_interest & waiting);   // the lazy drop
    }

    public void OnDispatchFailed(Exception error) => DispatchFailed(error);

    /// <summary>A parked operation needs <paramref name="direction"/>: edge registrations have it already.</summary>
    private void Watch(Interest direction)
    {
        if (_edge || Closed)
            return;
        if (!_registered)
        {
            Result r = Register(direction);
            if (!r.IsSuccess)
                FailParked(r.Error);
            return;
        }

        if ((_interest & direction) == 0)
            Modify(_interest | direction);
    }

    private Result Register(Interest interest)
    {
        Result<ulong> token = _driver.Register(Handle, this, interest, _edge ? TriggerMode.Edge : TriggerMode.Level);
        if (!token.TryGetValue(out _token))
            return token.Error;
        _registered = true;
        _interest = interest;
        return Result.Success;
    }

    private void Modify(Interest interest)
    {
        Result r = _driver.Modify(Handle, _token, interest, TriggerMode.Level);
        if (r.IsSuccess)
            _interest = interest;
        else
            FailParked(r.Error);
    }

    private void StopWatching()
    {
        if (!_registered)
            return;
        _driver.Deregister(Handle, _token);
        _registered = false;
        _interest = Interest.None;
    }

    /// <summary>The poller refused the registration: the waiting operations get its error.</summary>
    private void FailParked(OsError error)
    {
        if (PendingReceive.IsPending)
            PendingReceive.Fail(new OsException(error));
        if (PendingSend.IsPending)
            PendingSend.Fail(new OsException(error));
    }

    // ---------------------------------------------------------------- close

    private protected override void CloseSocket()
    {
        StopWatching();
        Handle.Dispose();
    }

    private protected override bool IsDrained => true;
}
