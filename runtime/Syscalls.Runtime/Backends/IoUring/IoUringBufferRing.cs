using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Threading;
using Syscalls.Linux;
using Syscalls.Runtime.Backends.Linux;
using static Syscalls.Linux.LibC;

namespace Syscalls.Runtime.Backends.IoUring;

/// <summary>A provided-buffer ring (IORING_REGISTER_PBUF_RING) over one <see cref="RingBufferPool"/>: the kernel takes
/// buffers from its head for multishot receives, returned buffers go in at the tail.</summary>
[SupportedOSPlatform("linux")]
internal sealed class IoUringBufferRing : IDisposable
{
    private readonly int _ringFd;
    private readonly unsafe io_uring_buf* _ring;   // mmap'd here, shared with the kernel until Dispose unregisters it
    private readonly nuint _ringBytes;
    private readonly uint _mask;
    private readonly unsafe byte* _slab;           // the pool's pinned slab
    private ushort _tail;

    // reason: ring is Register's live mapping; the slab is a pinned (POH) array kept alive by Pool, so its address is fixed
    private unsafe IoUringBufferRing(int ringFd, ushort groupId, RingBufferPool pool, io_uring_buf* ring, nuint bytes, uint entries)
    {
        _ringFd = ringFd;
        GroupId = groupId;
        Pool = pool;
        _ring = ring;
        _ringBytes = bytes;
        _mask = entries - 1;
        _slab = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pool.Slab));
    }

    internal ushort GroupId { get; }

    internal RingBufferPool Pool { get; }

    /// <summary>Maps and registers a ring of <c>BufferCount</c> rounded up to a power of two (at most 32768), then
    /// provides every free buffer of the pool.</summary>
    // reason: the ring is mapped here, unmapped here if registration fails, else by Dispose after unregistering
    internal static unsafe Result<IoUringBufferRing> Register(int ringFd, ushort groupId, RingBufferPool pool)
    {
        if (pool.BufferCount > 32768)
            return OsError.FromKind(ErrorKind.InvalidArgument);   // the kernel's limit on ring entries
        uint entries = BitOperations.RoundUpToPowerOf2((uint)pool.BufferCount);
        nuint bytes = entries * (nuint)sizeof(io_uring_buf);
        // The ring must be page aligned: an anonymous mapping is.
        var ring = (io_uring_buf*)mmap(null, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (ring == (io_uring_buf*)-1)
            return LinuxErrno.Last();
        io_uring_buf_reg reg = default;
        reg.ring_addr = (ulong)ring;
        reg.ring_entries = entries;
        reg.bgid = groupId;
        // reason: &reg is a stack local the kernel copies during the call
        if (io_uring_register(ringFd, IORING_REGISTER_PBUF_RING, &reg, 1) < 0)
        {
            OsError e = LinuxErrno.Last();
            munmap(ring, bytes);
            return e;
        }

        var br = new IoUringBufferRing(ringFd, groupId, pool, ring, bytes, entries);
        while (pool.TryRent(out int id))
        {
            pool.MarkProvided(id, true);
            br.Add(id);
        }

        br.Publish();
        return br;
    }

    /// <summary>A completion lent buffer <paramref name="bufferId"/> to the caller.</summary>
    internal void Lend(int bufferId) => Pool.MarkProvided(bufferId, false);

    /// <summary>Gives a lent buffer back to the kernel.</summary>
    internal void Return(int bufferId)
    {
        Pool.MarkProvided(bufferId, true);
        Add(bufferId);
        Publish();
    }

    private void Add(int bufferId)
    {
        // reason: entry _tail & _mask is ours until Publish; bufferId < BufferCount stays inside the pinned slab
        unsafe
        {
            io_uring_buf* b = _ring + (_tail & _mask);
            b->addr = (ulong)(_slab + (nint)bufferId * Pool.BufferSize);
            b->len = (uint)Pool.BufferSize;
            b->bid = (ushort)bufferId;
        }

        _tail++;
    }

    // Store-release of the tail: the kernel must see the entries written above before it sees the new tail.
    // The tail overlays bufs[0].resv, which Add never writes.
    // reason: _ring is mapped until Dispose, and its first entry is the io_uring_buf_ring header holding the tail
    private unsafe void Publish() => Volatile.Write(ref ((io_uring_buf_ring*)_ring)->tail, _tail);

    public void Dispose()
    {
        io_uring_buf_reg reg = default;
        reg.bgid = GroupId;
        // reason: &reg is a stack local; unregistering drops the kernel's pin on the ring pages before they are unmapped
        unsafe
        {
            io_uring_register(_ringFd, IORING_UNREGISTER_PBUF_RING, &reg, 1);
            munmap(_ring, _ringBytes);
        }
    }
}
