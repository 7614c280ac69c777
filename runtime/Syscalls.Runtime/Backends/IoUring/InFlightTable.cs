using System;
using System.Runtime.InteropServices;
using Syscalls.Runtime.Backends.Common;

namespace Syscalls.Runtime.Backends.IoUring;

/// <summary>One operation between its enqueue and its final completion.</summary>
internal struct InFlightOp
{
    public UserData UserData;        // the caller's tag, echoed by every completion
    public SafeHandle? Handle;       // holds one DangerousAddRef until the final completion
    public RingBufferPool? Pool;     // the data buffer stays InFlight until the final completion
    public int BufferId;
    public int Fd;
    public uint Generation;          // of this table slot; part of the id the kernel echoes
    public int NextFree;
    public int HashNext;             // chain of the UserData hash bucket
    public int Scratch;              // native scratch block (sockaddr, timespec), -1 for none
    public uint SqePosition;         // io_uring: where its SQE went in the SQ ring (a close not yet consumed is ours to do)
    public ushort Group;             // buffer group of a multishot receive
    public RingOpcode Opcode;
    public bool Active;
}

/// <summary>The operations a ring has in flight, shared by both ring backends: the references that keep descriptors
/// and buffers alive until the final completion (cancellation included), a generation per slot so the id handed to
/// the kernel is never ambiguous, and a hash from the caller's <see cref="UserData"/> to its operation for Cancel.</summary>
/// <remarks>Grows by doubling (the only allocation, amortised); steady state allocates nothing. One thread.</remarks>
internal sealed class InFlightTable
{
    private InFlightOp[] _ops;
    private int[] _buckets;
    private int _free = -1;

    internal InFlightTable(int capacity)
    {
        capacity = Math.Max(16, (int)BitOperationsRoundUp((uint)capacity));
        _ops = new InFlightOp[capacity];
        _buckets = new int[capacity];
        _buckets.AsSpan().Fill(-1);
        for (int i = capacity - 1; i >= 0; i--)
        {
            _ops[i].NextFree = _free;
            _free = i;
        }
    }

    internal int Count { get; private set; }

    internal int Capacity => _ops.Length;

    internal ref InFlightOp this[int index] => ref _ops[index];

    /// <summary>The id the kernel (or the emulation) echoes for slot <paramref name="index"/>: slot and generation.</summary>
    internal ulong IdOf(int index) => ((ulong)_ops[index].Generation << 32) | (uint)index;

    /// <summary>The slot an id names, if that operation is still in flight.</summary>
    internal bool TryResolve(ulong id, out int index)
    {
        index = (int)(uint)id;
        return (uint)index < (uint)_ops.Length && _ops[index].Active && _ops[index].Generation == (uint)(id >> 32);
    }

    /// <summary>Takes a slot for <paramref name="op"/>: a reference on its handle, its buffer marked in flight.</summary>
    internal Result<int> Add(in RingOperation op)
    {
        int fd = -1;
        SafeHandle? handle = op.Handle;
        if (handle is not null)
        {
            if (!HandleRefs.TryAddRef(handle))
                return OsError.FromKind(ErrorKind.BadDescriptor);

            fd = (int)handle.DangerousGetHandle();
        }

        RingBufferPool? pool = op.Buffer.Pool;
        if (pool is not null)
        {
            try
            {
                pool.MarkInFlight(op.Buffer.BufferId);
            }
            catch (InvalidOperationException)
            {
                handle?.DangerousRelease();
                return OsError.FromKind(ErrorKind.InvalidArgument);
            }
        }

        if (_free < 0)
            Grow();
        int index = _free;
        ref InFlightOp e = ref _ops[index];
        _free = e.NextFree;
        e.Generation++;
        e.UserData = op.UserData;
        e.Handle = handle;
        e.Pool = pool;
        e.BufferId = op.Buffer.BufferId;
        e.Fd = fd;
        e.Opcode = op.Opcode;
        e.Scratch = -1;
        e.Group = op.BufferGroup;
        e.Active = true;
        int b = Bucket(op.UserData);
        e.HashNext = _buckets[b];
        _buckets[b] = index;
        Count++;
        return index;
    }

    /// <summary>The final completion: drops the references and frees the slot.</summary>
    internal void Complete(int index)
    {
        ref InFlightOp e = ref _ops[index];
        if (!e.Active)
            return;
        Unlink(index, Bucket(e.UserData));
        SafeHandle? handle = e.Handle;
        if (e.Pool is not null)
            e.Pool.MarkCompleted(e.BufferId);
        uint generation = e.Generation;
        e = default;
        e.Generation = generation;
        e.NextFree = _free;
        _free = index;
        Count--;
        handle?.DangerousRelease();   // last: may close the descriptor
    }

    /// <summary>The in-flight operation tagged <paramref name="userData"/> (the most recent one if several are), or -1.</summary>
    internal int Find(UserData userData)
    {
        for (int i = _buckets[Bucket(userData)]; i >= 0; i = _ops[i].HashNext)
        {
            if (_ops[i].UserData == userData)
                return i;
        }

        return -1;
    }

    private void Unlink(int index, int bucket)
    {
        int prev = -1;
        for (int i = _buckets[bucket]; i >= 0; prev = i, i = _ops[i].HashNext)
        {
            if (i != index)
                continue;
            if (prev < 0)
                _buckets[bucket] = _ops[i].HashNext;
            else
                _ops[prev].HashNext = _ops[i].HashNext;
            return;
        }
    }

    private int Bucket(UserData userData)
    {
        ulong h = userData.Value * 0x9E37_79B9_7F4A_7C15UL;   // Fibonacci hashing spreads slot and generation bits
        return (int)(h >> 32) & (_buckets.Length - 1);
    }

    private void Grow()
    {
        int old = _ops.Length;
        Array.Resize(ref _ops, old * 2);
        for (int i = old * 2 - 1; i >= old; i--)
        {
            _ops[i].NextFree = _free;
            _free = i;
        }

        // Rehash into twice the buckets.
        _buckets = new int[old * 2];
        _buckets.AsSpan().Fill(-1);
        for (int i = 0; i < old; i++)
        {
            if (!_ops[i].Active)
                continue;
            int b = Bucket(_ops[i].UserData);
            _ops[i].HashNext = _buckets[b];
            _buckets[b] = i;
        }
    }

    private static uint BitOperationsRoundUp(uint value) => System.Numerics.BitOperations.RoundUpToPowerOf2(Math.Max(value, 1));
}
