using System;
using System.Threading;
using System.Threading.Tasks;
using Syscalls.Runtime.Sockets;

namespace Syscalls.Runtime;

/// <summary>A UDP socket on an <see cref="EventLoop"/> with <c>ValueTask</c> operations whose continuations run on that
/// loop: receive one datagram with its sender (<see cref="ReceiveFromAsync"/>), send one to an address
/// (<see cref="SendToAsync"/>), or to the peer fixed by <see cref="Connect"/> (<see cref="SendAsync"/>). Open one with
/// <see cref="Bind"/>.</summary>
/// <remarks>
/// <para>Thread rules: every member may be called from any thread; operations started off the loop are handed to it
/// (no allocation). One receive and one send may be pending at a time (a second of the same kind throws
/// <see cref="InvalidOperationException"/>); each <c>ValueTask</c> is awaited once.</para>
/// <para>Per backend: a poller loop tries recvfrom/sendto at once and waits for readiness only on EAGAIN, receiving
/// straight into the caller's memory. A ring loop receives with <see cref="RingOpcode.ReceiveFrom"/> (recvmsg on
/// io_uring, WSARecvFrom on IOCP) into a pinned 64 KiB buffer of the socket and copies, and sends with
/// <see cref="RingOpcode.SendTo"/> from a pinned copy: the socket holds those 128 KiB of pinned memory for its life.
/// Steady state allocates nothing. <see cref="CancellationToken"/>s cancel the kernel operation (io_uring cancel,
/// CancelIoEx, or no longer waiting for readiness); an operation the kernel finished first completes normally.</para>
/// <para>Truncation: a datagram longer than the caller's buffer is cut to it and reported
/// (<see cref="DatagramReceiveResult.IsTruncated"/>), never thrown; the socket goes on.</para>
/// <para>Errors from ICMP: on a connected socket a datagram the peer's host refused (nothing listening there) makes a
/// later receive fail with <see cref="OsException"/>: <see cref="ErrorKind.ConnectionRefused"/> on Linux (and under
/// Wine), <see cref="ErrorKind.ConnectionReset"/> (WSAECONNRESET) on Windows. On an unconnected socket Linux reports
/// nothing and the Windows report is dropped, so one unreachable peer cannot disturb the others.</para>
/// <para>After <see cref="Dispose"/> pending operations fail with <see cref="OsException"/>
/// (<see cref="ErrorKind.ConnectionAborted"/>) and new ones with <see cref="ObjectDisposedException"/>.</para>
/// </remarks>
public abstract class AsyncDatagramSocket : IDisposable, ILoopResource
{
    /// <summary>The largest datagram a socket sends or receives whole: the UDP length field's limit.</summary>
    public const int MaxDatagramSize = 65535;

    private static readonly Action<object?> s_startReceive = static s => ((AsyncDatagramSocket)s!).StartReceiveOnLoop();
    private static readonly Action<object?> s_startSend = static s => ((AsyncDatagramSocket)s!).StartSendOnLoop();

    private readonly ReceiveOperation _receive;
    private readonly SendOperation _send;
    private NetEndpoint _remote;
    private volatile bool _disposed;

    private protected AsyncDatagramSocket(EventLoop loop, SocketHandle handle, NetEndpoint local)
    {
        Loop = loop;
        Handle = handle;
        LocalEndpoint = local;
        _receive = new ReceiveOperation(this);
        _send = new SendOperation(this);
    }

    /// <summary>The loop that runs this socket's I/O and continuations.</summary>
    public EventLoop Loop { get; }

    /// <summary>The bound address (with the real port when 0 was asked for).</summary>
    public NetEndpoint LocalEndpoint { get; }

    /// <summary>The peer set by <see cref="Connect"/>; <c>default</c> while unconnected.</summary>
    public NetEndpoint RemoteEndpoint => _remote;

    /// <summary>True until <see cref="Dispose"/> (or the loop's shutdown).</summary>
    public bool IsOpen => !_disposed;

    private protected SocketHandle Handle { get; }

    /// <summary>Closed on the loop: operations fail, the backend releases the descriptor.</summary>
    private protected bool Closed { get; private set; }

    private protected bool IsConnected => _remote.IsValid;

    /// <summary>Opens a UDP socket bound to <paramref name="endpoint"/> (port 0: any free port) on
    /// <paramref name="loop"/>. From another thread it runs on the loop and waits for it.</summary>
    /// <exception cref="OsException">The socket or the bind failed (the message names the address, e.g. in use), or
    /// the loop's ring cannot receive datagrams (<see cref="ErrorKind.NotSupported"/>: no ring this runtime selects
    /// lacks them: io_uring has had recvmsg/sendmsg since Linux 5.3, before any opcode the ring requires).</exception>
    public static AsyncDatagramSocket Bind(EventLoop loop, NetEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(loop);
        if (!endpoint.IsValid)
            throw new ArgumentException("The endpoint has no address.", nameof(endpoint));
        if (loop.IsOnLoopThread)
            return BindOnLoop(loop, endpoint);
        AsyncDatagramSocket? socket = null;
        try
        {
            loop.SynchronizationContext.Send(_ => socket = BindOnLoop(loop, endpoint), null);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count == 1)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException!);
        }

        return socket!;
    }

    /// <summary>Connects the socket to <paramref name="remote"/>: <see cref="SendAsync"/> sends there, only its
    /// datagrams are received, and ICMP errors about it are reported (see the remarks). Any thread.</summary>
    /// <exception cref="OsException">connect(2) failed.</exception>
    public void Connect(NetEndpoint remote)
    {
        if (!remote.IsValid)
            throw new ArgumentException("The remote endpoint has no address.", nameof(remote));
        ObjectDisposedException.ThrowIf(_disposed, this);
        Result r = SocketOps.Connect(Handle, remote);
        if (!r.IsSuccess)
            throw new OsException(r.Error, $"connect to {remote}: {r.Error}");
        _remote = remote;
    }

    /// <summary>Receives one datagram into <paramref name="buffer"/>: completes with its length, its sender and whether
    /// it was cut to the buffer. An empty datagram completes with 0 bytes.</summary>
    public ValueTask<DatagramReceiveResult> ReceiveFromAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled<DatagramReceiveResult>(cancellationToken);
        if (_disposed)
            return ValueTask.FromException<DatagramReceiveResult>(new ObjectDisposedException(ToString()));
        ReceiveOperation op = _receive;
        if (op.IsBusy)
            throw new InvalidOperationException("A receive is already pending on this socket: await it before starting another.");
        op.Buffer = buffer;
        short token = op.Start(cancellationToken);
        if (Loop.IsOnLoopThread)
            StartReceiveOnLoop();
        else
            Loop.PostInternal(s_startReceive, this);
        return new ValueTask<DatagramReceiveResult>(op, token);
    }

    /// <summary>Sends <paramref name="datagram"/> as one datagram to <paramref name="destination"/>: completes once the
    /// kernel took it (or with <see cref="OsException"/>, e.g. <see cref="ErrorKind.MessageTooLong"/> beyond what the
    /// protocol carries). The memory must stay unchanged until then. Never raises SIGPIPE.</summary>
    public ValueTask SendToAsync(ReadOnlyMemory<byte> datagram, NetEndpoint destination, CancellationToken cancellationToken = default)
    {
        if (!destination.IsValid)
            throw new ArgumentException("The destination has no address.", nameof(destination));
        return StartSend(datagram, destination, cancellationToken);
    }

    /// <summary>Sends one datagram to the peer set by <see cref="Connect"/>.</summary>
    /// <exception cref="InvalidOperationException">The socket is not connected.</exception>
    public ValueTask SendAsync(ReadOnlyMemory<byte> datagram, CancellationToken cancellationToken = default)
    {
        if (!IsConnected)
            throw new InvalidOperationException("The socket is not connected: use SendToAsync, or Connect first.");
        return StartSend(datagram, default, cancellationToken);
    }

    /// <summary>Closes the socket: pending operations fail, the descriptor is released once the kernel is done with it.
    /// Any thread; idempotent.</summary>
    public void Dispose()
    {
        _disposed = true;
        if (Loop.IsOnLoopThread)
            CloseOnLoop();
        else
            Loop.TryPost(static s => ((AsyncDatagramSocket)s!).CloseOnLoop(), this);
        GC.SuppressFinalize(this);
    }

    /// <inheritdoc/>
    public override string ToString() => $"udp {LocalEndpoint}{(IsConnected ? " -> " + _remote : "")} on {Loop}";

    // ---------------------------------------------------------------- for the backends (loop thread)

    /// <summary>Receives now or parks <see cref="PendingReceive"/>; not called when closed.</summary>
    private protected abstract void BeginReceive();

    /// <summary>Sends now or parks <see cref="PendingSend"/>; not called when closed.</summary>
    private protected abstract void BeginSend();

    /// <summary>The pending receive's token fired: cancel it (at once, or once the kernel confirms).</summary>
    private protected abstract void CancelReceive();

    /// <summary>The pending send's token fired: cancel it (at once, or once the kernel confirms).</summary>
    private protected abstract void CancelSend();

    /// <summary>Releases the descriptor (the pending operations have already failed).</summary>
    private protected abstract void CloseSocket();

    private protected abstract bool IsDrained { get; }

    private protected ReceiveOperation PendingReceive => _receive;

    private protected SendOperation PendingSend => _send;

    /// <summary>An error a receive skips rather than reports: the ICMP echo of an earlier datagram to a closed port,
    /// which Windows reports on unconnected sockets too (libuv drops it the same way).</summary>
    private protected bool IsIgnorable(OsError error)
        => !IsConnected && error.Kind is ErrorKind.ConnectionReset or ErrorKind.ConnectionRefused;

    /// <summary>The result of a datagram of <paramref name="length"/> bytes of which <paramref name="copied"/> reached
    /// the caller; <paramref name="lengthKnown"/> false when it was cut and the OS did not say by how much.</summary>
    private protected static DatagramReceiveResult Received(int length, int copied, in NetEndpoint from, bool lengthKnown)
        => new(copied, from, length > copied || !lengthKnown, lengthKnown ? length : -1);

    /// <summary>A dispatch of this socket's I/O threw (a continuation run inline): close it and report.</summary>
    private protected void DispatchFailed(Exception error)
    {
        _disposed = true;
        CloseOnLoop();
        Loop.ReportUnhandled(error);
    }

    /// <summary>Forgets the socket once it is closed and the kernel is done with it.</summary>
    private protected void OnDrained()
    {
        if (Closed)
            Loop.RemoveResource(this);
    }

    private static AsyncDatagramSocket BindOnLoop(EventLoop loop, NetEndpoint endpoint)
    {
        if (!loop.IsAcceptingWork)
            throw new ObjectDisposedException(nameof(EventLoop), $"Loop {loop.Id} has stopped.");
        if (loop.Driver is RingDriver ring && !(ring.Ring.Supports(RingOpcode.ReceiveFrom) && ring.Ring.Supports(RingOpcode.SendTo)))
        {
            throw new OsException(OsError.FromKind(ErrorKind.NotSupported),
                $"The {ring.Name} ring of loop {loop.Id} has no ReceiveFrom/SendTo: use a poller loop for datagrams.");
        }

        Result<SocketHandle> bound = SocketOps.BindUdp(endpoint);
        if (!bound.TryGetValue(out SocketHandle? handle))
            throw new OsException(bound.Error, $"bind udp {endpoint}: {bound.Error}");
        NetEndpoint local = SocketOps.GetLocalEndpoint(handle).GetValueOrDefault(endpoint);
        AsyncDatagramSocket socket;
        try
        {
            socket = loop.Driver switch
            {
                RingDriver r => new RingDatagramSocket(loop, r, handle, local),
                PollerDriver p => PollerDatagramSocket.Create(loop, p, handle, local),
                _ => throw new PlatformNotSupportedException(),
            };
        }
        catch
        {
            handle.Dispose();
            throw;
        }

        loop.AddResource(socket);
        return socket;
    }

    private ValueTask StartSend(ReadOnlyMemory<byte> datagram, NetEndpoint destination, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled(cancellationToken);
        if (_disposed)
            return ValueTask.FromException(new ObjectDisposedException(ToString()));
        if (datagram.Length > MaxDatagramSize)
            return ValueTask.FromException(new OsException(OsError.FromKind(ErrorKind.MessageTooLong),
                $"A datagram carries at most {MaxDatagramSize} bytes; this one has {datagram.Length}."));
        SendOperation op = _send;
        if (op.IsBusy)
            throw new InvalidOperationException("A send is already pending on this socket: await it before starting another.");
        op.Data = datagram;
        op.Destination = destination;
        short token = op.Start(cancellationToken);
        if (Loop.IsOnLoopThread)
            StartSendOnLoop();
        else
            Loop.PostInternal(s_startSend, this);
        return new ValueTask(op, token);
    }

    private void StartReceiveOnLoop()
    {
        if (ReadyToBegin(_receive))
            BeginReceive();
    }

    private void StartSendOnLoop()
    {
        if (ReadyToBegin(_send))
            BeginSend();
    }

    /// <summary>True when a started operation is still to begin: not canceled, nor the socket closed.</summary>
    private bool ReadyToBegin<T>(LoopOperation<T> op)
    {
        if (!op.IsPending)
            return false;
        if (op.CancellationToken.IsCancellationRequested)
            op.FailCanceled();
        else if (Closed)
            op.Fail(Aborted());
        else
            return true;
        return false;
    }

    private void CloseOnLoop()
    {
        if (Closed)
            return;
        Closed = true;
        _disposed = true;
        if (_receive.IsPending)
            _receive.Fail(Aborted());
        if (_send.IsPending)
            _send.Fail(Aborted());
        CloseSocket();
        if (IsDrained)
            Loop.RemoveResource(this);
    }

    private static OsException Aborted() => new(OsError.FromKind(ErrorKind.ConnectionAborted), "The datagram socket was closed.");

    void ILoopResource.CloseForShutdown() => CloseOnLoop();

    bool ILoopResource.IsDrained => Closed && IsDrained;

    /// <summary>The socket's receive operation.</summary>
    private protected sealed class ReceiveOperation : LoopOperation<DatagramReceiveResult>
    {
        private readonly AsyncDatagramSocket _owner;

        internal ReceiveOperation(AsyncDatagramSocket owner)
            : base(owner.Loop) => _owner = owner;

        internal Memory<byte> Buffer;

        protected override string Kind => "receive";

        protected override string OwnerKind => "datagram socket";

        protected override void OnCancel() => _owner.CancelReceive();
    }

    /// <summary>The socket's send operation.</summary>
    private protected sealed class SendOperation : LoopOperation<int>
    {
        private readonly AsyncDatagramSocket _owner;

        internal SendOperation(AsyncDatagramSocket owner)
            : base(owner.Loop) => _owner = owner;

        internal ReadOnlyMemory<byte> Data;

        /// <summary><c>default</c>: the connected peer.</summary>
        internal NetEndpoint Destination;

        protected override string Kind => "send";

        protected override string OwnerKind => "datagram socket";

        protected override void OnCancel() => _owner.CancelSend();
    }
}
