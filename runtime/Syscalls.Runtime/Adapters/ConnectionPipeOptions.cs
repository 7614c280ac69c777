using System;
using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Syscalls.Runtime;

/// <summary>Options of <see cref="ConnectionPipe.Create"/>. The defaults are Kestrel's Sockets transport's: the input
/// pauses receiving at 1 MiB not yet consumed by the application and resumes at half; the application's flushes wait
/// once 64 KiB are not yet sent, resuming at half; 4 KiB segments; no buffer held while the connection is
/// idle.</summary>
/// <remarks>One instance may serve any number of pipes, from any thread: <see cref="ConnectionPipe.Create"/> reads it
/// (validated and copied once per change, the copy shared by the pipes made from it), and a change reaches only the
/// pipes made after it. Change it from one thread at a time, not while another thread is creating pipes with
/// it.</remarks>
public sealed class ConnectionPipeOptions
{
    // What ConnectionPipe.Create uses: a validated copy made at the first Create after a change (every setter drops
    // it), shared by the pipes created with these options, and with it the two PipeOptions per loop. Idle connections
    // are the C10K figure: each would otherwise hold its own copy and two PipeOptions (232 bytes).
    private ConnectionPipeOptions? _snapshot;
    private ConditionalWeakTable<EventLoop, PipeOptions[]>? _pipeOptions;

    /// <summary>Where the pipes' segments come from. Default: <see cref="MemoryPool{T}.Shared"/> (the array pool; no
    /// allocation per segment). <see cref="PinnedBlockMemoryPool"/> gives memory that never moves. The pool is not
    /// disposed with the pipe.</summary>
    public MemoryPool<byte> Pool { get; set { field = value; _snapshot = null; } } = MemoryPool<byte>.Shared;

    /// <summary>Received bytes the application has not consumed at which the connection stops receiving (the peer's
    /// sends then wait in the kernel): the input's memory bound, give or take one receive. Default 1 MiB.</summary>
    public long InputPauseThreshold { get; set { field = value; _snapshot = null; } } = 1024 * 1024;

    /// <summary>Unconsumed bytes at or below which receiving resumes. Default 512 KiB.</summary>
    public long InputResumeThreshold { get; set { field = value; _snapshot = null; } } = 512 * 1024;

    /// <summary>Bytes written by the application and not yet handed to the connection at which its
    /// <see cref="PipeWriter.FlushAsync"/> waits. Default 64 KiB (the connection's send window comes on top).</summary>
    public long OutputPauseThreshold { get; set { field = value; _snapshot = null; } } = 64 * 1024;

    /// <summary>Unsent bytes at or below which a waiting flush resumes. Default 32 KiB.</summary>
    public long OutputResumeThreshold { get; set { field = value; _snapshot = null; } } = 32 * 1024;

    /// <summary>The smallest segment a pipe rents. Default 4096 (one <see cref="PinnedBlockMemoryPool"/>
    /// block).</summary>
    public int MinimumSegmentSize { get; set { field = value; _snapshot = null; } } = 4096;

    /// <summary>Where the application's continuations run: after its <c>Input.ReadAsync</c> and after an
    /// <c>Output.FlushAsync</c> that waited. Default (null): the connection's loop, like every other continuation of
    /// the connection, without allocating; such code must not block. <see cref="PipeScheduler.ThreadPool"/> moves the
    /// application to the thread pool (one work item, an allocation, per resumed read);
    /// <see cref="PipeScheduler.Inline"/> runs it inside the transport's own loop code. The transport's side always
    /// runs on the loop.</summary>
    public PipeScheduler? ApplicationScheduler { get; set { field = value; _snapshot = null; } }

    /// <summary>Waits for data with a zero-byte receive before taking a segment from the pool, so an idle connection
    /// holds no pipe buffer (Kestrel's WaitForDataBeforeAllocatingBuffer). A receive that filled its buffer is followed
    /// by another without waiting. Default true.</summary>
    public bool WaitForDataBeforeAllocatingBuffer { get; set { field = value; _snapshot = null; } } = true;

    /// <summary>What the application's reads throw once the connection failed (a reset, a failed receive or send, an
    /// <see cref="ConnectionPipe.Abort()"/> without a reason), given the runtime's error: lets a host speak its own terms
    /// (Kestrel's transport turns a reset into its <c>ConnectionResetException</c>). Default (null): the
    /// <see cref="OsException"/> itself. A reason given to <see cref="ConnectionPipe.Abort(Exception)"/> is thrown as
    /// it is.</summary>
    public Func<OsException, Exception>? ReadError { get; set { field = value; _snapshot = null; } }

    /// <summary>Flushes after the connection failed or was aborted report <see cref="FlushResult.IsCompleted"/>
    /// instead of throwing, as Kestrel's own transports do (a peer that resets mid-response is not the application's
    /// error); reads still throw. Default false: flushes throw as reads do.</summary>
    public bool FlushesEndQuietlyOnError { get; set { field = value; _snapshot = null; } }

    /// <summary>How long <see cref="ConnectionPipe.DisposeAsync"/> lets unsent output drain to a peer that does not
    /// read before it resets the connection. Default 5 s.</summary>
    public TimeSpan LingerTimeout { get; set { field = value; _snapshot = null; } } = TimeSpan.FromSeconds(5);

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

    /// <summary>These options as <see cref="ConnectionPipe.Create"/> uses them: validated, and copied so that later
    /// changes to this instance leave existing pipes alone. The copy is made once per change.</summary>
    internal ConnectionPipeOptions Snapshot()
    {
        ConnectionPipeOptions? snapshot = Volatile.Read(ref _snapshot);
        if (snapshot is not null)
            return snapshot;
        snapshot = (ConnectionPipeOptions)MemberwiseClone();
        snapshot._pipeOptions = null;
        snapshot.Validate();
        snapshot._snapshot = snapshot;   // nothing outside the runtime sees a snapshot, so nothing sets it again
        Volatile.Write(ref _snapshot, snapshot);
        return snapshot;
    }

    /// <summary>The input's and the output's <see cref="PipeOptions"/> on <paramref name="loop"/> (a snapshot's; made
    /// once per loop): the transport's side of each pipe resumes on the loop, the application's on
    /// <see cref="ApplicationScheduler"/> (default: the loop too). The pipes ignore synchronization contexts: the loop
    /// thread has one, and the schedulers decide.</summary>
    internal (PipeOptions Input, PipeOptions Output) PipeOptionsOn(EventLoop loop)
    {
        ConditionalWeakTable<EventLoop, PipeOptions[]> table = LazyInitializer.EnsureInitialized(ref _pipeOptions);
        if (!table.TryGetValue(loop, out PipeOptions[]? pair))
            pair = table.GetValue(loop, CreatePipeOptions);
        return (pair[0], pair[1]);
    }

    private PipeOptions[] CreatePipeOptions(EventLoop loop)
    {
        PipeScheduler transport = LoopPipeScheduler.For(loop);
        PipeScheduler application = ApplicationScheduler ?? transport;
        return
        [
            new PipeOptions(Pool, readerScheduler: application, writerScheduler: transport, InputPauseThreshold,
                InputResumeThreshold, MinimumSegmentSize, useSynchronizationContext: false),
            new PipeOptions(Pool, readerScheduler: transport, writerScheduler: application, OutputPauseThreshold,
                OutputResumeThreshold, MinimumSegmentSize, useSynchronizationContext: false),
        ];
    }
}
