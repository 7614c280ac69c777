using System;
using System.Threading;
using System.Threading.Tasks;
using Syscalls.Runtime.Sockets;

namespace Syscalls.Runtime;

public abstract partial class AsyncConnection
{
    /// <summary>Connects to <paramref name="remote"/> on <paramref name="loop"/>: completes with the open connection, or
    /// fails with <see cref="OsException"/> (refused, unreachable, <see cref="ErrorKind.TimedOut"/> after
    /// <paramref name="timeout"/>; the message names the address) or <see cref="OperationCanceledException"/>. A
    /// timeout or a cancellation cancels the kernel's connect and closes the socket. Any thread; the continuation runs
    /// on the loop.</summary>
    /// <param name="loop">The loop the connection will live on.</param>
    /// <param name="remote">The address to connect to.</param>
    /// <param name="timeout">Zero or <see cref="Timeout.InfiniteTimeSpan"/>: no time limit.</param>
    /// <param name="cancellationToken">Cancels the connect.</param>
    public static ValueTask<AsyncConnection> ConnectAsync(EventLoop loop, NetEndpoint remote, TimeSpan timeout = default,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        if (!remote.IsValid)
            throw new ArgumentException("The remote endpoint has no address.", nameof(remote));
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled<AsyncConnection>(cancellationToken);
        if (loop.IsOnLoopThread)
            return ConnectOnLoop(loop, remote, timeout, cancellationToken);
        var started = new TaskCompletionSource<AsyncConnection>();
        loop.Post(static s =>
        {
            var (l, r, t, ct, tcs) = ((EventLoop, NetEndpoint, TimeSpan, CancellationToken, TaskCompletionSource<AsyncConnection>))s!;
            _ = Forward(ConnectOnLoop(l, r, t, ct), tcs);
        }, (loop, remote, timeout, cancellationToken, started));
        return new ValueTask<AsyncConnection>(started.Task);
    }

    /// <summary>Wraps a connected, non-blocking stream socket as a connection of <paramref name="loop"/> (loop thread):
    /// the way an accepted socket moves from an acceptor to another loop.</summary>
    internal static Result<AsyncConnection> Adopt(EventLoop loop, SocketHandle socket)
    {
        loop.AssertOnLoop();
        NetEndpoint local = SocketOps.GetLocalEndpoint(socket).GetValueOrDefault(default);
        NetEndpoint remote = SocketOps.GetRemoteEndpoint(socket).GetValueOrDefault(default);
        return loop.Driver switch
        {
            RingDriver ring => RingConnection.Adopt(loop, ring, socket, local, remote),
            PollerDriver poller => PollerConnection.Adopt(loop, poller, socket, local, remote),
            _ => OsError.FromKind(ErrorKind.NotSupported),
        };
    }

    private static ValueTask<AsyncConnection> ConnectOnLoop(EventLoop loop, NetEndpoint remote, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!loop.IsAcceptingWork)
            return ValueTask.FromException<AsyncConnection>(new ObjectDisposedException(nameof(EventLoop), $"Loop {loop.Id} has stopped."));
        return loop.Driver switch
        {
            RingDriver ring => RingConnection.ConnectOnLoop(loop, ring, remote, timeout, cancellationToken),
            PollerDriver poller => PollerConnection.ConnectOnLoop(loop, poller, remote, timeout, cancellationToken),
            _ => throw new PlatformNotSupportedException(),
        };
    }

    private static async Task Forward(ValueTask<AsyncConnection> connecting, TaskCompletionSource<AsyncConnection> result)
    {
        try
        {
            result.TrySetResult(await connecting.ConfigureAwait(false));
        }
        catch (OperationCanceledException e)
        {
            result.TrySetCanceled(e.CancellationToken);
        }
        catch (Exception e)
        {
            result.TrySetException(e);
        }
    }
}
