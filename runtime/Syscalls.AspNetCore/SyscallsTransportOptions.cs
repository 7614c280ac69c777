using System;
using System.Buffers;
using Microsoft.AspNetCore.Connections;
using Syscalls.Runtime;

namespace Syscalls.AspNetCore;

/// <summary>Options of the Syscalls transport (<c>UseSyscalls</c>). The defaults are those of Kestrel's Sockets
/// transport where one exists, so that switching transports changes nothing else.</summary>
public sealed class SyscallsTransportOptions
{
    /// <summary>The runtime backend. Default <see cref="BackendKind.Auto"/>: the selector's choice (io_uring where it
    /// works, with the runtime's fallbacks and the <c>SYSCALLS_BACKEND</c> kill switch).</summary>
    public BackendKind Backend { get; set; } = BackendKind.Auto;

    /// <summary>Event loops per bound endpoint, each on its own thread; 0 (the default): one per processor. Ignored by
    /// <see cref="BackendKind.Threads"/>, where every connection has a thread of its own.</summary>
    public int Loops { get; set; }

    /// <summary>How accepted connections reach the loops: with SO_REUSEPORT each loop listens and the kernel balances
    /// (default on Linux); otherwise one acceptor hands them out in turn. Null: the runtime's default.</summary>
    public bool? ReusePort { get; set; }

    /// <summary>The listen backlog. Default 512, as Kestrel's.</summary>
    public int Backlog { get; set; } = 512;

    /// <summary>TCP_NODELAY on accepted and outbound connections. Default true.</summary>
    public bool NoDelay { get; set; } = true;

    /// <summary>Received bytes the application has not consumed at which the connection stops receiving (resuming at
    /// half). Null or 0: unbounded. Default 1 MiB.</summary>
    public long? MaxReadBufferSize { get; set; } = 1024 * 1024;

    /// <summary>Bytes written by the application and not yet sent at which its flushes wait (resuming at half). Null or
    /// 0: unbounded. Default 64 KiB.</summary>
    public long? MaxWriteBufferSize { get; set; } = 64 * 1024;

    /// <summary>Runs the application's code on the connection's event loop instead of the thread pool (Kestrel Sockets'
    /// option of the same name): less hand-off, but application code that blocks stalls every connection of that
    /// loop. Default false.</summary>
    public bool UnsafePreferInlineScheduling { get; set; }

    /// <summary>Waits for data with a zero-byte receive before taking a buffer, so an idle connection holds none.
    /// Default true.</summary>
    public bool WaitForDataBeforeAllocatingBuffer { get; set; } = true;

    /// <summary>Makes the memory pool of each bound endpoint (and of the client factory); the transport disposes it
    /// with the listener. Default (null): a <see cref="PinnedBlockMemoryPool"/>, memory the kernel can receive into
    /// without pinning.</summary>
    public Func<MemoryPool<byte>>? MemoryPoolFactory { get; set; }

    internal MemoryPool<byte> CreatePool() => MemoryPoolFactory?.Invoke() ?? new PinnedBlockMemoryPool();

    private static readonly Func<OsException, Exception> s_readError = static e => e.Error.Kind switch
    {
        ErrorKind.ConnectionReset => new ConnectionResetException(e.Message, e),
        ErrorKind.ConnectionAborted => new ConnectionAbortedException(e.Message, e),
        _ => e,
    };

    internal ConnectionPipeOptions PipeOptions(MemoryPool<byte> pool)
    {
        (long readPause, long readResume) = Thresholds(MaxReadBufferSize);
        (long writePause, long writeResume) = Thresholds(MaxWriteBufferSize);
        return new ConnectionPipeOptions
        {
            Pool = pool,
            InputPauseThreshold = readPause,
            InputResumeThreshold = readResume,
            OutputPauseThreshold = writePause,
            OutputResumeThreshold = writeResume,
            // Inline: the loop's own scheduler, so a pipelined burst's responses are all written before the send loop
            // runs and leave in one send (System.IO.Pipelines' Inline scheduler would send each one at its flush).
            ApplicationScheduler = UnsafePreferInlineScheduling ? null : System.IO.Pipelines.PipeScheduler.ThreadPool,
            WaitForDataBeforeAllocatingBuffer = WaitForDataBeforeAllocatingBuffer,
            // Errors in Kestrel's terms, as its Sockets transport reports them: a peer's reset is a
            // ConnectionResetException on Input (Kestrel logs it as an ordinary disconnect), and flushes after a
            // failure report completion rather than throw (else Kestrel logs the write of an interrupted response as
            // the application's unhandled exception). Translated where the pipe ends, not by wrapping Input: a wrapper
            // would sit on every read, and an async one resumes Kestrel on the thread pool.
            ReadError = s_readError,
            FlushesEndQuietlyOnError = true,
        };
    }

    internal LoopOptions LoopOptions() => new() { Backend = Backend };

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(Loops, nameof(Loops));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Backlog, nameof(Backlog));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxReadBufferSize ?? 0, nameof(MaxReadBufferSize));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxWriteBufferSize ?? 0, nameof(MaxWriteBufferSize));
    }

    private static (long Pause, long Resume) Thresholds(long? max)
        => max is long m and > 0 ? (m, m / 2) : (long.MaxValue, long.MaxValue);
}
