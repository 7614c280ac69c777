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
            Sys.EventFdSignal((int)fd);
        }
        finally
        {
            _handle.DangerousRelease();
        }
    }

    /// <summary>The owner saw the eventfd readable: clears the pending mark first, so a Wake racing this drain signals
    /// again and the next wait sees it, then resets the counter.</summary>
    internal void Drain()
    {
        Volatile.Write(ref _pending, 0);
        Sys.EventFdDrain(Fd);
    }

    /// <summary>Closes the eventfd now, or when the last Wake under way is done.</summary>
    public void Dispose() => _handle.Dispose();
}
