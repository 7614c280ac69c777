using System;

namespace Syscalls.Runtime;

/// <summary>The selector's choice for event loops: the same backends, environment overrides and fallbacks as the
/// servers, made into a <see cref="LoopDriver"/>.</summary>
public static partial class BackendSelector
{
    /// <summary>The driver of a new loop: a ring (io_uring, IOCP, emulated) or a poller; io_uring and IOCP fall back
    /// (with the reason recorded) when setup fails or a feature is missing. <see cref="BackendKind.Threads"/> asks for
    /// the plain poller a thread-per-connection loop waits on (poll, WSAPoll, kqueue).</summary>
    internal static LoopDriver CreateLoopDriver(LoopOptions options)
    {
        BackendKind kind;
        string reason;
        if (options.Backend == BackendKind.Threads)
        {
            kind = BackendKind.Threads;
            reason = "requested";
        }
        else
        {
            kind = ResolveServerBackend(options.Backend, out reason);
        }

        while (IsRing(kind))
        {
            // io_uring and the emulated ring must offer multishot receives into a buffer group; IOCP runs single-shot.
            RingFeatures needed = kind == BackendKind.Iocp ? RingFeatures.None : RingFeatures.MultishotRecv | RingFeatures.ProvidedBuffers;
            if (TryCreateRing(kind, new RingOptions { Entries = RingDriver.Entries, RequiredFeatures = needed }, out IRing? ring, out string why)
                || TryCreateRing(kind, new RingOptions { RequiredFeatures = needed }, out ring, out why))
            {
                try
                {
                    return new RingDriver(kind, reason, ring!, options);
                }
                catch
                {
                    ring!.Dispose();
                    throw;
                }
            }

            BackendKind next = FallbackOf(kind);
            reason += $"; {NameOf(kind)} ring setup failed ({why}), falling back to {NameOf(next)}";
            kind = FirstUsable(next, ref reason);
        }

        if (kind == BackendKind.Threads)
        {
            // A thread-per-connection loop waits on one socket: the plainest poller of the OS, which costs no more
            // descriptors than its waker.
            BackendKind plain = OperatingSystem.IsWindows() ? BackendKind.WsaPoll : OperatingSystem.IsMacOS() ? BackendKind.Kqueue : BackendKind.Poll;
            IPoller? p = CreatePollerExact(plain, out OsError perror);
            return new PollerDriver(BackendKind.Threads, reason, p ?? throw new OsException(perror));
        }

        IPoller? poller = CreatePollerExact(kind, out OsError error);
        if (poller is null && kind == BackendKind.Epoll && CreatePollerExact(BackendKind.Poll, out _) is { } fallback)
        {
            reason += $"; epoll setup failed ({error}), falling back to poll";
            return new PollerDriver(BackendKind.Poll, reason, fallback);
        }

        return new PollerDriver(kind, reason, poller ?? throw new OsException(error));
    }
}
