using System;
using System.Runtime.InteropServices;

namespace Syscalls.Runtime.Backends.IoUring;

/// <summary>Small native blocks (a sockaddr, a timespec) that the kernel reads by address, one per operation that
/// needs one, valid until that operation's final completion. Blocks never move: they are carved from chunks that
/// live as long as the ring. One thread.</summary>
internal sealed class NativeScratch : IDisposable
{
    internal const int BlockSize = 128;   // sockaddr_storage
    private const int PerChunk = 64;

    private nint[] _chunks = new nint[4];
    private int _chunkCount;
    private int[] _free = new int[PerChunk];
    private int _freeCount;

    internal int Rent()
    {
        if (_freeCount == 0)
            AddChunk();
        return _free[--_freeCount];
    }

    internal void Return(int block) => _free[_freeCount++] = block;

    /// <summary>The address of a rented block: valid until <see cref="Dispose"/>, whatever is rented or returned meanwhile.</summary>
    // reason: block < _chunkCount * PerChunk (Rent hands out only carved blocks) and chunks are freed only in Dispose
    internal unsafe byte* this[int block] => (byte*)_chunks[block / PerChunk] + (block % PerChunk) * BlockSize;

    private void AddChunk()
    {
        if (_chunkCount == _chunks.Length)
            Array.Resize(ref _chunks, _chunks.Length * 2);
        // reason: a fresh native chunk owned by this object, freed in Dispose; only its address is kept
        unsafe
        {
            _chunks[_chunkCount] = (nint)NativeMemory.AllocZeroed(PerChunk * BlockSize);
        }

        int first = _chunkCount * PerChunk;
        _chunkCount++;
        if (_free.Length < _chunkCount * PerChunk)
            Array.Resize(ref _free, _chunkCount * PerChunk);
        for (int i = PerChunk - 1; i >= 0; i--)
            _free[_freeCount++] = first + i;
    }

    public void Dispose()
    {
        // reason: every chunk came from AllocZeroed and is freed once; the ring's operations are over by now
        unsafe
        {
            for (int i = 0; i < _chunkCount; i++)
                NativeMemory.Free((void*)_chunks[i]);
        }

        _chunkCount = 0;
        _freeCount = 0;
    }
}
