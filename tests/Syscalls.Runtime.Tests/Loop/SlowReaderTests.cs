using System;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Syscalls.Runtime.Tests.Infrastructure;
using Xunit;

namespace Syscalls.Runtime.Tests.Loop;

/// <summary>A connection whose application does not receive for a while: what arrives meanwhile is held (bounded) and
/// handed out later in order, every byte.</summary>
public class SlowReaderTests
{
    [Theory]
    [MemberData(nameof(TestBackends.Servers), MemberType = typeof(TestBackends))]
    public async Task NotReceivingForAWhile_ThenReceiving_GetsEveryByteInOrder(string backend)
    {
        using EventLoop loop = LoopKit.Start(backend);
        AsyncListener listener = AsyncListener.Listen(loop, NetEndpoint.Loopback(0));
        Task<AsyncConnection> accepted = LoopKit.On(loop, async () => (await listener.AcceptAsync())!);
        using Socket client = Peers.Connect(listener.LocalEndpoint.ToIPEndPoint());
        AsyncConnection connection = await LoopKit.Off(accepted);
        const int Total = 2 * 1024 * 1024;
        var sent = new byte[Total];
        for (int i = 0; i < Total; i++)
            sent[i] = (byte)(i * 7 + (i >> 11) + (i >> 19));
        Task sending = Task.Run(() =>
        {
            client.Send(sent);
            client.Shutdown(SocketShutdown.Send);
        }, TestContext.Current.CancellationToken);
        Thread.Sleep(300);   // nobody receives: the connection holds what it can and the rest waits in the kernel
        var received = new byte[Total + 1];
        int got = await LoopKit.Off(LoopKit.On(loop, async () =>
        {
            int n, at = 0;
            while ((n = await connection.ReceiveAsync(received.AsMemory(at, Math.Min(1000, received.Length - at)))) > 0)
                at += n;
            return at;
        }));
        await sending.WaitAsync(LoopKit.Patience, TestContext.Current.CancellationToken);
        Assert.Equal(Total, got);
        int firstBad = sent.AsSpan().CommonPrefixLength(received.AsSpan(0, Total));
        Assert.True(firstBad == Total, $"byte {firstBad} differs");
        await LoopKit.Off(connection.CloseAsync());
        listener.Dispose();
    }
}
