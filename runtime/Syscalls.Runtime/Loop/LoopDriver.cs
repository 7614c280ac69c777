using System;

namespace Syscalls.Runtime;

/// <summary>The I/O half of an <see cref="EventLoop"/>: waits on the backend and dispatches what it reports to the
/// owners registered with it. Two kinds: <see cref="PollerDriver"/> (readiness) and <see cref="RingDriver"/>
/// (completions). Loop thread only, except <see cref="Wake"/>.</summary>
internal abstract class LoopDriver : IDisposable
{
    protected LoopDriver(BackendKind backend, string reason)
    {
        Backend = backend;
        SelectionReason = reason;
    }

    /// <summary>The backend in use (after any fallback).</summary>
    internal BackendKind Backend { get; }

    /// <summary>Why it was chosen.</summary>
    internal string SelectionReason { get; }

    /// <summary>The backend's own name ("epoll", "io_uring", "emulated(poll)", ...).</summary>
    internal abstract string Name { get; }

    /// <summary>Waits up to <paramref name="timeoutMilliseconds"/> (-1 forever, 0 poll) and dispatches every event or
    /// completion to its owner; returns how many were dispatched. An error is fatal for the loop.</summary>
    internal abstract Result<int> Poll(int timeoutMilliseconds);

    /// <summary>True when the driver has work to hand to the kernel that a blocking wait must not delay (a backlog
    /// of submissions the kernel refused): the loop then waits at most a millisecond.</summary>
    internal virtual bool HasBacklog => false;

    /// <summary>Makes the current or next <see cref="Poll"/> return promptly. Any thread; safe after Dispose.</summary>
    internal abstract void Wake();

    public abstract void Dispose();
}

/// <summary>Something the loop closes when it shuts down (connections, listeners, datagram sockets), so their
/// pending operations end with an error instead of hanging, and their kernel operations drain before the backend
/// goes away. Loop thread only.</summary>
internal interface ILoopResource
{
    /// <summary>Closes at once because the loop stops: pending operations fail, kernel operations are canceled.</summary>
    void CloseForShutdown();

    /// <summary>True once every kernel operation of the resource has finished (rings wait for this at shutdown).</summary>
    bool IsDrained { get; }
}
