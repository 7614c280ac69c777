using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Sockets;
using Syscalls.Runtime.Sockets;
using Syscalls.Runtime.Tests.Infrastructure;
using Xunit;

namespace Syscalls.Runtime.Tests.Ring;

/// <summary>ReceiveFrom and SendTo on io_uring and the emulated ring (the IOCP ring runs the same checks in
/// Windows/IocpRingDatagramTests).</summary>
public class RingDatagramTests
{
    [Theory]
    [MemberData(nameof(RingKit.Backends), MemberType = typeof(RingKit))]
    public void Ring_SendToAndReceiveFrom_CarryWholeDatagramsAndNameTheSender(string backend)
    {
        using IRing ring = RingKit.Create(backend);
        RingDatagramChecks.SendToAndReceiveFrom(ring, AddressFamily.InterNetwork);
        RingDatagramChecks.SendToAndReceiveFrom(ring, AddressFamily.InterNetworkV6);
    }

    [Theory]
    [MemberData(nameof(RingKit.Backends), MemberType = typeof(RingKit))]
    public void Ring_ReceiveFromIntoSmallerBuffer_ReportsTruncationWithTheRealLength(string backend)
    {
        using IRing ring = RingKit.Create(backend);
        // io_uring passes MSG_TRUNC; the emulated ring does too on Linux (recvfrom), and cannot elsewhere.
        RingDatagramChecks.Truncated(ring, realLength: OperatingSystem.IsLinux());
    }

    [Theory]
    [MemberData(nameof(RingKit.Backends), MemberType = typeof(RingKit))]
    public void Ring_CancelPendingReceiveFrom_CompletesCanceledAndTheNextDatagramArrives(string backend)
    {
        using IRing ring = RingKit.Create(backend);
        RingDatagramChecks.CancelReceive(ring);
    }

    [Theory]
    [MemberData(nameof(RingKit.Backends), MemberType = typeof(RingKit))]
    public void Ring_SendToDefaultEndpoint_SendsToTheConnectedPeer(string backend)
    {
        using IRing ring = RingKit.Create(backend);
        RingDatagramChecks.SendToConnectedPeer(ring);
    }
}

/// <summary>The datagram checks every ring passes, on real UDP sockets over loopback.</summary>
public static class RingDatagramChecks
{
    private const int Room = 65536;

    public static void SendToAndReceiveFrom(IRing ring, AddressFamily family)
    {
        NetEndpoint any = family == AddressFamily.InterNetworkV6 ? NetEndpoint.LoopbackV6(0) : NetEndpoint.Loopback(0);
        Result<SocketHandle> bound = SocketOps.BindUdp(any);
        if (family == AddressFamily.InterNetworkV6 && !bound.IsSuccess)
            return;   // no IPv6 loopback on this host: the IPv4 pass covers the rest
        using SocketHandle a = bound.Value;
        using SocketHandle b = SocketOps.BindUdp(any).Value;
        NetEndpoint aAt = SocketOps.GetLocalEndpoint(a).Value, bAt = SocketOps.GetLocalEndpoint(b).Value;
        var pool = new RingBufferPool(Room, 2);
        Assert.True(pool.TryRent(out int send));
        Assert.True(pool.TryRent(out int receive));
        var got = new List<RingCompletion>();
        // 65,507 is the largest IPv4 UDP payload; IPv6 fragments what loopback's 64 KiB MTU cannot carry whole.
        int[] sizes = [1, 2, 1472, 1473, 9000, 65_000, family == AddressFamily.InterNetwork ? 65_507 : 65_527];
        for (int i = 0; i < sizes.Length; i++)
        {
            byte[] data = Peers.Payload(7, i, sizes[i]);
            data.CopyTo(pool.GetSpan(send));
            RingKit.Enqueue(ring, RingOperation.ReceiveFrom(b, pool.Slice(receive, 0, Room), RingKit.Tag(1, (byte)i)));
            RingKit.Enqueue(ring, RingOperation.SendTo(a, pool.Slice(send, 0, data.Length), bAt, RingKit.Tag(2, (byte)i)));
            RingCompletion received = RingKit.WaitFor(ring, got, RingKit.Tag(1, (byte)i));
            RingCompletion sent = RingKit.WaitFor(ring, got, RingKit.Tag(2, (byte)i));
            Assert.True(sent.IsSuccess && sent.Result == data.Length, $"{family} {data.Length} bytes: send {sent}");
            Assert.True(received.IsSuccess && received.Result == data.Length && !received.IsTruncated, $"{family} {data.Length} bytes: {received}");
            Assert.Equal(aAt, received.Source);
            Assert.True(data.AsSpan().SequenceEqual(pool.GetSpan(receive)[..data.Length]), $"{family} {data.Length} bytes differ");
            Assert.False(pool.IsInFlight(receive) || pool.IsInFlight(send));
        }
    }

    public static void Truncated(IRing ring, bool realLength)
    {
        using SocketHandle a = SocketOps.BindUdp(NetEndpoint.Loopback(0)).Value;
        using SocketHandle b = SocketOps.BindUdp(NetEndpoint.Loopback(0)).Value;
        NetEndpoint aAt = SocketOps.GetLocalEndpoint(a).Value, bAt = SocketOps.GetLocalEndpoint(b).Value;
        var pool = new RingBufferPool(2048, 1);
        Assert.True(pool.TryRent(out int receive));
        var got = new List<RingCompletion>();
        byte[] big = Peers.Payload(1, 1, 1000), small = Peers.Payload(2, 2, 50);
        Assert.Equal(big.Length, SocketOps.SendTo(a, big, bAt).Value);
        Assert.Equal(small.Length, SocketOps.SendTo(a, small, bAt).Value);

        RingKit.Enqueue(ring, RingOperation.ReceiveFrom(b, pool.Slice(receive, 0, 100), RingKit.Tag(1)));
        RingCompletion cut = RingKit.WaitFor(ring, got, RingKit.Tag(1));
        Assert.True(cut.IsSuccess && cut.IsTruncated, cut.ToString());
        Assert.Equal(realLength ? big.Length : 100, cut.Result);
        Assert.Equal(aAt, cut.Source);
        Assert.True(big.AsSpan(0, 100).SequenceEqual(pool.GetSpan(receive)[..100]), "the buffer holds the datagram's start");

        // The rest of the cut datagram is gone and the socket goes on: the next datagram comes whole.
        RingKit.Enqueue(ring, RingOperation.ReceiveFrom(b, pool.Slice(receive, 0, 100), RingKit.Tag(2)));
        RingCompletion whole = RingKit.WaitFor(ring, got, RingKit.Tag(2));
        Assert.True(whole.IsSuccess && whole.Result == small.Length && !whole.IsTruncated, whole.ToString());
        Assert.True(small.AsSpan().SequenceEqual(pool.GetSpan(receive)[..small.Length]));
    }

    public static void CancelReceive(IRing ring)
    {
        using SocketHandle a = SocketOps.BindUdp(NetEndpoint.Loopback(0)).Value;
        using SocketHandle b = SocketOps.BindUdp(NetEndpoint.Loopback(0)).Value;
        NetEndpoint bAt = SocketOps.GetLocalEndpoint(b).Value;
        var pool = new RingBufferPool(1024, 1);
        Assert.True(pool.TryRent(out int receive));
        var got = new List<RingCompletion>();
        RingKit.Enqueue(ring, RingOperation.ReceiveFrom(b, pool.Slice(receive, 0, 1024), RingKit.Tag(1)));
        Assert.Equal(0, ring.SubmitAndWait(new RingCompletion[8], 50).Value);   // nothing to receive yet
        Assert.True(pool.IsInFlight(receive), "the kernel owns the buffer while the receive is pending");
        RingKit.Enqueue(ring, RingOperation.Cancel(RingKit.Tag(1), RingKit.Tag(2)));
        RingKit.Drive(ring, got, () => got.Count >= 2);
        Assert.Equal(ErrorKind.Canceled, got.Single(c => c.UserData == RingKit.Tag(1)).Error.Kind);
        Assert.True(got.Single(c => c.UserData == RingKit.Tag(2)).IsSuccess);
        Assert.False(pool.IsInFlight(receive));

        // The canceled receive took nothing: a datagram sent now is the next receive's.
        byte[] data = Peers.Payload(3, 3, 300);
        SocketOps.SendTo(a, data, bAt).Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        RingKit.Enqueue(ring, RingOperation.ReceiveFrom(b, pool.Slice(receive, 0, 1024), RingKit.Tag(3)));
        RingCompletion next = RingKit.WaitFor(ring, got, RingKit.Tag(3));
        Assert.True(next.IsSuccess && next.Result == data.Length, next.ToString());
        Assert.True(data.AsSpan().SequenceEqual(pool.GetSpan(receive)[..data.Length]));
    }

    public static void SendToConnectedPeer(IRing ring)
    {
        using SocketHandle a = SocketOps.BindUdp(NetEndpoint.Loopback(0)).Value;
        using SocketHandle b = SocketOps.BindUdp(NetEndpoint.Loopback(0)).Value;
        NetEndpoint aAt = SocketOps.GetLocalEndpoint(a).Value, bAt = SocketOps.GetLocalEndpoint(b).Value;
        Assert.True(SocketOps.Connect(a, bAt).IsSuccess);
        var pool = new RingBufferPool(256, 2);
        Assert.True(pool.TryRent(out int send));
        Assert.True(pool.TryRent(out int receive));
        byte[] data = Peers.Payload(4, 4, 200);
        data.CopyTo(pool.GetSpan(send));
        var got = new List<RingCompletion>();
        RingKit.Enqueue(ring, RingOperation.SendTo(a, pool.Slice(send, 0, data.Length), default, RingKit.Tag(1)));
        RingKit.Enqueue(ring, RingOperation.ReceiveFrom(b, pool.Slice(receive, 0, 256), RingKit.Tag(2)));
        Assert.True(RingKit.WaitFor(ring, got, RingKit.Tag(1)).IsSuccess);
        RingCompletion received = RingKit.WaitFor(ring, got, RingKit.Tag(2));
        Assert.True(received.IsSuccess && received.Result == data.Length, received.ToString());
        Assert.Equal(aAt, received.Source);
        Assert.True(data.AsSpan().SequenceEqual(pool.GetSpan(receive)[..data.Length]));
    }
}
