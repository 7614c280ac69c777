using System;
using System.Runtime.Versioning;
using System.Threading;
using Syscalls.Runtime.Backends.Common;
using static Syscalls.Windows.Kernel32;

namespace Syscalls.Runtime.Backends.Windows;

/// <summary>The cross-thread waker of the AFD poller and the IOCP ring: a packet without an OVERLAPPED posted to their
/// completion port, once until the owner dequeues it. It also owns the port's closing, so a Wake racing Dispose posts
/// under a reference and never reaches a closed handle or one whose value something else took meanwhile.</summary>
[SupportedOSPlatform("windows")]
internal sealed class PortWaker : IDisposable
{
    private readonly SharedHandle _port;
    private readonly nuint _key;
    private int _pending;

    /// <param name="port">The completion port, owned from now on (closed by <see cref="Dispose"/>).</param>
    /// <param name="key">The completion key of wake packets.</param>
    internal PortWaker(nint port, nuint key)
    {
        _port = new SharedHandle(port, SharedHandleKind.KernelHandle);
        _key = key;
    }

    /// <summary>Posts a wake packet unless one is pending. Any thread; never throws.</summary>
    // reason: a wake packet carries no OVERLAPPED; the null is queued as a value and never dereferenced
    internal unsafe void Wake()
    {
        if (Interlocked.Exchange(ref _pending, 1) != 0 || !_port.TryUse(out nint port))
            return;
        try
        {
            // A packet that was not queued must not leave the mark: every later Wake would be dropped.
            if (PostQueuedCompletionStatus(port, 0, _key, null) == 0)
                Volatile.Write(ref _pending, 0);
        }
        finally
        {
            _port.DangerousRelease();
        }
    }

    /// <summary>The owner dequeued the wake packet: the next Wake posts again.</summary>
    internal void Dequeued() => Volatile.Write(ref _pending, 0);

    /// <summary>Closes the port now, or when the last Wake under way is done.</summary>
    public void Dispose() => _port.Dispose();
}
