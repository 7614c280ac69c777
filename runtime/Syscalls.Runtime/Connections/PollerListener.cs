using Syscalls.Runtime.Backends.Common;
using Syscalls.Runtime.Sockets;

namespace Syscalls.Runtime;

/// <summary>A listener on a readiness loop: level-triggered on readable while it wants connections, accepting until
/// EAGAIN or until its queue is full.</summary>
internal sealed class PollerListener : AsyncListener, IReadinessTarget
{
    private readonly PollerDriver _driver;
    private ulong _token;
    private bool _registered;
    private Interest _interest;

    internal PollerListener(EventLoop loop, PollerDriver driver, SocketHandle socket, NetEndpoint local, ListenerOptions options)
        : base(loop, socket, local, options) => _driver = driver;

    public void OnReadiness(Readiness readiness)
    {
        while (WantsMore)
        {
            Result<int> accepted = SocketCalls.Accept(Socket.Descriptor, blocking: false);
            if (accepted.TryGetValue(out int fd))
            {
                OnAccepted(new SocketHandle(fd));
                continue;
            }

            if (accepted.Error.Kind != ErrorKind.WouldBlock)
                OnAcceptError(accepted.Error);
            break;
        }

        if (!WantsMore && !Closed)
            PauseAccept();
    }

    public void OnDispatchFailed(System.Exception error) => Loop.ReportUnhandled(error);

    private protected override void ArmAccept() => Watch(Interest.Readable);

    private protected override void PauseAccept() => Watch(Interest.None);

    private void Watch(Interest interest)
    {
        if (Closed)
            return;
        if (!_registered)
        {
            _token = _driver.Register(Socket, this, interest, TriggerMode.Level).Value;
            _registered = true;
            _interest = interest;
            return;
        }

        if (interest != _interest && _driver.Modify(Socket, _token, interest, TriggerMode.Level).IsSuccess)
            _interest = interest;
    }

    private protected override void CloseSocket()
    {
        if (_registered)
            _driver.Deregister(Socket, _token);
        _registered = false;
        Socket.Dispose();
    }

    private protected override bool IsDrainedCore => true;

    private protected override Result<AsyncConnection> Adopt(SocketHandle accepted)
        => PollerConnection.Adopt(Loop, _driver, accepted, SocketCalls.GetLocalEndpoint(accepted.Descriptor).GetValueOrDefault(LocalEndpoint),
            SocketCalls.GetRemoteEndpoint(accepted.Descriptor).GetValueOrDefault(default));
}
