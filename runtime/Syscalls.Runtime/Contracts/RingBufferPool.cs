using System;
using System.Threading;

namespace Syscalls.Runtime;

/// <summary>Fixed-size buffers carved from one pinned slab, for ring operations (and provided-buffer groups).
/// The slab lives on the pinned object heap, so its address never changes and it stays valid while any ring that
/// uses it holds a reference, including after cancellation, until the final completion.</summary>
/// <remarks>States of a buffer: free, rented (the caller's), in flight (the kernel's: from submission to the final
/// completion), provided (in a registered buffer group). <see cref="Return"/> of an in-flight buffer throws, so a
/// buffer cannot be reused while the kernel may still write it. Rent/Return are for one thread at a time.</remarks>
public sealed class RingBufferPool
{
    private const byte Free = 0, Rented = 1, InFlight = 2, Provided = 3;

    private readonly byte[] _slab;
    private readonly byte[] _state;
    private readonly int[] _free;
    private int _freeCount;

    /// <summary>Allocates <paramref name="bufferCount"/> buffers of <paramref name="bufferSize"/> bytes.</summary>
    public RingBufferPool(int bufferSize, int bufferCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bufferSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bufferCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((long)bufferSize * bufferCount, int.MaxValue);
        BufferSize = bufferSize;
        BufferCount = bufferCount;
        _slab = GC.AllocateUninitializedArray<byte>(bufferSize * bufferCount, pinned: true);
        _state = new byte[bufferCount];
        _free = new int[bufferCount];
        for (int i = 0; i < bufferCount; i++)
            _free[i] = bufferCount - 1 - i;
        _freeCount = bufferCount;
    }

    /// <summary>Bytes per buffer.</summary>
    public int BufferSize { get; }

    /// <summary>Number of buffers.</summary>
    public int BufferCount { get; }

    /// <summary>Buffers that can be rented now.</summary>
    public int Available => _freeCount;

    /// <summary>The pinned slab; backends take its address (it never moves).</summary>
    internal byte[] Slab => _slab;

    /// <summary>Takes a free buffer.</summary>
    public bool TryRent(out int bufferId)
    {
        if (_freeCount == 0)
        {
            bufferId = -1;
            return false;
        }

        bufferId = _free[--_freeCount];
        _state[bufferId] = Rented;
        return true;
    }

    /// <summary>Gives a rented buffer back. Throws if the kernel may still use it.</summary>
    public void Return(int bufferId)
    {
        CheckId(bufferId);
        if (_state[bufferId] != Rented)
            throw new InvalidOperationException($"Buffer {bufferId} is not rented (state {_state[bufferId]}): in flight or provided buffers return through their ring.");
        _state[bufferId] = Free;
        _free[_freeCount++] = bufferId;
    }

    /// <summary>The whole buffer.</summary>
    public Span<byte> GetSpan(int bufferId)
    {
        CheckId(bufferId);
        return _slab.AsSpan(bufferId * BufferSize, BufferSize);
    }

    /// <summary>A slice of a buffer for an operation.</summary>
    public BufferSlice Slice(int bufferId, int offset, int length)
    {
        CheckId(bufferId);
        if ((uint)offset > (uint)BufferSize || (uint)length > (uint)(BufferSize - offset))
            throw new ArgumentOutOfRangeException(nameof(length));
        return new BufferSlice(this, bufferId, offset, length);
    }

    /// <summary>True when the buffer is with the kernel (submitted and not finally completed).</summary>
    public bool IsInFlight(int bufferId)
    {
        CheckId(bufferId);
        return Volatile.Read(ref _state[bufferId]) == InFlight;
    }

    /// <summary>Rented to in flight; called by a ring when it submits an operation that uses the buffer.</summary>
    internal void MarkInFlight(int bufferId)
    {
        if (_state[bufferId] != Rented)
            throw new InvalidOperationException($"Buffer {bufferId} must be rented to be submitted.");
        _state[bufferId] = InFlight;
    }

    /// <summary>In flight back to rented; called by a ring at the operation's final completion.</summary>
    internal void MarkCompleted(int bufferId) => _state[bufferId] = Rented;

    /// <summary>Free to provided (a registered buffer group owns it) or back; called by a ring.</summary>
    internal void MarkProvided(int bufferId, bool provided) => _state[bufferId] = provided ? Provided : Rented;

    /// <summary>Takes every free buffer for a buffer group; called by a ring when it registers the pool.</summary>
    internal void ProvideAll()
    {
        while (_freeCount > 0)
            _state[_free[--_freeCount]] = Provided;
    }

    private void CheckId(int bufferId)
    {
        if ((uint)bufferId >= (uint)BufferCount)
            throw new ArgumentOutOfRangeException(nameof(bufferId));
    }
}

/// <summary>A byte range of one <see cref="RingBufferPool"/> buffer, as an operation's data.</summary>
public readonly struct BufferSlice
{
    internal BufferSlice(RingBufferPool pool, int bufferId, int offset, int length)
    {
        Pool = pool;
        BufferId = bufferId;
        Offset = offset;
        Length = length;
    }

    /// <summary>The pool (null for <c>default</c>).</summary>
    public RingBufferPool? Pool { get; }

    /// <summary>The buffer.</summary>
    public int BufferId { get; }

    /// <summary>Offset within the buffer.</summary>
    public int Offset { get; }

    /// <summary>Length in bytes.</summary>
    public int Length { get; }

    /// <summary>The bytes.</summary>
    public Span<byte> Span => Pool is null ? default : Pool.GetSpan(BufferId).Slice(Offset, Length);
}
