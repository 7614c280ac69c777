using System;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Syscalls.Runtime.Backends.Common;
using Syscalls.Runtime.Sockets;

namespace Syscalls.Runtime;

/// <summary>The client side: a non-blocking connect, then wait for writability and read the outcome (SO_ERROR).</summary>
internal sealed partial class PollerConnection
{
    private ConnectOperation? _connect;
    private LoopTimer? _connectTimer;

    private bool IsConnecting => _connect is not null;

    /// <summary>Starts a connect on the loop thread; completes with the open connection.</summary>
    internal static ValueTask<AsyncConnection> ConnectOnLoop(EventLoop loop, PollerDriver driver, NetEndpoint remote, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        Result<SocketHandle> created = SocketOps.CreateTcp(remote.Family);
        if (!created.TryGetValue(out SocketHandle? handle))
            return ValueTask.FromException<AsyncConnection>(new OsException(created.Error, $"socket for {remote}"));
        SocketCalls.SetNoDelay(handle.Descriptor, true);
        Result started = SocketCalls.Connect(handle.Descriptor, remote);
        if (!started.IsSuccess && started.Error.Kind is not (ErrorKind.InProgress or ErrorKind.WouldBlock))
        {
            handle.Dispose();
            return ValueTask.FromException<AsyncConnection>(ConnectError(started.Error, remote));
        }

        NetEndpoint local = SocketCalls.GetLocalEndpoint(handle.Descriptor).GetValueOrDefault(default);
        var c = new PollerConnection(loop, driver, handle, local, remote);
        Result registered = c.RegisterInitial(Interest.Writable);
        if (!registered.IsSuccess)
        {
            handle.Dispose();
            return ValueTask.FromException<AsyncConnection>(ConnectError(registered.Error, remote));
        }

        c.Track();
        c._connect = new ConnectOperation(c);
        short token = c._connect.Start(cancellationToken);
        if (timeout > TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            c._connectTimer = loop.CreateTimer(static s => ((PollerConnection)s!).ConnectTimedOut(), c);
            c._connectTimer.Start(timeout);
        }

        // Connected at once (loopback can be that quick): the registration reports it writable in the next wait.
        return new ValueTask<AsyncConnection>(c._connect, token);
    }

    internal static OsException ConnectError(OsError error, NetEndpoint remote) => new(error, $"connect to {remote}: {error}");

    /// <summary>While connecting, readiness means the connect finished: read its outcome. True when handled.</summary>
    private bool OnConnectReadiness(Readiness readiness)
    {
        if (!IsConnecting)
            return false;
        if ((readiness & (Readiness.Writable | Readiness.Error | Readiness.Closed)) == 0)
            return true;
        OsError error = SocketCalls.GetPendingError(Fd);
        if (error.IsNone && (readiness & Readiness.Writable) == 0)
            error = OsError.FromKind(ErrorKind.ConnectionRefused);   // a hang-up with no error recorded
        ConnectOperation op = _connect!;
        _connect = null;
        _connectTimer?.Stop();
        if (!error.IsNone)
        {
            FinishClose(error);
            op.Fail(ConnectError(error, RemoteEndpoint));
            return true;
        }

        MarkOpened();
        _writeHint = true;
        if (!_edge)
            UpdateInterest();
        op.Complete(this);
        return true;
    }

    private void ConnectTimedOut()
    {
        if (!IsConnecting)
            return;
        OsError timedOut = OsError.FromKind(ErrorKind.TimedOut);
        ConnectOperation op = _connect!;
        _connect = null;
        FinishClose(timedOut);
        op.Fail(ConnectError(timedOut, RemoteEndpoint));
    }

    /// <summary>Abort or loop shutdown while connecting: the connect fails with the reason.</summary>
    private void FailConnect(OsError reason)
    {
        if (!IsConnecting)
            return;
        ConnectOperation op = _connect!;
        _connect = null;
        _connectTimer?.Stop();
        op.Fail(ConnectError(reason, RemoteEndpoint));
    }

    private void CancelConnect()
    {
        if (!IsConnecting)
            return;
        ConnectOperation op = _connect!;
        _connect = null;
        _connectTimer?.Stop();
        FinishClose(OsError.FromKind(ErrorKind.Canceled));
        op.FailCanceled();
    }

    /// <summary>The pending connect of a client connection.</summary>
    private sealed class ConnectOperation : LoopOperation<AsyncConnection>
    {
        private readonly PollerConnection _owner;

        internal ConnectOperation(PollerConnection owner)
            : base(owner.Loop) => _owner = owner;

        protected override string Kind => "connect";

        protected override string OwnerKind => "connection";

        protected override void OnCancel() => _owner.CancelConnect();
    }
}
