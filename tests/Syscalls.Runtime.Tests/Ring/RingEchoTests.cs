using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Syscalls.Runtime.Sockets;
using Syscalls.Runtime.Tests.Infrastructure;
using Xunit;

namespace Syscalls.Runtime.Tests.Ring;

/// <summary>Echo servers written against the ring contract, checked byte for byte by System.Net.Sockets clients.</summary>
public class RingEchoTests
{
    [Theory]
    [MemberData(nameof(RingKit.Backends), MemberType = typeof(RingKit))]
    public void Ring_AcceptRecvSendClose_ManyConnectionsEchoEveryByte(string backend)
    {
        using var loop = new RingEchoLoop(RingKit.Create(backend, entries: 64), multishot: false);
        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 16 }, c =>
        {
            using Socket s = Peers.Connect(loop.EndPoint);
            for (int round = 0; round < 15; round++)
                Peers.EchoOnce(s, c, round, 1 + (c * 131 + round * 977) % 20000);
        });
        Assert.True(SpinWait.SpinUntil(() => loop.Closed == 64, 10000), $"closed {loop.Closed} of 64");
        Assert.Empty(loop.Failures);
    }

    [Theory]
    [MemberData(nameof(RingKit.Backends), MemberType = typeof(RingKit))]
    public void Ring_MultishotAcceptAndRecv_ProvidedBuffersComeBackAndEveryByteEchoes(string backend)
    {
        // 16 buffers of 512 bytes for 32 connections moving ~1 MB: the group runs dry (ENOBUFS ends receives, which
        // come back when buffers are returned), so every byte proves buffers are lent and returned correctly.
        using var loop = new RingEchoLoop(RingKit.Create(backend, entries: 64), multishot: true, bufferSize: 512, bufferCount: 16);
        Parallel.For(0, 32, new ParallelOptions { MaxDegreeOfParallelism = 32 }, c =>
        {
            using Socket s = Peers.Connect(loop.EndPoint);
            for (int round = 0; round < 20; round++)
                Peers.EchoOnce(s, c, round, 1 + (c * 211 + round * 331) % 3000);
        });
        Assert.True(SpinWait.SpinUntil(() => loop.Closed == 32, 10000), $"closed {loop.Closed} of 32");
        Assert.Empty(loop.Failures);
        Assert.Equal(32, loop.Accepted);
        Assert.True(loop.BuffersReturned > 16, $"only {loop.BuffersReturned} buffers returned");
    }

    [Theory]
    [MemberData(nameof(RingKit.Backends), MemberType = typeof(RingKit))]
    public void Ring_MultishotRecvGroupEmpty_EndsWithNoBuffersThenResumesWithNothingLost(string backend)
    {
        using IRing ring = RingKit.Create(backend);
        using var pair = new Pair();
        var pool = new RingBufferPool(64, 2);
        ring.RegisterBufferGroup(9, pool).ThrowIfFailed();
        Assert.Equal(0, pool.Available);   // every buffer belongs to the group now
        RingKit.Enqueue(ring, RingOperation.RecvMultishot(pair.Server, 9, RingKit.Tag(1)));
        var got = new List<RingCompletion>();
        var data = new List<byte>();
        for (int m = 0; m < 3; m++)
        {
            pair.Client.Send(Enumerable.Repeat((byte)(m + 1), 10).ToArray());
            int before = got.Count;
            RingKit.Drive(ring, got, () => got.Count > before);
        }

        Assert.True(got[0].HasMore && got[1].HasMore, "the first two messages each took a buffer");
        Assert.Equal(RingCompletionFlags.Buffer | RingCompletionFlags.More, got[0].Flags);
        RingCompletion dry = got[2];
        Assert.False(dry.HasMore);
        Assert.Equal(ErrorKind.OutOfMemory, dry.Error.Kind);   // ENOBUFS
        // This OS's number for it: the emulated ring reports the host's ENOBUFS (WSAENOBUFS on Windows), not Linux's.
        Assert.Equal(OperatingSystem.IsWindows() ? 10055 : OperatingSystem.IsMacOS() ? 55 : 105, dry.Error.Code);
        foreach (RingCompletion c in got.Take(2))
        {
            data.AddRange(pool.GetSpan(c.BufferId)[..c.Result].ToArray());
            ring.ReturnBuffer(9, c.BufferId);
        }

        RingKit.Enqueue(ring, RingOperation.RecvMultishot(pair.Server, 9, RingKit.Tag(2)));
        RingCompletion resumed = RingKit.WaitFor(ring, got, RingKit.Tag(2));
        data.AddRange(pool.GetSpan(resumed.BufferId)[..resumed.Result].ToArray());
        Assert.Equal(Enumerable.Range(1, 3).SelectMany(m => Enumerable.Repeat((byte)m, 10)), data);
    }

    [Theory]
    [MemberData(nameof(RingKit.Backends), MemberType = typeof(RingKit))]
    public void Ring_WakeFromAnotherThread_EndsAnInfiniteWait(string backend)
    {
        using IRing ring = RingKit.Create(backend);
        var woke = new ManualResetEventSlim();
        var thread = new Thread(() =>
        {
            ring.SubmitAndWait(new RingCompletion[4], -1).Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
            woke.Set();
        });
        thread.Start();
        Thread.Sleep(100);
        Assert.False(woke.IsSet);
        ring.Wake();
        Assert.True(woke.Wait(5000, TestContext.Current.CancellationToken), "Wake did not end the wait");
        thread.Join();
    }
}
