using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Syscalls.Runtime.Backends.Common;
using Syscalls.Runtime.Sockets;

namespace Syscalls.Runtime;

/// <summary>Options of <see cref="AsyncListener.Listen"/>.</summary>
public sealed class ListenerOptions
{
    /// <summary>listen(2) backlog (the kernel caps it at somaxconn).</summary>
    public int Backlog { get; set; } = 65535;

    /// <summary>SO_REUSEPORT: several sockets (one per loop) listen on the same port and the kernel spreads the
    /// connections over them (Linux; macOS accepts the option but does not balance).</summary>
    public bool ReusePort { get; set; }

    /// <summary>TCP_NODELAY on accepted connections.</summary>
    public bool NoDelay { get; set; } = true;

    /// <summary>Accepted connections queued for <see cref="AsyncListener.AcceptAsync"/> at most; beyond that the listener
    /// stops accepting and the kernel's backlog holds them (bounded memory under a connection flood).</summary>
    public int AcceptQueueLimit { get; set; } = 256;
}

/// <summary>A listening TCP socket on an <see cref="EventLoop"/>: <see cref="AcceptAsync"/> completes on the loop with
/// a connection that lives on that loop. EMFILE/ENFILE pause accepting for a growing back-off (never a spin); the
/// connection stays queued in the kernel meanwhile.</summary>
/// <remarks>Thread rules: any thread; operations started off the loop are handed to it and continuations run on the
/// loop. One accept may be pending at a time.</remarks>
public abstract partial class AsyncListener : IAsyncDisposable, IDisposable, ILoopResource
{
    private const int BackoffMinMs = 50, BackoffMaxMs = 1000;
    private static readonly Action<object?> s_startAccept = static s => ((AsyncListener)s!).StartAcceptOnLoop();

    private readonly AcceptOperation _accept;
    private readonly Queue<SocketHandle> _queue = new();
    private LoopTimer? _backoffTimer;
    private int _backoffMs = BackoffMinMs;

    private protected AsyncListener(EventLoop loop, SocketHandle socket, NetEndpoint local, ListenerOptions options)
    {
        Loop = loop;
        Socket = socket;
        LocalEndpoint = local;
        Options = options;
        _accept = new AcceptOperation(this);
    }

    /// <summary>The loop.</summary>
    public EventLoop Loop { get; }

    /// <summary>The bound address (with the real port when 0 was asked for).</summary>
    public NetEndpoint LocalEndpoint { get; }

    /// <summary>True until disposed.</summary>
    public bool IsListening => !Closed;

    /// <summary>Connections accepted so far.</summary>
    public long AcceptedCount { get; private set; }

    private protected SocketHandle Socket { get; }

    private protected ListenerOptions Options { get; }

    private protected bool Closed { get; private set; }

    /// <summary>When set (by a multi-loop server), accepted sockets go to it instead of <see cref="AcceptAsync"/>.</summary>
    internal Action<SocketHandle>? Distributor { get; private set; }

    /// <summary>From now on every accepted socket goes to <paramref name="target"/>, starting with those accepted (and
    /// queued) before this call: the listener accepts from its creation on, so a connection can arrive before its
    /// server's acceptor is set up. Loop thread.</summary>
    internal void DistributeTo(Action<SocketHandle> target)
    {
        Distributor = target;
        while (!Closed && _queue.TryDequeue(out SocketHandle? queued))
            target(queued);
        if (!Closed && !BackingOff)
            ArmAccept();
    }

    /// <summary>Listens on <paramref name="endpoint"/> on <paramref name="loop"/>. From another thread it runs on the
    /// loop and waits for it.</summary>
    /// <exception cref="OsException">Bind or listen failed (the message names the address, e.g. in use).</exception>
    public static AsyncListener Listen(EventLoop loop, NetEndpoint endpoint, ListenerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(loop);
        options ??= new ListenerOptions();
        if (loop.IsOnLoopThread)
            return ListenOnLoop(loop, endpoint, options);
        AsyncListener? listener = null;
        loop.SynchronizationContext.Send(_ => listener = ListenOnLoop(loop, endpoint, options), null);
        return listener!;
    }

    /// <summary>Accepts the next connection; completes with null once the listener is disposed.</summary>
    public ValueTask<AsyncConnection?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled<AsyncConnection?>(cancellationToken);
        AcceptOperation op = _accept;
        if (op.IsBusy)
            throw new InvalidOperationException("An accept is already pending on this listener: await it before starting another.");
        if (Loop.IsOnLoopThread && (Closed || _queue.Count > 0))
            return TakeQueued(out AsyncConnection? c, out Exception? e) ? new ValueTask<AsyncConnection?>(c) : ValueTask.FromException<AsyncConnection?>(e!);
        short token = op.Start(cancellationToken);
        if (Loop.IsOnLoopThread)
            StartAcceptOnLoop();
        else
            Loop.PostInternal(s_startAccept, this);
        return new ValueTask<AsyncConnection?>(op, token);
    }

    /// <summary>Stops listening: the socket is closed, a pending accept completes with null, queued connections are
    /// closed. Any thread; idempotent.</summary>
    public void Dispose()
    {
        if (Loop.IsOnLoopThread)
            CloseOnLoop();
        else
            Loop.TryPost(static s => ((AsyncListener)s!).CloseOnLoop(), this);
        GC.SuppressFinalize(this);
    }

    /// <summary>As <see cref="Dispose"/>.</summary>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return default;
    }

    // ---------------------------------------------------------------- for the backends (loop thread)

    /// <summary>Makes sure an accept is under way (poller: watching readable; ring: an accept submitted).</summary>
    private protected abstract void ArmAccept();

    /// <summary>Stops accepting (back-off, queue full); <see cref="ArmAccept"/> resumes.</summary>
    private protected abstract void PauseAccept();

    /// <summary>Releases the socket (poller: deregister and close; ring: cancel and close through the ring).</summary>
    private protected abstract void CloseSocket();

    private protected abstract bool IsDrainedCore { get; }

    /// <summary>Wraps an accepted socket as a connection of this loop.</summary>
    private protected abstract Result<AsyncConnection> Adopt(SocketHandle accepted);

    /// <summary>True while the accepted queue has room (the backend keeps accepting).</summary>
    private protected bool WantsMore => !Closed && _queue.Count < Options.AcceptQueueLimit && !BackingOff;

    private protected bool BackingOff { get; private set; }

    /// <summary>A connection was accepted (already non-blocking and close-on-exec).</summary>
    private protected void OnAccepted(SocketHandle accepted)
    {
        AcceptedCount++;
        _backoffMs = BackoffMinMs;
        if (Options.NoDelay)
            SocketCalls.SetNoDelay(accepted.Descriptor, true);
        if (Distributor is { } distribute)
        {
            distribute(accepted);
            return;
        }

        if (_accept.IsPending && _queue.Count == 0)
        {
            Result<AsyncConnection> adopted = Adopt(accepted);
            if (adopted.TryGetValue(out AsyncConnection? c))
                _accept.Complete(c);
            else
                Loop.Log($"accepted connection dropped: {adopted.Error}");
            return;
        }

        _queue.Enqueue(accepted);
        if (_queue.Count >= Options.AcceptQueueLimit)
            PauseAccept();
    }

    /// <summary>Accept failed: EMFILE/ENFILE/ENOMEM (or an unexpected error) pause with a growing back-off; a
    /// connection the peer gave up while queued is skipped.</summary>
    private protected void OnAcceptError(OsError error)
    {
        if (error.Kind is ErrorKind.ConnectionAborted or ErrorKind.ConnectionReset or ErrorKind.WouldBlock or ErrorKind.Interrupted
            or ErrorKind.Canceled)
            return;
        Loop.Log($"accept paused for {_backoffMs} ms: {error}");
        BackingOff = true;
        PauseAccept();
        _backoffTimer ??= Loop.CreateTimer(static s => ((AsyncListener)s!).EndBackoff(), this);
        _backoffTimer.Start(TimeSpan.FromMilliseconds(_backoffMs));
        _backoffMs = Math.Min(_backoffMs * 2, BackoffMaxMs);
    }

    private static AsyncListener ListenOnLoop(EventLoop loop, NetEndpoint endpoint, ListenerOptions options)
    {
        Result<SocketHandle> listening = options.ReusePort
            ? ListenReusePort(endpoint, options.Backlog)
            : SocketOps.Listen(endpoint, options.Backlog);
        if (!listening.TryGetValue(out SocketHandle? socket))
            throw new OsException(listening.Error, endpoint.ToString());
        NetEndpoint local = SocketOps.GetLocalEndpoint(socket).GetValueOrDefault(endpoint);
        AsyncListener listener = loop.Driver switch
        {
            RingDriver ring => new RingListener(loop, ring, socket, local, options),
            PollerDriver poller => new PollerListener(loop, poller, socket, local, options),
            _ => throw new PlatformNotSupportedException(),
        };
        try
        {
            loop.AddResource(listener);
            listener.ArmAccept();
            return listener;
        }
        catch
        {
            listener.CloseOnLoop();
            throw;
        }
    }

    private static Result<SocketHandle> ListenReusePort(NetEndpoint endpoint, int backlog)
    {
        Result<SocketHandle> created = SocketOps.CreateTcp(endpoint.Family);
        if (!created.TryGetValue(out SocketHandle? s))
            return created;
        Result r = SocketOps.SetReuseAddress(s);
        if (r.IsSuccess)
            r = SocketCalls.SetReusePort(s.Descriptor, true);
        if (r.IsSuccess)
            r = SocketCalls.Bind(s.Descriptor, endpoint);
        if (r.IsSuccess)
            r = SocketCalls.Listen(s.Descriptor, backlog);
        if (r.IsSuccess)
            return s;
        s.Dispose();
        return r.Error;
    }

    private void StartAcceptOnLoop()
    {
        if (!_accept.IsPending)
            return;
        if (_accept.CancellationToken.IsCancellationRequested)
        {
            _accept.FailCanceled();
            return;
        }

        if (Closed || _queue.Count > 0)
        {
            if (TakeQueued(out AsyncConnection? c, out Exception? e))
                _accept.Complete(c);
            else
                _accept.Fail(e!);
            return;
        }

        if (!BackingOff)
            ArmAccept();
    }

    /// <summary>A queued connection (adopted now), or null once closed.</summary>
    private bool TakeQueued(out AsyncConnection? connection, out Exception? error)
    {
        connection = null;
        error = null;
        while (!Closed && _queue.TryDequeue(out SocketHandle? h))
        {
            if (!BackingOff && !Closed && _queue.Count < Options.AcceptQueueLimit)
                ArmAccept();
            Result<AsyncConnection> adopted = Adopt(h);
            if (adopted.TryGetValue(out connection))
                return true;
            Loop.Log($"accepted connection dropped: {adopted.Error}");
        }

        return true;   // closed: null
    }

    private void EndBackoff()
    {
        BackingOff = false;
        if (!Closed && (_accept.IsPending || Distributor is not null || _queue.Count < Options.AcceptQueueLimit))
            ArmAccept();
    }

    private void CloseOnLoop()
    {
        if (Closed)
            return;
        Closed = true;
        _backoffTimer?.Stop();
        CloseSocket();
        while (_queue.TryDequeue(out SocketHandle? h))
            h.Dispose();
        if (_accept.IsPending)
            _accept.Complete(null);
        if (IsDrainedCore)
            Loop.RemoveResource(this);
    }

    /// <summary>The backend's last operation finished after the close: forget the listener.</summary>
    private protected void OnDrained()
    {
        if (Closed)
            Loop.RemoveResource(this);
    }

    void ILoopResource.CloseForShutdown() => CloseOnLoop();

    bool ILoopResource.IsDrained => Closed && IsDrainedCore;

    private sealed class AcceptOperation : LoopOperation<AsyncConnection?>
    {
        private readonly AsyncListener _owner;

        internal AcceptOperation(AsyncListener owner)
            : base(owner.Loop) => _owner = owner;

        protected override string Kind => "accept";

        protected override string OwnerKind => "listener";

        protected override void OnCancel()
        {
            // Accepted sockets that arrive later wait in the queue for the next accept: nothing is lost.
            if (_owner._queue.Count == 0 && _owner.Distributor is null)
                _owner.PauseAccept();
            FailCanceled();
        }
    }
}
