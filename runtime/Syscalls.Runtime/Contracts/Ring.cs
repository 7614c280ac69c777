using System;

namespace Syscalls.Runtime;

/// <summary>Flags of one completion.</summary>
[Flags]
public enum RingCompletionFlags
{
    /// <summary>This is the operation's final completion.</summary>
    None = 0,
    /// <summary>More completions of the same (multishot) operation follow; its resources stay in use.</summary>
    More = 1,
    /// <summary><see cref="RingCompletion.BufferId"/> names a provided buffer now lent to the caller.</summary>
    Buffer = 2,
    /// <summary>A <see cref="RingOpcode.ReceiveFrom"/> datagram was longer than the buffer and was cut to it.</summary>
    Truncated = 4,
}

/// <summary>What a ring backend can do.</summary>
[Flags]
public enum RingFeatures
{
    /// <summary>The basic single-shot operations only.</summary>
    None = 0,
    /// <summary><see cref="RingOpcode.AcceptMultishot"/>.</summary>
    MultishotAccept = 1,
    /// <summary><see cref="RingOpcode.RecvMultishot"/>.</summary>
    MultishotRecv = 2,
    /// <summary>Buffer groups (<see cref="IRing.RegisterBufferGroup"/>).</summary>
    ProvidedBuffers = 4,
    /// <summary>Operations run in the kernel (io_uring, IOCP) rather than as readiness plus non-blocking calls.</summary>
    KernelCompletion = 8,
}

/// <summary>One harvested completion.</summary>
public readonly struct RingCompletion
{
    /// <summary>Creates a completion.</summary>
    public RingCompletion(UserData userData, int result, OsError error, RingCompletionFlags flags, int bufferId)
    {
        UserData = userData;
        Result = result;
        Error = error;
        Flags = flags;
        BufferId = bufferId;
    }

    /// <summary>Creates the completion of a <see cref="RingOpcode.ReceiveFrom"/>, naming its sender.</summary>
    public RingCompletion(UserData userData, int result, OsError error, RingCompletionFlags flags, NetEndpoint source)
        : this(userData, result, error, flags, -1) => Source = source;

    /// <summary>The operation's tag.</summary>
    public UserData UserData { get; }

    /// <summary>Bytes transferred, or the accepted descriptor (wrap it in a SafeHandle at once), or 0; for
    /// <see cref="RingOpcode.ReceiveFrom"/> the datagram's length (see there for a truncated one).</summary>
    public int Result { get; }

    /// <summary>The error; <see cref="ErrorKind.None"/> on success, <see cref="ErrorKind.Canceled"/> after a cancel.</summary>
    public OsError Error { get; }

    /// <summary>Flags.</summary>
    public RingCompletionFlags Flags { get; }

    /// <summary>The provided buffer holding the data when <see cref="RingCompletionFlags.Buffer"/> is set, else -1.</summary>
    public int BufferId { get; }

    /// <summary>The sender of a <see cref="RingOpcode.ReceiveFrom"/> datagram; <c>default</c> otherwise.</summary>
    public NetEndpoint Source { get; }

    /// <summary>A received datagram was cut to the buffer (<see cref="RingCompletionFlags.Truncated"/>).</summary>
    public bool IsTruncated => (Flags & RingCompletionFlags.Truncated) != 0;

    /// <summary>True on success.</summary>
    public bool IsSuccess => Error.Kind == ErrorKind.None;

    /// <summary>True when more completions of the same operation follow.</summary>
    public bool HasMore => (Flags & RingCompletionFlags.More) != 0;

    /// <inheritdoc/>
    public override string ToString() => $"{UserData}: {(IsSuccess ? Result.ToString(System.Globalization.CultureInfo.InvariantCulture) : Error.ToString())} {Flags}";
}

/// <summary>Options for a ring.</summary>
public sealed class RingOptions
{
    /// <summary>Submission queue size (rounded up to a power of two by io_uring).</summary>
    public int Entries { get; set; } = 1024;

    /// <summary>Features the caller needs; a backend lacking one is not chosen (the selector falls back).</summary>
    public RingFeatures RequiredFeatures { get; set; }
}

/// <summary>A completion ring: enqueue operations tagged with <see cref="UserData"/>, submit them in batches, harvest
/// completions in batches.</summary>
/// <remarks>
/// <para>Threading: one thread drives the ring (enqueue, submit, harvest, buffer returns); <see cref="Wake"/> on any.</para>
/// <para>Lifetime: buffers and descriptors of an operation stay referenced until its final completion (the one without
/// <see cref="RingCompletionFlags.More"/>), cancellation included. Dispose cancels what is pending and waits for it.</para>
/// <para>Implementations: io_uring through the raw rings; an emulated ring on a poller with non-blocking calls;
/// later IOCP. Each reports what it supports in <see cref="Features"/> and <see cref="Supports"/>.</para>
/// </remarks>
public interface IRing : IDisposable
{
    /// <summary>The backend's name: "io_uring", "emulated(epoll)", ...</summary>
    string Name { get; }

    /// <summary>What this backend can do.</summary>
    RingFeatures Features { get; }

    /// <summary>True when <paramref name="opcode"/> works on this kernel/backend.</summary>
    bool Supports(RingOpcode opcode);

    /// <summary>Operations that can be enqueued before a <see cref="Submit"/> is needed.</summary>
    int SubmissionSpace { get; }

    /// <summary>Queues an operation; <see cref="ErrorKind.WouldBlock"/> when the submission queue is full (submit
    /// and retry), <see cref="ErrorKind.NotSupported"/> for an unsupported opcode.</summary>
    Result Enqueue(in RingOperation operation);

    /// <summary>Hands queued operations to the kernel without waiting; returns how many.</summary>
    Result<int> Submit();

    /// <summary>Copies completions that are already available (no waiting); returns how many.</summary>
    int Harvest(Span<RingCompletion> completions);

    /// <summary>Submits what is queued, waits until at least one completion is available, the timeout passes
    /// (-1: forever) or <see cref="Wake"/> is called, then harvests; returns how many. EINTR yields 0.</summary>
    Result<int> SubmitAndWait(Span<RingCompletion> completions, int timeoutMilliseconds);

    /// <summary>Registers a pool as buffer group <paramref name="groupId"/> for multishot receives; all its free
    /// buffers become the ring's.</summary>
    Result RegisterBufferGroup(ushort groupId, RingBufferPool pool);

    /// <summary>Gives a buffer lent by a completion (<see cref="RingCompletionFlags.Buffer"/>) back to its group.</summary>
    void ReturnBuffer(ushort groupId, int bufferId);

    /// <summary>Makes the current or next <see cref="SubmitAndWait"/> return promptly. Any thread; coalesces.</summary>
    void Wake();
}
