using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using Syscalls.Runtime.Sockets;
using Syscalls.Runtime.Tests.Infrastructure;
using Xunit;
using static Syscalls.Linux.LibC;

namespace Syscalls.Runtime.Tests.Ring;

/// <summary>Close with an operation in flight, then the descriptor number reused by another socket.</summary>
/// <remarks>The reuse is made deliberate rather than hoped for: the new connection is duplicated onto the freed number
/// with F_DUPFD (lowest free number at or above the one asked for, i.e. exactly it while it is free). Other threads of
/// the process (parallel tests, finalizers closing leaked handles) can still take the number in the moment between
/// the close and the dup; that attempt is discarded and the scenario runs again, never skipped.</remarks>
public class RingDescriptorReuseTests
{
    private const int Attempts = 50;

    [Theory]
    [MemberData(nameof(RingKit.Backends), MemberType = typeof(RingKit))]
    public void Ring_CloseWithRecvInFlight_LateCompletionRecognisedByGenerationAfterDescriptorReuse(string backend)
    {
        Platform.RequireLinux("the number is taken back with fcntl/dup2 (a Winsock SOCKET is a handle the test cannot choose)");
        using IRing ring = RingKit.Create(backend);
        var (listener, ep) = RingKit.Listen();
        using (listener)
        {
            var pool = new RingBufferPool(256, 2);
            for (uint attempt = 1; attempt <= Attempts; attempt++)
            {
                if (TryOnce(ring, listener, ep, pool, attempt))
                    return;
            }

            Assert.Fail($"the freed descriptor number was taken by another thread in all {Attempts} attempts");
        }
    }

    /// <summary>One run of the scenario; false when the number could not be reused (nothing asserted then).</summary>
    private static bool TryOnce(IRing ring, SocketHandle listener, IPEndPoint ep, RingBufferPool pool, uint attempt)
    {
        var got = new List<RingCompletion>();
        using Socket client1 = Peers.Connect(ep);
        using Socket client2 = Peers.Connect(ep);
        // Accept tags carry the attempt as their generation, so completions of one attempt never match another's.
        UserData accept1 = RingKit.Tag(0, 1, attempt), accept2 = RingKit.Tag(0, 2, attempt);
        RingKit.Enqueue(ring, RingOperation.Accept(listener, accept1));
        var first = new SocketHandle(RingKit.WaitFor(ring, got, accept1).Result);
        int fd = first.Descriptor;
        RingKit.Enqueue(ring, RingOperation.Accept(listener, accept2));
        using var other = new SocketHandle(RingKit.WaitFor(ring, got, accept2).Result);

        // Slot 7: a receive that will never see data (client1 stays silent), then a close with it still in flight.
        UserData oldUse = UserData.Create(7, 2 * attempt - 1, 2);
        Assert.True(pool.TryRent(out int b1));
        pool.GetSpan(b1).Clear();
        RingKit.Enqueue(ring, RingOperation.Recv(first, pool.Slice(b1, 0, 256), oldUse));
        ring.Submit();
        UserData closeUse = oldUse.WithTag(3);
        RingKit.Enqueue(ring, RingOperation.Close(first, closeUse));
        Assert.True(first.IsClosed, "the ring took the descriptor from its handle");
        // The number is free once the close completes (io_uring may run it as deferred task work); the receive's own
        // final completion may still be on its way.
        Assert.True(RingKit.WaitFor(ring, got, closeUse).IsSuccess);

        // The second connection takes over the freed number: same slot, next generation, same descriptor number.
        int dup = fcntl(other.Descriptor, F_DUPFD_CLOEXEC, fd);
        Assert.True(dup >= 0, $"fcntl(F_DUPFD_CLOEXEC) failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
        using var second = new SocketHandle(dup);
        if (dup != fd)
        {
            RingKit.Drive(ring, got, () => got.Exists(c => c.UserData == oldUse));
            pool.Return(b1);
            return false;
        }

        UserData newUse = oldUse.NextGeneration();
        Assert.True(pool.TryRent(out int b2));
        RingKit.Enqueue(ring, RingOperation.Recv(second, pool.Slice(b2, 0, 256), newUse));
        client2.Send(new byte[] { 42 });
        RingKit.Drive(ring, got, () => got.Exists(c => c.UserData == newUse) && got.Exists(c => c.UserData == oldUse));

        RingCompletion late = got.Single(c => c.UserData == oldUse);
        Assert.Equal(ErrorKind.Canceled, late.Error.Kind);
        Assert.Equal(0, late.Result);
        Assert.False(late.UserData.IsSameUse(newUse), "a completion of the old use must not pass for the new one");
        RingCompletion current = got.Single(c => c.UserData == newUse);
        Assert.True(current.IsSuccess, current.ToString());
        Assert.Equal(1, current.Result);
        Assert.Equal(42, pool.GetSpan(b2)[0]);
        Assert.Equal(0, pool.GetSpan(b1)[0]);   // the new owner's byte never went to the old operation's buffer
        Assert.False(pool.IsInFlight(b1));
        Assert.False(pool.IsInFlight(b2));
        pool.Return(b1);
        pool.Return(b2);
        return true;
    }
}
