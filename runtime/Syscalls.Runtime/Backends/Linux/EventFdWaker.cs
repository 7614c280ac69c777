using System;
using System.Runtime.Versioning;
using System.Threading;
using Syscalls.Runtime.Backends.Common;

namespace Syscalls.Runtime.Backends.Linux;

/// <summary>The cross-thread waker of epoll, poll and io_uring: an eventfd that <see cref="Wake"/> signals from any
/// thread, once until the owner drains it, under a reference on the descriptor, so a Wake racing Dispose never
/// writes to a closed number or to one something else took meanwhile.</summary>
[SupportedOSPlatform("linux")]
internal sealed class EventFdWaker : IDisposable
{
    private readonly SharedHandle _handle;
    private int _pending;

    private EventFdWaker(int fd)
    {
        Fd = fd;
        _handle = new SharedHandle(fd, SharedHandleKind.Descriptor);
    }

    /// <summary>The eventfd, for the owning thread (to register or poll it; it closes it with Dispose).</summary>
    internal int Fd { get; }

    internal static Result<EventFdWaker> Create()
    {
        Result<int> fd = Sys.EventFd();
        return fd.TryGetValue(out int f) ? new EventFdWaker(f) : fd.Error;
    }

    /// <summary>Signals the eventfd unless a signal is already pending. Any thread; never throws.</summary>
    internal void Wake()
    {
        if (Interlocked.Exchange(ref _pending, 1) != 0 || !_handle.TryUse(out nint fd))
            return;
        try
        {
            // A write that failed must not leave the mark: every later Wake would be dropped.
            if (!Sys.EventFdSignal((int)fd))
                Volatile.Write(ref _pending, 0);
        }
        finally
        {
            _handle.DangerousRelease();
        }
    }

    /// <summary>The owner saw the eventfd readable: resets the counter, then clears the pending mark. In that order: a
    /// Wake between the two finds the mark still set and sends nothing, and the owner runs the work queued before that
    /// Wake once this returns; clearing first would let the reset swallow a racing Wake's signal while its mark stays
    /// set, and every later Wake would be dropped (a loop asleep for good).</summary>
    internal void Drain()
    {
        Sys.EventFdDrain(Fd);
        Volatile.Write(ref _pending, 0);
    }

    /// <summary>Closes the eventfd now, or when the last Wake under way is done.</summary>
    public void Dispose() => _handle.Dispose();
}
