using System;
using System.Threading;

namespace Syscalls.Runtime.Servers.Common;

/// <summary>The life of a server: created, running (one <see cref="IServer.Run"/> at a time, once), done. Whoever
/// moves it to done shuts the server down, so that happens exactly once: the end of Run, or Dispose when Run never
/// started. A Dispose that meets a running loop only stops it; the loop shuts down on its own thread.</summary>
internal struct RunState
{
    private const int Created = 0, Running = 1, Done = 2;
    private int _state;

    /// <summary>True once the server is shut down or shutting down.</summary>
    internal readonly bool IsDone => Volatile.Read(in _state) == Done;

    /// <summary>Called by Run before anything else: <see cref="ObjectDisposedException"/> after Dispose or a
    /// finished Run, <see cref="InvalidOperationException"/> while another Run runs.</summary>
    internal void EnterRun(object owner)
    {
        int was = Interlocked.CompareExchange(ref _state, Running, Created);
        ObjectDisposedException.ThrowIf(was == Done, owner);
        if (was == Running)
            throw new InvalidOperationException("The server is already running: Run may be called once.");
    }

    /// <summary>Called at the end of Run, which then shuts down.</summary>
    internal void ExitRun() => Volatile.Write(ref _state, Done);

    /// <summary>Called by Dispose: true when Run never started (and now never will), so Dispose shuts down itself.</summary>
    internal bool TryDisposeBeforeRun() => Interlocked.CompareExchange(ref _state, Done, Created) == Created;
}
