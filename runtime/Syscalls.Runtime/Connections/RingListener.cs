using Syscalls.Runtime.Backends.Common;
using Syscalls.Runtime.Sockets;

namespace Syscalls.Runtime;

/// <summary>A listener on a completion loop: a multishot accept while it wants connections (canceled when its queue is
/// full or it backs off), or one accept at a time on a ring without multishot (IOCP).</summary>
internal sealed class RingListener : AsyncListener, ICompletionTarget
{
    private const byte TagAccept = 1, TagCancel = 2, TagClose = 3;

    private readonly RingDriver _ring;
    private readonly UserData _id;
    private bool _armed;
    private int _cancelsInFlight;
    private bool _closeInFlight;

    internal RingListener(EventLoop loop, RingDriver ring, SocketHandle socket, NetEndpoint local, ListenerOptions options)
        : base(loop, socket, local, options)
    {
        _ring = ring;
        _id = ring.Register(this);
    }

    public void OnCompletion(in RingCompletion c)
    {
        switch (c.UserData.Tag)
        {
            case TagAccept:
                if (!c.HasMore)
                    _armed = false;
                if (c.IsSuccess)
                {
                    var accepted = new SocketHandle(c.Result);
                    if (Closed)
                        accepted.Dispose();
                    else
                        OnAccepted(accepted);
                }
                else
                {
                    OnAcceptError(c.Error);
                }

                if (!_armed && WantsMore)
                    ArmAccept();
                break;
            case TagCancel:
                _cancelsInFlight--;
                break;
            case TagClose:
                _closeInFlight = false;
                break;
        }

        if (Closed && IsDrainedCore)
        {
            _ring.Release(_id);
            OnDrained();
        }
    }

    public void OnDispatchFailed(System.Exception error) => Loop.ReportUnhandled(error);

    private protected override void ArmAccept()
    {
        if (_armed || Closed)
            return;
        _armed = true;
        UserData ud = _id.WithTag(TagAccept);
        _ring.Submit(_ring.MultishotAccept ? RingOperation.AcceptMultishot(Socket, ud) : RingOperation.Accept(Socket, ud));
    }

    private protected override void PauseAccept()
    {
        if (!_armed || _cancelsInFlight > 0)
            return;
        _cancelsInFlight++;
        _ring.Submit(RingOperation.Cancel(_id.WithTag(TagAccept), _id.WithTag(TagCancel)));
    }

    private protected override void CloseSocket()
    {
        _closeInFlight = true;
        _ring.Submit(RingOperation.Close(Socket, _id.WithTag(TagClose)));   // cancels the accept in flight first
    }

    private protected override bool IsDrainedCore => !_armed && _cancelsInFlight == 0 && !_closeInFlight;

    private protected override Result<AsyncConnection> Adopt(SocketHandle accepted)
        => RingConnection.Adopt(Loop, _ring, accepted, SocketCalls.GetLocalEndpoint(accepted.Descriptor).GetValueOrDefault(LocalEndpoint),
            SocketCalls.GetRemoteEndpoint(accepted.Descriptor).GetValueOrDefault(default));
}
