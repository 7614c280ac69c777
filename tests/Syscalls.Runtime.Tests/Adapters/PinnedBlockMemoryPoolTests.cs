using System;
using System.Buffers;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using Syscalls.Runtime.Tests.Loop;
using Xunit;

namespace Syscalls.Runtime.Tests.Adapters;

/// <summary><see cref="PinnedBlockMemoryPool"/>: blocks that never move, reused, bounded in size; and the loop as a
/// pipe scheduler.</summary>
public class PinnedBlockMemoryPoolTests
{
    [Fact]
    public void Blocks_DoNotMoveAcrossCompactingCollections()
    {
        using var pool = new PinnedBlockMemoryPool();
        var owners = new IMemoryOwner<byte>[8];
        var addresses = new nint[owners.Length];
        for (int i = 0; i < owners.Length; i++)
        {
            owners[i] = pool.Rent();
            addresses[i] = AddressOf(owners[i].Memory);
        }

        for (int gc = 0; gc < 3; gc++)
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        for (int i = 0; i < owners.Length; i++)
        {
            Assert.Equal(PinnedBlockMemoryPool.BlockSize, owners[i].Memory.Length);
            Assert.Equal(addresses[i], AddressOf(owners[i].Memory));
            owners[i].Dispose();
        }
    }

    [Fact]
    public void Rent_ReusesReturnedBlocks_AndCountsThem()
    {
        using var pool = new PinnedBlockMemoryPool();
        IMemoryOwner<byte> first = pool.Rent(100);
        nint address = AddressOf(first.Memory);
        Assert.Equal(1, pool.BlocksInUse);
        first.Dispose();
        first.Dispose();   // a second return is ignored: the block is not handed out twice
        Assert.Equal(0, pool.BlocksInUse);
        IMemoryOwner<byte> again = pool.Rent();
        IMemoryOwner<byte> other = pool.Rent();
        Assert.Equal(address, AddressOf(again.Memory));
        Assert.NotEqual(address, AddressOf(other.Memory));
        Assert.Equal(2, pool.AllocatedBlocks);
        again.Dispose();
        other.Dispose();
    }

    [Fact]
    public void Rent_BadRequests_FailClearly()
    {
        var pool = new PinnedBlockMemoryPool();
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(PinnedBlockMemoryPool.BlockSize + 1));
        IMemoryOwner<byte> held = pool.Rent();
        pool.Dispose();
        Assert.Throws<ObjectDisposedException>(() => pool.Rent());
        held.Dispose();   // returning after the pool's disposal is harmless
        Assert.Equal(0, pool.BlocksInUse);
    }

    [Fact]
    public async Task LoopScheduler_RunsOnTheLoop_AndOnThePoolOnceTheLoopStopped()
    {
        EventLoop loop = LoopKit.Start(LoopKit.DefaultBackend);
        var scheduler = loop.AsPipeScheduler();
        Assert.Same(scheduler, loop.AsPipeScheduler());
        var ran = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        scheduler.Schedule(s => ran.TrySetResult(((EventLoop)s!).IsOnLoopThread), loop);
        Assert.True(await LoopKit.Off(ran.Task), "a scheduled continuation ran off the loop");
        loop.Dispose();
        var after = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        scheduler.Schedule(_ => after.TrySetResult(true), null);
        Assert.True(await LoopKit.Off(after.Task));
    }

    private static nint AddressOf(Memory<byte> memory)
    {
        Assert.True(MemoryMarshal.TryGetArray(memory, out ArraySegment<byte> segment));
        return Marshal.UnsafeAddrOfPinnedArrayElement(segment.Array!, segment.Offset);
    }
}
