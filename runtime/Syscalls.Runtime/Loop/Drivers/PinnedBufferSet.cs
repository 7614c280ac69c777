using System;
using System.Collections.Generic;

namespace Syscalls.Runtime;

/// <summary>A growable set of pinned buffers (a list of <see cref="RingBufferPool"/>s of equal buffers) that a ring
/// loop's connections rent to queue outgoing bytes: each buffer is named by one int (a "ref") and carries its unsent
/// range and a next-link, so a connection's send queue is a FIFO of refs with no allocation. Grows only under load;
/// loop thread only.</summary>
internal sealed class PinnedBufferSet
{
    private readonly int _bufferSize;
    private readonly int _perPool;
    private readonly List<RingBufferPool> _pools = new();
    private int[] _next = [];
    private int[] _start = [];
    private int[] _end = [];
    private int _poolWithRoom;

    internal PinnedBufferSet(int bufferSize, int buffersPerPool)
    {
        _bufferSize = bufferSize;
        _perPool = buffersPerPool;
    }

    internal int BufferSize => _bufferSize;

    /// <summary>Buffers rented now (for tests and memory figures).</summary>
    internal int Rented { get; private set; }

    internal ref int Next(int r) => ref _next[r];

    internal ref int Start(int r) => ref _start[r];

    internal ref int End(int r) => ref _end[r];

    /// <summary>Rents an empty buffer (unsent range 0..0, no next).</summary>
    internal int Rent()
    {
        for (int p = _poolWithRoom; p < _pools.Count; p++)
        {
            if (_pools[p].TryRent(out int id))
            {
                _poolWithRoom = p;
                int r = p * _perPool + id;
                _start[r] = _end[r] = 0;
                _next[r] = -1;
                Rented++;
                return r;
            }
        }

        _pools.Add(new RingBufferPool(_bufferSize, _perPool));
        int total = _pools.Count * _perPool;
        Array.Resize(ref _next, total);
        Array.Resize(ref _start, total);
        Array.Resize(ref _end, total);
        _poolWithRoom = _pools.Count - 1;
        return Rent();
    }

    internal void Return(int r)
    {
        int p = r / _perPool;
        _pools[p].Return(r % _perPool);
        Rented--;
        if (p < _poolWithRoom)
            _poolWithRoom = p;
    }

    /// <summary>The free room after the buffer's unsent range.</summary>
    internal Span<byte> Room(int r) => _pools[r / _perPool].GetSpan(r % _perPool)[_end[r]..];

    /// <summary>The unsent range as an operation's data.</summary>
    internal BufferSlice Unsent(int r) => _pools[r / _perPool].Slice(r % _perPool, _start[r], _end[r] - _start[r]);

    /// <summary>The unsent range's bytes.</summary>
    internal ReadOnlySpan<byte> UnsentSpan(int r) => _pools[r / _perPool].GetSpan(r % _perPool)[_start[r].._end[r]];
}
