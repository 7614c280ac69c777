using System;
using System.Buffers;
using System.Buffers.Binary;
using System.IO;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading.Tasks;
using Syscalls.Runtime.Tests.Infrastructure;
using Syscalls.Runtime.Tests.Loop;
using Xunit;

namespace Syscalls.Runtime.Tests.Adapters;

/// <summary>A Pipelines protocol over <see cref="ConnectionPipe"/>: length-prefixed frames (4-byte big-endian length,
/// then the payload) parsed with <see cref="SequenceReader{T}"/>, 0 B to 256 KiB, echoed frame by frame; headers and
/// payloads that straddle segments and pipe reads; both sides ours, and each side against System.Net.Sockets.</summary>
public class PipeFramingTests
{
    private const int MaxFrame = 256 * 1024;

    /// <summary>Frame sizes: the edges (0, 1, segment boundaries, the largest), then a spread. The writer flushes every
    /// third frame, so each group arrives as one burst; the first groups open with a frame whose end leaves the next
    /// header 3, 2 and 1 bytes before a 4 KiB segment boundary (certain on the connection's first burst).</summary>
    private static readonly int[] s_sizes = BuildSizes();

    [Theory]
    [MemberData(nameof(TestBackends.Servers), MemberType = typeof(TestBackends))]
    public async Task Frames_BothSidesOurs_EveryFrameEchoed(string backend)
    {
        using var server = new AdapterServer(backend);
        using EventLoop clientLoop = LoopKit.Start(backend);
        (AsyncConnection client, AsyncConnection connection) = await server.ConnectOurs(clientLoop);
        var partial = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<FrameStats> serving = LoopKit.On(server.Loop, () => ServeFrames(connection.AsPipe(), partial));
        await LoopKit.Off(LoopKit.On(clientLoop, async () =>
        {
            ConnectionPipe pipe = client.AsPipe();
            Task writing = WriteFrames(pipe.Output, partial.Task);
            FrameStats echoed = await ReadFrames(pipe.Input, s_sizes.Length);
            await writing;
            Assert.Equal(s_sizes.Length, echoed.Frames);
            await pipe.DisposeAsync();
        }));
        FrameStats stats = await LoopKit.Off(serving);
        Assert.Equal(s_sizes.Length, stats.Frames);
        Assert.True(stats.SplitHeaders > 0, "no frame header straddled two segments: the parser was not exercised");
        Assert.True(stats.FramesOverReads > 0, "no frame spanned two pipe reads");
    }

    [Theory]
    [MemberData(nameof(TestBackends.Servers), MemberType = typeof(TestBackends))]
    public async Task Frames_SocketsClientAgainstOurPipe_EveryFrameEchoed(string backend)
    {
        using var server = new AdapterServer(backend);
        (Socket client, AsyncConnection connection) = await server.ConnectSocket();
        using Socket clientSocket = client;
        Task<FrameStats> serving = LoopKit.On(server.Loop, () => ServeFrames(connection.AsPipe()));
        await using var stream = new NetworkStream(client, ownsSocket: false);
        Task writing = Task.Run(async () =>
        {
            for (int i = 0; i < s_sizes.Length; i++)
                await stream.WriteAsync(Frame(i, s_sizes[i]));
            client.Shutdown(SocketShutdown.Send);
        }, AdapterKit.Ct);
        var header = new byte[4];
        for (int i = 0; i < s_sizes.Length; i++)
        {
            await stream.ReadExactlyAsync(header, AdapterKit.Ct).Within();
            int length = BinaryPrimitives.ReadInt32BigEndian(header);
            Assert.Equal(s_sizes[i], length);
            var payload = new byte[length];
            await stream.ReadExactlyAsync(payload, AdapterKit.Ct).Within();
            Assert.True(Peers.Payload(i, 0, length).AsSpan().SequenceEqual(payload), $"frame {i} differs");
        }

        await writing;
        Assert.Equal(0, await stream.ReadAsync(header, AdapterKit.Ct).Within());   // our FIN after the last frame
        Assert.Equal(s_sizes.Length, (await LoopKit.Off(serving)).Frames);
    }

    [Theory]
    [MemberData(nameof(TestBackends.Servers), MemberType = typeof(TestBackends))]
    public async Task Frames_OurPipeAgainstSocketsEchoServer_EveryFrameBack(string backend)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        listener.Listen();
        Task echo = Task.Run(async () =>
        {
            using Socket peer = await listener.AcceptAsync();
            var buffer = new byte[64 * 1024];
            int n;
            while ((n = await peer.ReceiveAsync(buffer, SocketFlags.None)) > 0)
                await peer.SendAsync(buffer.AsMemory(0, n), SocketFlags.None);
            peer.Shutdown(SocketShutdown.Send);
        }, AdapterKit.Ct);
        using EventLoop clientLoop = LoopKit.Start(backend);
        var remote = NetEndpoint.FromIPEndPoint((System.Net.IPEndPoint)listener.LocalEndPoint!);
        await LoopKit.Off(LoopKit.On(clientLoop, async () =>
        {
            AsyncConnection client = await AsyncConnection.ConnectAsync(clientLoop, remote, TimeSpan.FromSeconds(10));
            ConnectionPipe pipe = client.AsPipe();
            Task writing = WriteFrames(pipe.Output);
            FrameStats echoed = await ReadFrames(pipe.Input, s_sizes.Length);
            await writing;
            Assert.Equal(s_sizes.Length, echoed.Frames);
            await pipe.Output.CompleteAsync();               // our FIN ...
            ReadResult end = await pipe.Input.ReadAsync();   // ... and the echo server's after it
            Assert.True(end.IsCompleted && end.Buffer.IsEmpty);
            await pipe.DisposeAsync();
        }));
        await echo.Within();
    }

    /// <summary>Echoes frames until the input ends, counting how often the parser met a split header and a frame that
    /// needed more than one read; <paramref name="partialLargest"/> is set once a read ends inside a largest
    /// frame.</summary>
    private static async Task<FrameStats> ServeFrames(ConnectionPipe pipe, TaskCompletionSource? partialLargest = null)
    {
        var stats = new FrameStats();
        bool partial = false;
        while (true)
        {
            ReadResult result = await pipe.Input.ReadAsync();
            ReadOnlySequence<byte> buffer = result.Buffer;
            if (partial && TryPeekLength(buffer, out int pending) && buffer.Length >= 4 + pending)
                stats.FramesOverReads++;
            while (TryReadFrame(ref buffer, out ReadOnlySequence<byte> payload, stats))
            {
                Span<byte> header = pipe.Output.GetSpan(4);
                BinaryPrimitives.WriteInt32BigEndian(header, (int)payload.Length);
                pipe.Output.Advance(4);
                foreach (ReadOnlyMemory<byte> segment in payload)
                    pipe.Output.Write(segment.Span);
                stats.Frames++;
            }

            partial = !buffer.IsEmpty;
            if (partial && TryPeekLength(buffer, out int unfinished) && unfinished == MaxFrame)
                partialLargest?.TrySetResult();
            pipe.Input.AdvanceTo(buffer.Start, buffer.End);
            FlushResult flushed = await pipe.Output.FlushAsync();
            if (result.IsCompleted || flushed.IsCompleted)
            {
                if (!buffer.IsEmpty)
                    throw new InvalidDataException($"{buffer.Length} bytes of an unfinished frame at the end");
                break;
            }
        }

        await pipe.DisposeAsync();
        return stats;
    }

    /// <summary>Writes every frame; with <paramref name="serverSawPartial"/>, the first largest frame goes in two
    /// halves and the second waits until the server has read the first (so that frame certainly spans two
    /// reads).</summary>
    private static async Task WriteFrames(PipeWriter output, Task? serverSawPartial = null)
    {
        for (int i = 0; i < s_sizes.Length; i++)
        {
            Span<byte> header = output.GetSpan(4);
            BinaryPrimitives.WriteInt32BigEndian(header, s_sizes[i]);
            output.Advance(4);
            byte[] payload = Peers.Payload(i, 0, s_sizes[i]);
            if (serverSawPartial is not null && s_sizes[i] == MaxFrame)
            {
                output.Write(payload.AsSpan(0, MaxFrame / 2));
                await output.FlushAsync();
                await serverSawPartial;
                output.Write(payload.AsSpan(MaxFrame / 2));
                serverSawPartial = null;
            }
            else
            {
                output.Write(payload);
            }

            if (i % 3 == 2 || s_sizes[i] > 16 * 1024)   // several frames per flush, large ones alone
                await output.FlushAsync();
        }

        await output.FlushAsync();
    }

    private static async Task<FrameStats> ReadFrames(PipeReader input, int count)
    {
        var stats = new FrameStats();
        while (stats.Frames < count)
        {
            ReadResult result = await input.ReadAsync();
            ReadOnlySequence<byte> buffer = result.Buffer;
            while (stats.Frames < count && TryReadFrame(ref buffer, out ReadOnlySequence<byte> payload, stats))
            {
                int i = stats.Frames++;
                Assert.Equal(s_sizes[i], payload.Length);
                byte[] expected = Peers.Payload(i, 0, s_sizes[i]);
                Assert.True(expected.AsSpan().SequenceEqual(payload.ToArray()), $"frame {i} differs");
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted && stats.Frames < count)
                throw new InvalidDataException($"end of stream after {stats.Frames} of {count} frames");
        }

        return stats;
    }

    /// <summary>Parses one frame off the front of <paramref name="buffer"/> if it is all there.</summary>
    private static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> payload,
        FrameStats stats)
    {
        payload = default;
        var reader = new SequenceReader<byte>(buffer);
        bool splitHeader = reader.UnreadSpan.Length < 4;
        if (!reader.TryReadBigEndian(out int length))
            return false;
        if (length < 0 || length > MaxFrame)
            throw new InvalidDataException($"frame length {length} is out of range");
        if (reader.Remaining < length)
            return false;
        if (splitHeader)
            stats.SplitHeaders++;
        payload = reader.UnreadSequence.Slice(0, length);
        buffer = buffer.Slice(payload.End);
        return true;
    }

    private static bool TryPeekLength(in ReadOnlySequence<byte> buffer, out int length)
    {
        var reader = new SequenceReader<byte>(buffer);
        return reader.TryReadBigEndian(out length);
    }

    private static byte[] Frame(int index, int length)
    {
        var frame = new byte[4 + length];
        BinaryPrimitives.WriteInt32BigEndian(frame, length);
        Peers.Payload(index, 0, length).CopyTo(frame, 4);
        return frame;
    }

    private static int[] BuildSizes()
    {
        var sizes = new System.Collections.Generic.List<int>
        {
            4089, 1, 2, 4090, 0, 3, 4091, 4, 4092, 4093, 4095, 4096, 4097, 0, 8190, MaxFrame, 0, 5,
        };
        for (int i = 0; i < 48; i++)
            sizes.Add((i * 7919 + i * i * 131) % 20_000);
        sizes.Add(MaxFrame - 1);
        sizes.Add(65_537);
        return sizes.ToArray();
    }

    private sealed class FrameStats
    {
        public int Frames;
        public int SplitHeaders;
        public int FramesOverReads;
    }
}
