using System.Collections.Generic;
using System.Linq;
using System.Net.Sockets;
using Syscalls.Runtime.Sockets;
using Syscalls.Runtime.Tests.Infrastructure;
using Xunit;

namespace Syscalls.Runtime.Tests.Ring;

/// <summary>Close with an operation in flight, then the descriptor number reused by the next connection. Runs alone:
/// a parallel test opening descriptors would take the freed number first.</summary>
[Collection(nameof(RingDescriptorReuseTests))]
[CollectionDefinition(nameof(RingDescriptorReuseTests), DisableParallelization = true)]
public class RingDescriptorReuseTests
{
    [Theory]
    [MemberData(nameof(RingKit.Backends), MemberType = typeof(RingKit))]
    public void Ring_CloseWithRecvInFlight_LateCompletionRecognisedByGenerationAfterDescriptorReuse(string backend)
    {
        using IRing ring = RingKit.Create(backend);
        var (listener, ep) = RingKit.Listen();
        using (listener)
        {
            var pool = new RingBufferPool(256, 2);
            var got = new List<RingCompletion>();
            using Socket client1 = Peers.Connect(ep);
            using Socket client2 = Peers.Connect(ep);   // queued now, so its own descriptor is not the freed one
            RingKit.Enqueue(ring, RingOperation.Accept(listener, RingKit.Tag(0, 1, 1)));
            var first = new SocketHandle(RingKit.WaitFor(ring, got, RingKit.Tag(0, 1, 1)).Result);
            int fd = first.Descriptor;
            // Slot 7, generation 1: a receive that will never see data, then a close with it still in flight.
            UserData oldUse = UserData.Create(7, 1, 2);
            Assert.True(pool.TryRent(out int b1));
            RingKit.Enqueue(ring, RingOperation.Recv(first, pool.Slice(b1, 0, 256), oldUse));
            ring.Submit();
            RingKit.Enqueue(ring, RingOperation.Close(first, UserData.Create(7, 1, 3)));
            Assert.True(first.IsClosed, "the ring took the descriptor from its handle");
            // The number is free once the close completes (io_uring may run it as deferred task work).
            Assert.True(RingKit.WaitFor(ring, got, UserData.Create(7, 1, 3)).IsSuccess);
            // The same slot, next generation, on a new connection that gets the freed descriptor number.
            RingKit.Enqueue(ring, RingOperation.Accept(listener, RingKit.Tag(0, 1, 2)));
            RingKit.Drive(ring, got, () => got.Exists(c => c.UserData == RingKit.Tag(0, 1, 2)) && got.Exists(c => c.UserData == oldUse));
            using var second = new SocketHandle(got.Single(c => c.UserData == RingKit.Tag(0, 1, 2)).Result);
            Assert.Equal(fd, second.Descriptor);   // the number was reused
            UserData newUse = oldUse.NextGeneration();
            Assert.True(pool.TryRent(out int b2));
            RingKit.Enqueue(ring, RingOperation.Recv(second, pool.Slice(b2, 0, 256), newUse));
            client2.Send(new byte[] { 42 });
            RingKit.WaitFor(ring, got, newUse);
            RingCompletion late = got.Single(c => c.UserData.Slot == 7 && c.UserData.Tag == 2 && c.UserData.Generation == 1);
            Assert.Equal(ErrorKind.Canceled, late.Error.Kind);
            Assert.False(late.UserData.IsSameUse(newUse), "a completion of the old use must not pass for the new one");
            Assert.Equal(1, got.Single(c => c.UserData == newUse).Result);
            Assert.False(pool.IsInFlight(b1));
        }
    }
}
