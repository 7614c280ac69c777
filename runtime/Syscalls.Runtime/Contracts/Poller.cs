using System;
using System.Runtime.InteropServices;

namespace Syscalls.Runtime;

/// <summary>What a registration waits for.</summary>
[Flags]
public enum Interest
{
    /// <summary>Nothing (keeps the registration; errors and hang-ups may still be reported).</summary>
    None = 0,
    /// <summary>Data, an incoming connection, or end of stream can be read.</summary>
    Readable = 1,
    /// <summary>The send buffer has room, or a non-blocking connect finished.</summary>
    Writable = 2,
}

/// <summary>How often a registration reports readiness. Combine <see cref="Edge"/> and <see cref="Oneshot"/> where
/// <see cref="PollerCapabilities"/> allows it.</summary>
/// <remarks>epoll: EPOLLET / EPOLLONESHOT. kqueue: EV_CLEAR / EV_DISPATCH. Windows AFD polls are oneshot by nature.</remarks>
[Flags]
public enum TriggerMode
{
    /// <summary>Reported on every wait while the condition holds.</summary>
    Level = 0,
    /// <summary>Reported when the condition becomes true; the user must drain until <see cref="ErrorKind.WouldBlock"/>.</summary>
    Edge = 1,
    /// <summary>Reported once, then disabled until re-armed with <see cref="IPoller.Modify"/>.</summary>
    Oneshot = 2,
}

/// <summary>What a wait reported for one registration.</summary>
[Flags]
public enum Readiness
{
    /// <summary>Nothing.</summary>
    None = 0,
    /// <summary>Readable (data, a pending connection, or end of stream).</summary>
    Readable = 1,
    /// <summary>Writable.</summary>
    Writable = 2,
    /// <summary>The peer shut down its writing side (EPOLLRDHUP, EV_EOF on the read filter, POLLRDHUP).</summary>
    ReadClosed = 4,
    /// <summary>Both directions are closed (EPOLLHUP, POLLHUP).</summary>
    Closed = 8,
    /// <summary>An error is pending on the descriptor (EPOLLERR, POLLERR); read it with the socket helpers.</summary>
    Error = 16,
    /// <summary>Urgent/priority data (EPOLLPRI).</summary>
    Priority = 32,
}

/// <summary>What a poller backend can do beyond level-triggered readiness.</summary>
[Flags]
public enum PollerCapabilities
{
    /// <summary>Level-triggered only.</summary>
    None = 0,
    /// <summary><see cref="TriggerMode.Edge"/> is supported.</summary>
    EdgeTriggered = 1,
    /// <summary><see cref="TriggerMode.Oneshot"/> is supported.</summary>
    Oneshot = 2,
    /// <summary><see cref="Readiness.ReadClosed"/> is reported separately from <see cref="Readiness.Readable"/>.</summary>
    ReadClosed = 4,
    /// <summary>Wait cost grows with ready descriptors rather than registered ones (epoll, kqueue, IOCP).</summary>
    ScalableWait = 8,
}

/// <summary>One readiness event: the registration's token and what is ready.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly struct PollEvent
{
    /// <summary>Creates an event.</summary>
    public PollEvent(ulong token, Readiness readiness)
    {
        Token = token;
        Readiness = readiness;
    }

    /// <summary>The token given at registration.</summary>
    public ulong Token { get; }

    /// <summary>What is ready.</summary>
    public Readiness Readiness { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Token}: {Readiness}";
}

/// <summary>A readiness poller: register descriptors with an interest and a token, wait for events into a
/// caller-provided span, wake a waiting thread from another thread.</summary>
/// <remarks>
/// <para>Threading: <see cref="Wait"/> runs on one thread at a time; <see cref="Register"/>, <see cref="Modify"/> and
/// <see cref="Deregister"/> on that thread or while no wait runs; <see cref="Wake"/> on any thread.</para>
/// <para>Descriptor lifetime: a registration holds a reference on its <see cref="SafeHandle"/> (DangerousAddRef)
/// until <see cref="Deregister"/> or <see cref="IDisposable.Dispose"/>, so disposing a registered handle defers the
/// close and its number cannot be reused under a stale token.</para>
/// <para>Signals: a wait interrupted by a signal (EINTR; SIGCHLD when a child process exits is a common one) returns
/// zero events, not an error, so zero events does not prove that the timeout passed.</para>
/// </remarks>
public interface IPoller : IDisposable
{
    /// <summary>The backend's name: "epoll", "poll", ...</summary>
    string Name { get; }

    /// <summary>What this backend supports.</summary>
    PollerCapabilities Capabilities { get; }

    /// <summary>Starts watching <paramref name="handle"/>. <see cref="ErrorKind.AlreadyExists"/> if it is registered;
    /// <see cref="ErrorKind.NotSupported"/> for a <paramref name="mode"/> missing from <see cref="Capabilities"/>.</summary>
    Result Register(SafeHandle handle, ulong token, Interest interest, TriggerMode mode = TriggerMode.Level);

    /// <summary>Changes interest, token or mode of a registration; re-arms a <see cref="TriggerMode.Oneshot"/> one.</summary>
    Result Modify(SafeHandle handle, ulong token, Interest interest, TriggerMode mode = TriggerMode.Level);

    /// <summary>Stops watching <paramref name="handle"/> and releases the registration's reference on it.</summary>
    Result Deregister(SafeHandle handle);

    /// <summary>Waits up to <paramref name="timeoutMilliseconds"/> (-1: forever, 0: poll) for events and writes at most
    /// <c>events.Length</c> of them; returns how many. Returns early with 0 after <see cref="Wake"/>.</summary>
    Result<int> Wait(Span<PollEvent> events, int timeoutMilliseconds);

    /// <summary>Makes the current or next <see cref="Wait"/> return promptly. Any thread; coalesces.</summary>
    void Wake();
}
