using System;
using Syscalls.Runtime.Backends.Threads;

namespace Syscalls.Runtime.Servers;

/// <summary>Builds the server of a backend the selector resolved: the ring server over the ring it creates (falling
/// back along the selector's chain when no ring can be set up), the poller server over its poller, or the thread
/// server. The selector chooses; this knows the servers, so the selector depends on none of them.</summary>
internal static class ServerFactory
{
    /// <summary>Ring size the ring server wants: room for a receive and a send completion per connection between two
    /// harvests at 10k connections without spilling into the kernel's overflow list (CQ = 2 x SQ).</summary>
    private const int RingEntries = 16384;

    internal static IServer Create(BackendKind kind, string reason, ServerOptions options, IConnectionHandler handler)
    {
        while (BackendSelector.IsRing(kind))
        {
            // The ring the server wants, with the features the selector asks of a serving ring; a host that cannot
            // set up one that big gets the default size.
            RingFeatures needed = BackendSelector.ServerRingFeatures(kind);
            if (BackendSelector.TryCreateRing(kind, new RingOptions { Entries = RingEntries, RequiredFeatures = needed }, out IRing? ring, out string why)
                || BackendSelector.TryCreateRing(kind, new RingOptions { RequiredFeatures = needed }, out ring, out why))
            {
                BackendSelector.Emit(options.Log, $"server backend: {BackendSelector.NameOf(kind)} ({reason})");
                return OwnOrDispose(ring!, r => new RingServer(kind, reason, r, options, handler));
            }

            BackendKind next = BackendSelector.FallbackOf(kind);
            reason += $"; {BackendSelector.NameOf(kind)} ring setup failed ({why}), falling back to {BackendSelector.NameOf(next)}";
            kind = BackendSelector.FirstUsable(next, ref reason);
        }

        BackendSelector.Emit(options.Log, $"server backend: {BackendSelector.NameOf(kind)} ({reason})");
        if (kind == BackendKind.Threads)
            return new ThreadServer(reason, options, handler);
        if (!BackendSelector.IsPoller(kind))
            throw new PlatformNotSupportedException($"No server for backend {kind}.");
        IPoller? poller = BackendSelector.CreatePollerExact(kind, out OsError error);
        return OwnOrDispose(poller ?? throw new OsException(error), p => new PollerServer(kind, reason, p, options, handler));
    }

    /// <summary>A server that takes over <paramref name="backend"/>; when its constructor fails (the port is in use,
    /// ...) the backend is disposed here, since no server owns it.</summary>
    private static IServer OwnOrDispose<T>(T backend, Func<T, IServer> create)
        where T : IDisposable
    {
        try
        {
            return create(backend);
        }
        catch
        {
            backend.Dispose();
            throw;
        }
    }
}
