using System;
using System.Buffers;
using System.IO.Pipelines;

namespace Syscalls.Runtime;

/// <summary>Options of <see cref="ConnectionPipe.Create"/>. The defaults are Kestrel's Sockets transport's: the input
/// pauses receiving at 1 MiB not yet consumed by the application and resumes at half; the application's flushes wait
/// once 64 KiB are not yet sent, resuming at half; 4 KiB segments; no buffer held while the connection is
/// idle.</summary>
public sealed class ConnectionPipeOptions
{
    /// <summary>Where the pipes' segments come from. Default: <see cref="MemoryPool{T}.Shared"/> (the array pool; no
    /// allocation per segment). <see cref="PinnedBlockMemoryPool"/> gives memory that never moves. The pool is not
    /// disposed with the pipe.</summary>
    public MemoryPool<byte> Pool { get; set; } = MemoryPool<byte>.Shared;

    /// <summary>Received bytes the application has not consumed at which the connection stops receiving (the peer's
    /// sends then wait in the kernel): the input's memory bound, give or take one receive. Default 1 MiB.</summary>
    public long InputPauseThreshold { get; set; } = 1024 * 1024;

    /// <summary>Unconsumed bytes at or below which receiving resumes. Default 512 KiB.</summary>
    public long InputResumeThreshold { get; set; } = 512 * 1024;

    /// <summary>Bytes written by the application and not yet handed to the connection at which its
    /// <see cref="PipeWriter.FlushAsync"/> waits. Default 64 KiB (the connection's send window comes on top).</summary>
    public long OutputPauseThreshold { get; set; } = 64 * 1024;

    /// <summary>Unsent bytes at or below which a waiting flush resumes. Default 32 KiB.</summary>
    public long OutputResumeThreshold { get; set; } = 32 * 1024;

    /// <summary>The smallest segment a pipe rents. Default 4096 (one <see cref="PinnedBlockMemoryPool"/>
    /// block).</summary>
    public int MinimumSegmentSize { get; set; } = 4096;

    /// <summary>Where the application's continuations run: after its <c>Input.ReadAsync</c> and after an
    /// <c>Output.FlushAsync</c> that waited. Default (null): the connection's loop, like every other continuation of
    /// the connection, without allocating; such code must not block. <see cref="PipeScheduler.ThreadPool"/> moves the
    /// application to the thread pool (one work item, an allocation, per resumed read);
    /// <see cref="PipeScheduler.Inline"/> runs it inside the transport's own loop code. The transport's side always
    /// runs on the loop.</summary>
    public PipeScheduler? ApplicationScheduler { get; set; }

    /// <summary>Waits for data with a zero-byte receive before taking a segment from the pool, so an idle connection
    /// holds no pipe buffer (Kestrel's WaitForDataBeforeAllocatingBuffer). A receive that filled its buffer is followed
    /// by another without waiting. Default true.</summary>
    public bool WaitForDataBeforeAllocatingBuffer { get; set; } = true;

    /// <summary>What the application's reads throw once the connection failed (a reset, a failed receive or send, an
    /// <see cref="ConnectionPipe.Abort()"/> without a reason), given the runtime's error: lets a host speak its own terms
    /// (Kestrel's transport turns a reset into its <c>ConnectionResetException</c>). Default (null): the
    /// <see cref="OsException"/> itself. A reason given to <see cref="ConnectionPipe.Abort(Exception)"/> is thrown as
    /// it is.</summary>
    public Func<OsException, Exception>? ReadError { get; set; }

    /// <summary>Flushes after the connection failed or was aborted report <see cref="FlushResult.IsCompleted"/>
    /// instead of throwing, as Kestrel's own transports do (a peer that resets mid-response is not the application's
    /// error); reads still throw. Default false: flushes throw as reads do.</summary>
    public bool FlushesEndQuietlyOnError { get; set; }

    /// <summary>How long <see cref="ConnectionPipe.DisposeAsync"/> lets unsent output drain to a peer that does not
    /// read before it resets the connection. Default 5 s.</summary>
    public TimeSpan LingerTimeout { get; set; } = TimeSpan.FromSeconds(5);

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Pool, nameof(Pool));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(InputPauseThreshold, nameof(InputPauseThreshold));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(OutputPauseThreshold, nameof(OutputPauseThreshold));
        ArgumentOutOfRangeException.ThrowIfNegative(InputResumeThreshold, nameof(InputResumeThreshold));
        ArgumentOutOfRangeException.ThrowIfNegative(OutputResumeThreshold, nameof(OutputResumeThreshold));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(InputResumeThreshold, InputPauseThreshold,
            nameof(InputResumeThreshold));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(OutputResumeThreshold, OutputPauseThreshold,
            nameof(OutputResumeThreshold));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MinimumSegmentSize, nameof(MinimumSegmentSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(LingerTimeout, TimeSpan.Zero, nameof(LingerTimeout));
    }

    internal ConnectionPipeOptions Clone() => (ConnectionPipeOptions)MemberwiseClone();
}
