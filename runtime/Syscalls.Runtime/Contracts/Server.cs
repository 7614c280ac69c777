using System;

namespace Syscalls.Runtime;

/// <summary>Identifies one connection of a server: a slot and the slot's generation, so a handle kept past the
/// connection's close is recognised as stale instead of reaching the slot's next connection.</summary>
public readonly struct ConnectionId : IEquatable<ConnectionId>
{
    /// <summary>Creates an id.</summary>
    public ConnectionId(int slot, uint generation)
    {
        Slot = slot;
        Generation = generation;
    }

    /// <summary>The server's slot index.</summary>
    public int Slot { get; }

    /// <summary>The slot's generation when this connection opened.</summary>
    public uint Generation { get; }

    /// <inheritdoc/>
    public bool Equals(ConnectionId other) => Slot == other.Slot && Generation == other.Generation;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is ConnectionId c && Equals(c);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Slot, Generation);

    /// <summary>Equality.</summary>
    public static bool operator ==(ConnectionId left, ConnectionId right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(ConnectionId left, ConnectionId right) => !left.Equals(right);

    /// <inheritdoc/>
    public override string ToString() => $"#{Slot}.{Generation}";
}

/// <summary>What a server model does with a connection on the handler's behalf. Implemented by every model
/// (poller loop, ring loop, thread per connection); handlers use it through <see cref="Connection"/>.</summary>
public interface IConnectionTransport
{
    /// <summary>Sends all of <paramref name="data"/>: as much as the socket takes now, the rest copied and sent when
    /// writable (never SIGPIPE). An error means the connection is closing.</summary>
    Result Send(ConnectionId id, ReadOnlySpan<byte> data);

    /// <summary>Shuts down the sending side once pending data is sent (the peer reads end of stream); receiving goes on.</summary>
    Result ShutdownWrite(ConnectionId id);

    /// <summary>Closes gracefully: pending data is sent first, then the descriptor is closed.</summary>
    void Close(ConnectionId id);

    /// <summary>Closes at once, dropping pending data (the peer may see a reset).</summary>
    void Abort(ConnectionId id);

    /// <summary>True while the connection is open and <paramref name="id"/> is its current id.</summary>
    bool IsOpen(ConnectionId id);

    /// <summary>Bytes accepted by <see cref="Send"/> but not yet written to the socket.</summary>
    int GetPendingSendBytes(ConnectionId id);
}

/// <summary>A handler's view of one connection (16 bytes, no allocation). Use it from handler callbacks.</summary>
public readonly struct Connection : IEquatable<Connection>
{
    private readonly IConnectionTransport? _transport;

    /// <summary>Binds an id to the transport that owns it.</summary>
    public Connection(IConnectionTransport transport, ConnectionId id)
    {
        _transport = transport;
        Id = id;
    }

    /// <summary>The connection's id.</summary>
    public ConnectionId Id { get; }

    /// <summary>True while open.</summary>
    public bool IsOpen => _transport is not null && _transport.IsOpen(Id);

    /// <summary>Bytes accepted by <see cref="Send"/> and not yet written.</summary>
    public int PendingSendBytes => _transport?.GetPendingSendBytes(Id) ?? 0;

    /// <summary>See <see cref="IConnectionTransport.Send"/>.</summary>
    public Result Send(ReadOnlySpan<byte> data) => Transport.Send(Id, data);

    /// <summary>See <see cref="IConnectionTransport.ShutdownWrite"/>.</summary>
    public Result ShutdownWrite() => Transport.ShutdownWrite(Id);

    /// <summary>See <see cref="IConnectionTransport.Close"/>.</summary>
    public void Close() => Transport.Close(Id);

    /// <summary>See <see cref="IConnectionTransport.Abort"/>.</summary>
    public void Abort() => Transport.Abort(Id);

    private IConnectionTransport Transport => _transport ?? throw new InvalidOperationException("default(Connection)");

    /// <inheritdoc/>
    public bool Equals(Connection other) => ReferenceEquals(_transport, other._transport) && Id == other.Id;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Connection c && Equals(c);

    /// <inheritdoc/>
    public override int GetHashCode() => Id.GetHashCode();

    /// <summary>Equality.</summary>
    public static bool operator ==(Connection left, Connection right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(Connection left, Connection right) => !left.Equals(right);

    /// <inheritdoc/>
    public override string ToString() => Id.ToString();
}

/// <summary>The application's side of a server, the same for every model. Callbacks of one connection never run
/// concurrently; in the loop models all run on the loop thread, so they must not block. A callback that throws
/// closes its own connection only (see <see cref="ServerOptions.OnHandlerError"/>).</summary>
public interface IConnectionHandler
{
    /// <summary>A connection was accepted.</summary>
    void OnOpened(Connection connection)
    {
    }

    /// <summary>Bytes arrived. <paramref name="data"/> is valid only during the call (it is a shared loop buffer).</summary>
    void OnData(Connection connection, ReadOnlySpan<byte> data);

    /// <summary>The peer shut down its sending side. Default: close gracefully once pending data is sent.</summary>
    void OnEndOfStream(Connection connection) => connection.Close();

    /// <summary>The connection is closed; <paramref name="reason"/> is <see cref="ErrorKind.None"/> for an orderly close,
    /// <see cref="ErrorKind.Canceled"/> when the server stopped, else the error that ended it.</summary>
    void OnClosed(Connection connection, OsError reason)
    {
    }
}

/// <summary>A TCP server of one model and backend. Create one with <see cref="BackendSelector.CreateServer"/>.</summary>
public interface IServer : IDisposable
{
    /// <summary>The backend actually in use (after any fallback).</summary>
    BackendKind Backend { get; }

    /// <summary>Why this backend was chosen (forced, default, or which probe failed).</summary>
    string SelectionReason { get; }

    /// <summary>The bound address (with the real port when 0 was asked for).</summary>
    NetEndpoint LocalEndpoint { get; }

    /// <summary>Connections open now.</summary>
    int ConnectionCount { get; }

    /// <summary>Accepts and serves on the calling thread until <see cref="Stop"/>; then closes every connection
    /// (their handlers see <see cref="ErrorKind.Canceled"/>) and the listener.</summary>
    void Run();

    /// <summary>Asks <see cref="Run"/> to return. Any thread, idempotent.</summary>
    void Stop();
}

/// <summary>Options for <see cref="BackendSelector.CreateServer"/>.</summary>
public sealed class ServerOptions
{
    /// <summary>Address to listen on; default 127.0.0.1 with a port chosen by the OS.</summary>
    public NetEndpoint Endpoint { get; set; } = NetEndpoint.Loopback(0);

    /// <summary>The backend; <see cref="BackendKind.Auto"/> lets the selector (and SYSCALLS_BACKEND) choose.</summary>
    public BackendKind Backend { get; set; } = BackendKind.Auto;

    /// <summary>listen(2) backlog (the kernel caps it at somaxconn).</summary>
    public int Backlog { get; set; } = 65535;

    /// <summary>Set TCP_NODELAY on accepted connections.</summary>
    public bool NoDelay { get; set; } = true;

    private int? _receiveBufferSize;

    /// <summary>Receive buffer size, in bytes. Poller server: the one buffer every connection of the loop reads into
    /// (default 64 KiB). Thread server: each connection thread's buffer, on its stack (at most 16 KiB). Ring server:
    /// each of its <see cref="ReceiveBufferCount"/> receive buffers (io_uring's provided-buffer group, or the pool IOCP
    /// receives into), which stay allocated for the server's life: 2 KiB unless set (the 64 KiB default would pin
    /// 256 MiB there). A receive takes at most one buffer, so larger ones mean fewer completions for bulk data.</summary>
    public int ReceiveBufferSize
    {
        get => _receiveBufferSize ?? 64 * 1024;
        set => _receiveBufferSize = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "A receive buffer needs at least one byte.");
    }

    /// <summary>Ring server: how many receive buffers it keeps (default 4096; io_uring takes at most 32768). A buffer
    /// is taken per receive and given back once the handler returns, or, when the handler sends it straight back, once
    /// that send completes; a connection holds at most that one, and only while a quarter of the buffers are still
    /// free, so slow readers cannot take them all from the other connections. Data waits in the kernel while none is
    /// free. The other models ignore it.</summary>
    public int ReceiveBufferCount { get; set; } = 4096;

    /// <summary>The ring server's buffer size: <see cref="ReceiveBufferSize"/> when set, else 2 KiB.</summary>
    internal int RingReceiveBufferSize => _receiveBufferSize ?? 2048;

    /// <summary>Unsent bytes per connection above which the server stops reading it until they drain.</summary>
    public int MaxPendingSendBytes { get; set; } = 1024 * 1024;

    /// <summary>Connection slots allocated up front (grown on demand).</summary>
    public int InitialConnectionCapacity { get; set; } = 1024;

    /// <summary>Stack size of each connection thread in the thread model.</summary>
    public int ThreadStackSize { get; set; } = 128 * 1024;

    /// <summary>Receives the selector's and the server's log lines (backend choice, probe results, accept pauses).</summary>
    public Action<string>? Log { get; set; }

    /// <summary>Called when a handler callback throws, with the connection and the exception, on the thread that ran
    /// the callback. Failures stay local: the server aborts that connection (its OnClosed sees
    /// <see cref="ErrorKind.HandlerFailed"/>; an exception from OnClosed itself is only reported) and serves the others
    /// on. The exception also goes to <see cref="Log"/>. An exception thrown by this callback is ignored.</summary>
    public Action<Connection, Exception>? OnHandlerError { get; set; }
}
