using System;
using System.Collections.Generic;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using Syscalls.Runtime;

namespace Syscalls.AspNetCore;

/// <summary>Kestrel's listener factory on the runtime's loops: binds IP end points (others, such as Unix sockets, are
/// left to the next registered transport through <see cref="IConnectionListenerFactorySelector"/>). Every member may
/// be called from any thread; the properties describe the last bound endpoint.</summary>
public sealed class SyscallsTransportFactory : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly SyscallsTransportOptions _options;
    private readonly List<SyscallsConnectionListener> _bound = new();

    /// <summary>A factory with <paramref name="options"/> (from <c>UseSyscalls</c>).</summary>
    public SyscallsTransportFactory(IOptions<SyscallsTransportOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _options.Validate();
    }

    /// <summary>The backend the last bound endpoint runs on (after any fallback), or null before the first
    /// bind.</summary>
    public BackendKind? Backend
    {
        get
        {
            lock (_bound)
                return _bound.Count == 0 ? null : _bound[^1].Server.Backend;
        }
    }

    /// <summary>Why the selector chose <see cref="Backend"/>, or null before the first bind.</summary>
    public string? SelectionReason
    {
        get
        {
            lock (_bound)
                return _bound.Count == 0 ? null : _bound[^1].Server.SelectionReason;
        }
    }

    /// <summary>Event loops of the last bound endpoint (1 with <see cref="BackendKind.Threads"/>: its acceptor), or 0
    /// before the first bind.</summary>
    public int LoopCount
    {
        get
        {
            lock (_bound)
                return _bound.Count == 0 ? 0 : _bound[^1].Server.Loops.Count;
        }
    }

    /// <summary>True when the last bound endpoint spreads connections over SO_REUSEPORT listeners, one per
    /// loop.</summary>
    public bool UsesReusePort
    {
        get
        {
            lock (_bound)
                return _bound.Count != 0 && _bound[^1].Server.UsesReusePort;
        }
    }

    /// <inheritdoc/>
    public bool CanBind(EndPoint endpoint) => endpoint is IPEndPoint;

    /// <inheritdoc/>
    /// <exception cref="AddressInUseException">The address is taken.</exception>
    /// <exception cref="NotSupportedException">Not an <see cref="IPEndPoint"/>.</exception>
    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not IPEndPoint ip)
            throw new NotSupportedException($"The Syscalls transport binds IP end points only, not {endpoint.GetType().Name}.");
        cancellationToken.ThrowIfCancellationRequested();
        SyscallsConnectionListener listener = SyscallsConnectionListener.Bind(ip, _options);
        lock (_bound)
        {
            _bound.RemoveAll(static l => l.IsDisposed);
            _bound.Add(listener);
        }

        return new ValueTask<IConnectionListener>(listener);
    }
}
