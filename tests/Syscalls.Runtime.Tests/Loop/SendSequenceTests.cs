using System;
using System.Buffers;
using System.Net.Sockets;
using System.Threading.Tasks;
using Syscalls.Runtime.Tests.Infrastructure;
using Xunit;

namespace Syscalls.Runtime.Tests.Loop;

/// <summary>A send of several segments larger than the send window completes once the peer reads: the part beyond the
/// window goes out when the window drains, also when the kernel took every byte without ever saying EAGAIN.</summary>
public class SendSequenceTests
{
    [Theory]
    [MemberData(nameof(TestBackends.Servers), MemberType = typeof(TestBackends))]
    public async Task SendAsync_SegmentsBeyondTheWindow_AllArrive(string backend)
    {
        using EventLoop loop = LoopKit.Start(backend);
        AsyncListener listener = AsyncListener.Listen(loop, NetEndpoint.Loopback(0));
        Task<AsyncConnection> accepted = LoopKit.On(loop, async () => (await listener.AcceptAsync())!);
        using Socket client = Peers.Connect(listener.LocalEndpoint.ToIPEndPoint());
        AsyncConnection connection = await LoopKit.Off(accepted);
        const int Window = 16 * 1024;
        byte[] first = Peers.Payload(1, 0, 10_000), second = Peers.Payload(2, 0, 3 * Window);
        var data = Segment.Chain(first, second);
        int total = first.Length + second.Length;
        var received = new byte[2 * total];
        Task reading = Task.Run(() => Peers.ReadExactly(client, received), TestContext.Current.CancellationToken);
        await LoopKit.Off(LoopKit.On(loop, async () =>
        {
            connection.SendWindow = Window;
            await connection.SendAsync(data);
            await connection.SendAsync(data);
        }));
        await reading.WaitAsync(LoopKit.Patience, TestContext.Current.CancellationToken);
        for (int round = 0; round < 2; round++)
        {
            Assert.Equal(first, received[(round * total)..(round * total + first.Length)]);
            Assert.Equal(second, received[(round * total + first.Length)..((round + 1) * total)]);
        }

        await LoopKit.Off(connection.CloseAsync());
        listener.Dispose();
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        private Segment(byte[] bytes, long runningIndex)
        {
            Memory = bytes;
            RunningIndex = runningIndex;
        }

        public static ReadOnlySequence<byte> Chain(byte[] first, byte[] second)
        {
            var head = new Segment(first, 0);
            var tail = new Segment(second, first.Length);
            head.Next = tail;
            return new ReadOnlySequence<byte>(head, 0, tail, second.Length);
        }
    }
}
