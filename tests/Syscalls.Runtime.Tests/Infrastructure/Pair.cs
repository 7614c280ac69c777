using System;
using System.Net.Sockets;
using System.Threading;
using Syscalls.Runtime.Sockets;

namespace Syscalls.Runtime.Tests.Infrastructure;

/// <summary>A connected TCP pair: <see cref="Server"/> is ours (SocketHandle, non-blocking), <see cref="Client"/> is a
/// System.Net.Sockets peer.</summary>
public sealed class Pair : IDisposable
{
    public Pair()
    {
        Listener = SocketOps.Listen(NetEndpoint.Loopback(0)).Value;
        var ep = SocketOps.GetLocalEndpoint(Listener).Value.ToIPEndPoint();
        Client = Peers.Connect(ep);
        Result<SocketHandle> accepted = default;
        Assert(SpinWait.SpinUntil(() => (accepted = SocketOps.Accept(Listener)).IsSuccess, 5000), "accept timed out");
        Server = accepted.Value;
    }

    public SocketHandle Listener { get; }

    public SocketHandle Server { get; }

    public Socket Client { get; }

    public void Dispose()
    {
        Client.Dispose();
        Server.Dispose();
        Listener.Dispose();
    }

    private static void Assert(bool condition, string message)
    {
        if (!condition)
            throw new InvalidOperationException(message);
    }
}
