using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net.Sockets;
using Syscalls.Runtime.Sockets;
using Syscalls.Runtime.Tests.Infrastructure;
using Xunit;

namespace Syscalls.Runtime.Tests.Ring;

/// <summary>Single operations of the ring contract on both backends: nop, timeout, cancel, connect outcomes, resets.</summary>
public class RingBasicsTests
{
    [Theory]
    [MemberData(nameof(RingKit.Backends), MemberType = typeof(RingKit))]
    public void Ring_Nops_CompleteWithTheirUserData(string backend)
    {
        using IRing ring = RingKit.Create(backend);
        var tags = Enumerable.Range(0, 40).Select(i => RingKit.Tag((uint)i, 3, (uint)(i * 7))).ToList();
        foreach (UserData t in tags)
            RingKit.Enqueue(ring, RingOperation.Nop(t));
        var got = new List<RingCompletion>();
        RingKit.Drive(ring, got, () => got.Count >= tags.Count);
        Assert.Equal(tags.OrderBy(t => t.Value), got.Select(c => c.UserData).OrderBy(t => t.Value));
        Assert.All(got, c => Assert.True(c.IsSuccess && c.Result == 0 && !c.HasMore, c.ToString()));
    }

    [Theory]
    [MemberData(nameof(RingKit.Backends), MemberType = typeof(RingKit))]
    public void Ring_Timeout_CompletesTimedOutAfterItsDelay(string backend)
    {
        using IRing ring = RingKit.Create(backend);
        var clock = Stopwatch.StartNew();
        RingKit.Enqueue(ring, RingOperation.TimeoutAfter(TimeSpan.FromMilliseconds(80), RingKit.Tag(1)));
        RingKit.Enqueue(ring, RingOperation.Nop(RingKit.Tag(2)));
        var got = new List<RingCompletion>();
        RingCompletion timeout = RingKit.WaitFor(ring, got, RingKit.Tag(1));
        Assert.True(clock.ElapsedMilliseconds >= 75, $"fired after {clock.ElapsedMilliseconds} ms");
        Assert.Equal(ErrorKind.TimedOut, timeout.Error.Kind);
        Assert.Equal(RingKit.Tag(2), got[0].UserData);   // the nop did not wait for the timer
    }

    [Theory]
    [MemberData(nameof(RingKit.Backends), MemberType = typeof(RingKit))]
    public void Ring_CancelPendingRecv_CompletesCanceledAndKeepsTheBufferUntilThen(string backend)
    {
        using IRing ring = RingKit.Create(backend);
        using var pair = new Pair();
        var pool = new RingBufferPool(1024, 4);
        Assert.True(pool.TryRent(out int b));
        RingKit.Enqueue(ring, RingOperation.Recv(pair.Server, pool.Slice(b, 0, 1024), RingKit.Tag(1)));
        var got = new List<RingCompletion>();
        Assert.Equal(0, ring.SubmitAndWait(new RingCompletion[8], 50).Value);   // nothing to receive yet
        Assert.True(pool.IsInFlight(b), "the kernel owns the buffer while the receive is pending");
        Assert.Throws<InvalidOperationException>(() => pool.Return(b));
        RingKit.Enqueue(ring, RingOperation.Cancel(RingKit.Tag(1), RingKit.Tag(2)));
        RingKit.Drive(ring, got, () => got.Count >= 2);
        RingCompletion recv = got.Single(c => c.UserData == RingKit.Tag(1));
        RingCompletion cancel = got.Single(c => c.UserData == RingKit.Tag(2));
        Assert.Equal(ErrorKind.Canceled, recv.Error.Kind);
        Assert.True(cancel.IsSuccess, cancel.ToString());
        Assert.False(pool.IsInFlight(b));
        pool.Return(b);
        // Data sent afterwards is still there for the next receive: the canceled one consumed nothing.
        pair.Client.Send(new byte[] { 1, 2, 3 });
        Assert.True(pool.TryRent(out b));
        RingKit.Enqueue(ring, RingOperation.Recv(pair.Server, pool.Slice(b, 0, 1024), RingKit.Tag(3)));
        Assert.Equal(3, RingKit.WaitFor(ring, got, RingKit.Tag(3)).Result);
    }

    [Theory]
    [MemberData(nameof(RingKit.Backends), MemberType = typeof(RingKit))]
    public void Ring_PollReadable_CompletesWhenDataOrEndOfStreamIsThereAndTakesNothing(string backend)
    {
        using IRing ring = RingKit.Create(backend);
        using var pair = new Pair();
        var pool = new RingBufferPool(64, 1);
        Assert.True(pool.TryRent(out int b));
        var got = new List<RingCompletion>();
        RingKit.Enqueue(ring, RingOperation.PollReadable(pair.Server, RingKit.Tag(1)));
        Assert.Equal(0, ring.SubmitAndWait(new RingCompletion[8], 50).Value);   // nothing to receive yet
        pair.Client.Send(new byte[] { 1, 2, 3 });
        RingCompletion ready = RingKit.WaitFor(ring, got, RingKit.Tag(1));
        Assert.True(ready.IsSuccess && ready.Result == 0 && !ready.HasMore, ready.ToString());

        // Nothing was taken: the receive that follows gets all of it.
        RingKit.Enqueue(ring, RingOperation.Recv(pair.Server, pool.Slice(b, 0, 64), RingKit.Tag(2)));
        Assert.Equal(3, RingKit.WaitFor(ring, got, RingKit.Tag(2)).Result);

        // A pending one can be canceled; end of stream completes the next.
        RingKit.Enqueue(ring, RingOperation.PollReadable(pair.Server, RingKit.Tag(3)));
        Assert.Equal(0, ring.SubmitAndWait(new RingCompletion[8], 20).Value);
        RingKit.Enqueue(ring, RingOperation.Cancel(RingKit.Tag(3), RingKit.Tag(4)));
        Assert.Equal(ErrorKind.Canceled, RingKit.WaitFor(ring, got, RingKit.Tag(3)).Error.Kind);
        pair.Client.Shutdown(SocketShutdown.Send);
        RingKit.Enqueue(ring, RingOperation.PollReadable(pair.Server, RingKit.Tag(5)));
        Assert.True(RingKit.WaitFor(ring, got, RingKit.Tag(5)).IsSuccess);
        RingKit.Enqueue(ring, RingOperation.Recv(pair.Server, pool.Slice(b, 0, 64), RingKit.Tag(6)));
        RingCompletion eof = RingKit.WaitFor(ring, got, RingKit.Tag(6));
        Assert.True(eof.IsSuccess && eof.Result == 0, eof.ToString());
    }

    [Theory]
    [MemberData(nameof(RingKit.Backends), MemberType = typeof(RingKit))]
    public void Ring_CancelUnknownTarget_CompletesNotFound(string backend)
    {
        using IRing ring = RingKit.Create(backend);
        RingKit.Enqueue(ring, RingOperation.Cancel(RingKit.Tag(99), RingKit.Tag(1)));
        var got = new List<RingCompletion>();
        Assert.Equal(ErrorKind.NotFound, RingKit.WaitFor(ring, got, RingKit.Tag(1)).Error.Kind);
    }

    [Theory]
    [MemberData(nameof(RingKit.Backends), MemberType = typeof(RingKit))]
    public void Ring_CancelTimeout_CompletesCanceled(string backend)
    {
        using IRing ring = RingKit.Create(backend);
        RingKit.Enqueue(ring, RingOperation.TimeoutAfter(TimeSpan.FromSeconds(30), RingKit.Tag(1)));
        ring.Submit();
        RingKit.Enqueue(ring, RingOperation.Cancel(RingKit.Tag(1), RingKit.Tag(2)));
        var got = new List<RingCompletion>();
        RingKit.Drive(ring, got, () => got.Count >= 2, 5000);
        Assert.Equal(ErrorKind.Canceled, got.Single(c => c.UserData == RingKit.Tag(1)).Error.Kind);
    }

    [Theory]
    [MemberData(nameof(RingKit.Backends), MemberType = typeof(RingKit))]
    public void Ring_ConnectToClosedPort_CompletesConnectionRefused(string backend)
    {
        using IRing ring = RingKit.Create(backend);
        var (listener, ep) = RingKit.Listen();
        listener.Dispose();   // nothing listens there any more
        using SocketHandle socket = SocketOps.CreateTcp().Value;
        RingKit.Enqueue(ring, RingOperation.Connect(socket, NetEndpoint.FromIPEndPoint(ep), RingKit.Tag(1)));
        var got = new List<RingCompletion>();
        Assert.Equal(ErrorKind.ConnectionRefused, RingKit.WaitFor(ring, got, RingKit.Tag(1)).Error.Kind);
    }

    [Theory]
    [MemberData(nameof(RingKit.Backends), MemberType = typeof(RingKit))]
    public void Ring_ConnectSendRecv_ToAnIndependentPeer(string backend)
    {
        using IRing ring = RingKit.Create(backend);
        using var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        peer.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        peer.Listen();
        using SocketHandle socket = SocketOps.CreateTcp().Value;
        RingKit.Enqueue(ring, RingOperation.Connect(socket, NetEndpoint.FromIPEndPoint((System.Net.IPEndPoint)peer.LocalEndPoint!), RingKit.Tag(1)));
        var got = new List<RingCompletion>();
        Assert.True(RingKit.WaitFor(ring, got, RingKit.Tag(1)).IsSuccess);
        using Socket accepted = peer.Accept();
        var pool = new RingBufferPool(4096, 2);
        Assert.True(pool.TryRent(out int tx));
        Assert.True(pool.TryRent(out int rx));
        byte[] payload = Peers.Payload(7, 1, 3000);
        payload.CopyTo(pool.GetSpan(tx));
        RingKit.Enqueue(ring, RingOperation.Send(socket, pool.Slice(tx, 0, payload.Length), RingKit.Tag(2)));
        Assert.Equal(payload.Length, RingKit.WaitFor(ring, got, RingKit.Tag(2)).Result);
        var back = new byte[payload.Length];
        Peers.ReadExactly(accepted, back);
        Assert.Equal(payload, back);
        accepted.Send(payload.AsSpan(0, 100));
        RingKit.Enqueue(ring, RingOperation.Recv(socket, pool.Slice(rx, 0, 4096), RingKit.Tag(3)));
        RingCompletion r = RingKit.WaitFor(ring, got, RingKit.Tag(3));
        Assert.Equal(100, r.Result);
        Assert.Equal(payload.AsSpan(0, 100).ToArray(), pool.GetSpan(rx)[..100].ToArray());
    }

    [Theory]
    [MemberData(nameof(RingKit.Backends), MemberType = typeof(RingKit))]
    public void Ring_PeerResets_PendingRecvCompletesConnectionReset(string backend)
    {
        using IRing ring = RingKit.Create(backend);
        using var pair = new Pair();
        var pool = new RingBufferPool(1024, 1);
        Assert.True(pool.TryRent(out int b));
        RingKit.Enqueue(ring, RingOperation.Recv(pair.Server, pool.Slice(b, 0, 1024), RingKit.Tag(1)));
        ring.Submit();
        Peers.Reset(pair.Client);
        var got = new List<RingCompletion>();
        RingCompletion reset = RingKit.WaitFor(ring, got, RingKit.Tag(1));
        // Wine 8 reports a reset peer to a non-blocking recv as end of stream (Windows says WSAECONNRESET).
        if (!(Platform.IsWine && reset.IsSuccess && reset.Result == 0))
            Assert.Equal(ErrorKind.ConnectionReset, reset.Error.Kind);
        // A send to the reset connection fails as an error completion, never as SIGPIPE.
        pool.GetSpan(b).Fill(1);
        RingKit.Enqueue(ring, RingOperation.Send(pair.Server, pool.Slice(b, 0, 1024), RingKit.Tag(2)));
        RingCompletion send = RingKit.WaitFor(ring, got, RingKit.Tag(2));
        Assert.Contains(send.Error.Kind, new[] { ErrorKind.BrokenPipe, ErrorKind.ConnectionReset });
    }

    [Theory]
    [MemberData(nameof(RingKit.Backends), MemberType = typeof(RingKit))]
    public void Ring_SendLargerThanTheSocketTakes_CompletesPartiallyAndEveryByteArrives(string backend)
    {
        using IRing ring = RingKit.Create(backend);
        using var pair = new Pair();
        SocketOps.SetSendBufferSize(pair.Server, 16 * 1024);
        pair.Client.ReceiveBufferSize = 16 * 1024;
        const int Size = 4 * 1024 * 1024;
        var pool = new RingBufferPool(Size, 1);
        Assert.True(pool.TryRent(out int b));
        byte[] payload = Peers.Payload(3, 9, Size);
        payload.CopyTo(pool.GetSpan(b));
        var got = new List<RingCompletion>();
        var back = new byte[Size];
        int received = 0, sent = 0, sends = 0, partial = 0;
        var reader = new System.Threading.Thread(() =>
        {
            System.Threading.Thread.Sleep(200);   // let the first send find a full socket buffer
            while (received < Size)
                received += pair.Client.Receive(back, received, Size - received, SocketFlags.None);
        });
        reader.Start();
        while (sent < Size)
        {
            UserData tag = RingKit.Tag(1, 0, (uint)++sends);
            RingKit.Enqueue(ring, RingOperation.Send(pair.Server, pool.Slice(b, sent, Size - sent), tag));
            RingCompletion c = RingKit.WaitFor(ring, got, tag);
            Assert.True(c.IsSuccess, c.ToString());
            if (c.Result < Size - sent)
                partial++;
            sent += c.Result;
        }

        reader.Join();
        Assert.True(partial > 0, "no send completed partially");
        Assert.Equal(payload, back);
    }

    [Theory]
    [MemberData(nameof(RingKit.Backends), MemberType = typeof(RingKit))]
    public void Ring_SmallCompletionQueue_ManyCompletionsNothingLost(string backend)
    {
        // 4 SQEs, 8 CQEs, 2000 completions submitted without harvesting: io_uring keeps the overflow
        // (IORING_FEAT_NODROP) and hands it over once the CQ has room again.
        using IRing ring = RingKit.Create(backend, entries: 4);
        const int Total = 2000;
        int enqueued = 0;
        while (enqueued < Total)
        {
            while (enqueued < Total && ring.Enqueue(RingOperation.Nop(RingKit.Tag((uint)enqueued, 1, 5))).IsSuccess)
                enqueued++;
            ring.Submit().Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        var got = new List<RingCompletion>();
        RingKit.Drive(ring, got, () => got.Count >= Total);
        ring.SubmitAndWait(new RingCompletion[16], 20).Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(Enumerable.Range(0, Total).Select(i => (uint)i), got.Select(c => c.UserData.Slot).OrderBy(s => s));
    }

    [Theory]
    [MemberData(nameof(RingKit.Backends), MemberType = typeof(RingKit))]
    public void Ring_ReadWrite_FileAtCurrentPositionAndAtOffsets(string backend)
    {
        Platform.RequireLinux("Read/Write of a file descriptor (read/write are in the Linux bindings only)");
        using IRing ring = RingKit.Create(backend);
        string path = System.IO.Path.GetTempFileName();
        try
        {
            var pool = new RingBufferPool(4096, 2);
            Assert.True(pool.TryRent(out int w));
            Assert.True(pool.TryRent(out int r));
            "hello ring"u8.CopyTo(pool.GetSpan(w));
            var got = new List<RingCompletion>();
            using (var file = System.IO.File.OpenHandle(path, System.IO.FileMode.Create, System.IO.FileAccess.ReadWrite))
            {
                RingKit.Enqueue(ring, RingOperation.Write(file, pool.Slice(w, 0, 10), -1, RingKit.Tag(1)));
                Assert.Equal(10, RingKit.WaitFor(ring, got, RingKit.Tag(1)).Result);
                // Explicit offsets (pwrite/pread semantics): overwrite "ring" with "file", read from offset 6.
                "file"u8.CopyTo(pool.GetSpan(w));
                RingKit.Enqueue(ring, RingOperation.Write(file, pool.Slice(w, 0, 4), 6, RingKit.Tag(2)));
                Assert.Equal(4, RingKit.WaitFor(ring, got, RingKit.Tag(2)).Result);
                RingKit.Enqueue(ring, RingOperation.Read(file, pool.Slice(r, 0, 100), 6, RingKit.Tag(3)));
                Assert.Equal("file"u8.ToArray(), pool.GetSpan(r)[..RingKit.WaitFor(ring, got, RingKit.Tag(3)).Result].ToArray());
            }

            using (var file = System.IO.File.OpenHandle(path, System.IO.FileMode.Open, System.IO.FileAccess.Read))
            {
                RingKit.Enqueue(ring, RingOperation.Read(file, pool.Slice(r, 0, 100), -1, RingKit.Tag(4)));
                int n = RingKit.WaitFor(ring, got, RingKit.Tag(4)).Result;
                Assert.Equal(System.IO.File.ReadAllBytes(path), pool.GetSpan(r)[..n].ToArray());
            }
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }

    [Fact]
    public void Ring_Probe_ReportsIoUringSetupAndOpcodes()
    {
        Platform.RequireLinux("io_uring");
        IReadOnlyList<BackendProbe> probes = BackendSelector.Probe();
        BackendProbe setup = probes.Single(p => p.Backend == BackendKind.IoUring && p.Feature == "setup");
        if (!setup.Available)
        {
            Assert.NotEqual(ErrorKind.None, setup.Error.Kind);   // the errno that refused it is reported
            return;
        }

        Assert.Contains("flags=", setup.Detail, StringComparison.Ordinal);
        Assert.Contains(probes, p => p.Backend == BackendKind.IoUring && p.Feature == "opcodes" && p.Available);
        Assert.Contains(probes, p => p.Backend == BackendKind.Emulated && p.Available);
    }
}
