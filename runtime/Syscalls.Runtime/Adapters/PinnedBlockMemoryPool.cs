using System;
using System.Buffers;
using System.Collections.Concurrent;
using System.Threading;

namespace Syscalls.Runtime;

/// <summary>A <see cref="MemoryPool{T}"/> of 4 KiB blocks allocated on the pinned object heap: a block never moves, so
/// a transport can hand pipe memory to the kernel (a receive or a registered buffer) without pinning it per operation,
/// and the GC never has to work around pinned handles in the middle of its heap. Blocks are reused: steady state
/// allocates nothing. Pass it as <see cref="ConnectionPipeOptions.Pool"/>.</summary>
/// <remarks>
/// <para><see cref="Rent"/> asks for at most <see cref="BlockSize"/> bytes (<see cref="MaxBufferSize"/>; a pipe asks
/// the array pool for anything larger). A returned block goes back to a free list that is kept until the pool is
/// disposed (its size is the pool's high-water mark); after <see cref="MemoryPool{T}.Dispose()"/> returned blocks are
/// dropped for the GC and <see cref="Rent"/> throws.</para>
/// <para>Thread-safe: rent and return from any thread. Returning a block twice is ignored (the second time does not
/// hand it out twice).</para>
/// </remarks>
public sealed class PinnedBlockMemoryPool : MemoryPool<byte>
{
    /// <summary>The size of every block: one page, the pipes' default segment size.</summary>
    public const int BlockSize = 4096;

    private readonly ConcurrentQueue<Block> _free = new();
    private int _allocated;
    private int _inUse;
    private volatile bool _disposed;

    /// <inheritdoc/>
    public override int MaxBufferSize => BlockSize;

    /// <summary>Blocks allocated so far (in use or free).</summary>
    internal int AllocatedBlocks => Volatile.Read(ref _allocated);

    /// <summary>Blocks rented and not yet returned.</summary>
    internal int BlocksInUse => Volatile.Read(ref _inUse);

    /// <summary>Rents one block of <see cref="BlockSize"/> bytes.</summary>
    /// <param name="minBufferSize">At most <see cref="BlockSize"/>; -1 or 0 for the default.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minBufferSize"/> is larger than a
    /// block.</exception>
    /// <exception cref="ObjectDisposedException">The pool was disposed.</exception>
    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > BlockSize)
        {
            throw new ArgumentOutOfRangeException(nameof(minBufferSize), minBufferSize,
                $"A block holds {BlockSize} bytes at most.");
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_free.TryDequeue(out Block? block))
        {
            block = new Block(this);
            Interlocked.Increment(ref _allocated);
        }

        block.Lease();
        Interlocked.Increment(ref _inUse);
        return block;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        _free.Clear();
    }

    private void Return(Block block)
    {
        Interlocked.Decrement(ref _inUse);
        if (!_disposed)
            _free.Enqueue(block);
    }

    /// <summary>One pinned block; disposing it returns it to its pool.</summary>
    private sealed class Block : IMemoryOwner<byte>
    {
        private readonly PinnedBlockMemoryPool _pool;
        private readonly byte[] _array;
        private int _leased;

        internal Block(PinnedBlockMemoryPool pool)
        {
            _pool = pool;
            // Uninitialized: a pipe writes before anything reads, and zeroing every new page would cost for nothing.
            _array = GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true);
        }

        public Memory<byte> Memory => _array;

        internal void Lease() => Volatile.Write(ref _leased, 1);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _leased, 0) == 1)
                _pool.Return(this);
        }
    }
}
