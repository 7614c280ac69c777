using System;
using System.Buffers;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using Syscalls.Runtime;

namespace Syscalls.AspNetCore;

/// <summary>Outbound connections (Kestrel's client contract, for Bedrock-style code) on one event loop of the
/// transport's backend, started at the first connect and stopped with the factory. Every member may be called from
/// any thread (connects at once from many: the loop is started once, under a lock).</summary>
public sealed class SyscallsConnectionFactory : IConnectionFactory, IAsyncDisposable
{
    private readonly SyscallsTransportOptions _options;
    private readonly object _gate = new();
    private EventLoop? _loop;
    private MemoryPool<byte>? _pool;
    private ConnectionPipeOptions? _pipeOptions;
    private bool _disposed;

    /// <summary>A factory with <paramref name="options"/> (from <c>UseSyscalls</c>).</summary>
    public SyscallsConnectionFactory(IOptions<SyscallsTransportOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _options.Validate();
    }

    /// <summary>The backend of the factory's loop (after any fallback), or null before the first connect.</summary>
    public BackendKind? Backend
    {
        get
        {
            lock (_gate)
                return _loop?.Backend;
        }
    }

    /// <summary>Connects to <paramref name="endpoint"/>.</summary>
    /// <exception cref="OsException">Refused, unreachable, timed out (the message names the address).</exception>
    /// <exception cref="NotSupportedException">Not an <see cref="IPEndPoint"/>.</exception>
    /// <exception cref="ObjectDisposedException">The factory was disposed.</exception>
    public async ValueTask<ConnectionContext> ConnectAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not IPEndPoint ip)
            throw new NotSupportedException($"The Syscalls transport connects to IP end points only, not {endpoint?.GetType().Name}.");
        EventLoop loop = Loop(out MemoryPool<byte> pool, out ConnectionPipeOptions pipeOptions);
        AsyncConnection connection = await AsyncConnection.ConnectAsync(loop, NetEndpoint.FromIPEndPoint(ip),
            cancellationToken: cancellationToken).ConfigureAwait(false);
        return new SyscallsConnection(ConnectionPipe.Create(connection, pipeOptions), pool);
    }

    /// <summary>Stops the loop: connections still open are closed.</summary>
    public ValueTask DisposeAsync()
    {
        EventLoop? loop;
        lock (_gate)
        {
            _disposed = true;
            loop = _loop;
        }

        loop?.Dispose();
        _pool?.Dispose();
        return default;
    }

    private EventLoop Loop(out MemoryPool<byte> pool, out ConnectionPipeOptions pipeOptions)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_loop is null)
            {
                LoopOptions lo = _options.LoopOptions();
                lo.ThreadName = "syscalls-client";
                _pool = _options.CreatePool();
                _pipeOptions = _options.PipeOptions(_pool);
                _loop = EventLoop.Start(lo);
            }

            pool = _pool!;
            pipeOptions = _pipeOptions!;
            return _loop;
        }
    }
}
