using System;
using System.Buffers;
using System.Net;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Connections;
using Syscalls.Runtime;

namespace Syscalls.AspNetCore;

/// <summary>One bound endpoint: an <see cref="AsyncServer"/> (N loops; SO_REUSEPORT listeners or one acceptor, as the
/// runtime decides) whose handler wraps each accepted connection in a <see cref="SyscallsConnection"/> and queues it
/// for Kestrel's <see cref="AcceptAsync"/>. The handler's end (Kestrel disposing the connection) is the connection's
/// end for the server, so the loops stay up as long as a connection needs them.</summary>
internal sealed class SyscallsConnectionListener : IConnectionListener
{
    /// <summary>How long <see cref="DisposeAsync"/> waits for connections Kestrel has not disposed yet (it disposes
    /// the listener after its own shutdown timeout) before the loops stop under them.</summary>
    private static readonly TimeSpan s_stopGrace = TimeSpan.FromSeconds(1);

    private readonly Channel<SyscallsConnection> _accepted = Channel.CreateUnbounded<SyscallsConnection>(
        new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
    private readonly SyscallsTransportOptions _options;
    private readonly ConnectionPipeOptions _pipeOptions;
    private readonly MemoryPool<byte> _pool;
    private AsyncServer? _server;
    private int _disposed;

    private SyscallsConnectionListener(SyscallsTransportOptions options)
    {
        _options = options;
        _pool = options.CreatePool();
        _pipeOptions = options.PipeOptions(_pool);
    }

    public EndPoint EndPoint { get; private set; } = new IPEndPoint(IPAddress.None, 0);

    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>The server under this endpoint (backend, loops, counters).</summary>
    internal AsyncServer Server => _server!;

    /// <summary>Binds and starts accepting.</summary>
    /// <exception cref="AddressInUseException">The address is taken.</exception>
    /// <exception cref="OsException">Any other bind or listen failure.</exception>
    internal static SyscallsConnectionListener Bind(IPEndPoint endpoint, SyscallsTransportOptions options)
    {
        var listener = new SyscallsConnectionListener(options);
        var server = new AsyncServerOptions
        {
            Endpoint = NetEndpoint.FromIPEndPoint(endpoint),
            Backend = options.Backend,
            Loops = options.Loops,
            ReusePort = options.ReusePort,
            Listener = new ListenerOptions { Backlog = options.Backlog, NoDelay = options.NoDelay },
            Loop = options.LoopOptions(),
        };
        try
        {
            listener._server = AsyncServer.Start(server, listener.Serve);
        }
        catch (Exception e)
        {
            listener._pool.Dispose();
            // The listen runs on a loop, which hands its failure back wrapped: Kestrel wants the error itself.
            OsException? os = e as OsException ?? (e is AggregateException { InnerExceptions: [OsException inner] } ? inner : null);
            if (os is { Error.Kind: ErrorKind.AddressInUse })
                throw new AddressInUseException(os.Message, os);
            if (os is not null && os != e)
                throw os;
            throw;
        }

        listener.EndPoint = listener._server.LocalEndpoint.ToIPEndPoint();
        return listener;
    }

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (await _accepted.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (_accepted.Reader.TryRead(out SyscallsConnection? connection))
                return connection;
        }

        return null;   // unbound or disposed
    }

    /// <summary>Stops accepting at once; connections already accepted (also those not yet taken by
    /// <see cref="AcceptAsync"/>, which still returns them) go on.</summary>
    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        _server?.StopAccepting();
        _accepted.Writer.TryComplete();
        return default;
    }

    /// <summary>Unbinds, resets the connections Kestrel never took, and stops the loops once the connections it took
    /// are disposed (or after a short grace).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await UnbindAsync().ConfigureAwait(false);
        while (_accepted.Reader.TryRead(out SyscallsConnection? orphan))
        {
            orphan.Abort();
            await orphan.DisposeAsync().ConfigureAwait(false);
        }

        if (_server is not null)
            await _server.StopAsync(s_stopGrace).ConfigureAwait(false);
        _pool.Dispose();
    }

    /// <summary>The server's handler, on the accepted connection's loop: queue it for Kestrel and live as long as it
    /// does.</summary>
    private ValueTask Serve(AsyncConnection accepted)
    {
        ConnectionPipe pipe = ConnectionPipe.Create(accepted, _pipeOptions);
        var connection = new SyscallsConnection(pipe, _pool);
        if (_accepted.Writer.TryWrite(connection))
            return new ValueTask(connection.Disposed);
        // Unbound between the accept and now: nobody will take it.
        connection.Abort();
        return connection.DisposeAsync();
    }
}
