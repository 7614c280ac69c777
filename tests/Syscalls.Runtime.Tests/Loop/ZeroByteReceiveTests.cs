using System;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Syscalls.Runtime.Tests.Infrastructure;
using Xunit;

namespace Syscalls.Runtime.Tests.Loop;

/// <summary>A zero-byte receive waits until data is there and takes none: it completes when data arrives (on level- as
/// well as edge-triggered pollers), and not before, also right after a receive that drained the socket.</summary>
public class ZeroByteReceiveTests
{
    [Theory]
    [MemberData(nameof(TestBackends.Servers), MemberType = typeof(TestBackends))]
    public async Task ZeroByteReceive_WaitsForData_ThenTheDataIsStillThere(string backend)
    {
        using EventLoop loop = LoopKit.Start(backend);
        AsyncListener listener = AsyncListener.Listen(loop, NetEndpoint.Loopback(0));
        Task<AsyncConnection> accepted = LoopKit.On(loop, async () => (await listener.AcceptAsync())!);
        using Socket client = Peers.Connect(listener.LocalEndpoint.ToIPEndPoint());
        AsyncConnection connection = await LoopKit.Off(accepted);
        for (int round = 0; round < 3; round++)
        {
            // After the previous round's receive drained the socket, the wait must not complete on its own.
            Task<int> waiting = LoopKit.On(loop, async () => await connection.ReceiveAsync(Memory<byte>.Empty));
            await LoopKit.Off(LoopKit.On(loop, async () => await Task.Yield()));   // a loop iteration or two pass
            await LoopKit.Off(LoopKit.On(loop, async () => await Task.Yield()));
            Assert.False(waiting.IsCompleted, $"round {round}: a zero-byte receive completed with no data there");
            byte[] sent = Peers.Payload(round, 0, 100 + round);
            client.Send(sent);
            Assert.Equal(0, await LoopKit.Off(waiting));
            var back = new byte[sent.Length + 10];
            int n = await LoopKit.Off(LoopKit.On(loop, async () => await connection.ReceiveAsync(back)));
            Assert.Equal(sent, back[..n]);
        }

        await LoopKit.Off(connection.CloseAsync());
        listener.Dispose();
    }

    [Theory]
    [MemberData(nameof(TestBackends.Servers), MemberType = typeof(TestBackends))]
    public async Task ZeroByteReceive_AfterAShortReadOfTheLastBytes_CompletesAtTheFin(string backend)
    {
        using EventLoop loop = LoopKit.Start(backend);
        AsyncListener listener = AsyncListener.Listen(loop, NetEndpoint.Loopback(0));
        Task<AsyncConnection> accepted = LoopKit.On(loop, async () => (await listener.AcceptAsync())!);
        using Socket client = Peers.Connect(listener.LocalEndpoint.ToIPEndPoint());
        AsyncConnection connection = await LoopKit.Off(accepted);
        byte[] sent = Peers.Payload(5, 0, 100);
        client.Send(sent);
        client.Shutdown(SocketShutdown.Send);
        // Let the loop see the data and the FIN before anyone receives (the poller reports both in its waits).
        Thread.Sleep(100);
        await LoopKit.Off(LoopKit.On(loop, async () => await Task.Yield()));
        await LoopKit.Off(LoopKit.On(loop, async () =>
        {
            var buffer = new byte[1000];
            Assert.Equal(sent.Length, await connection.ReceiveAsync(buffer));   // a short read: the FIN is still queued
            await connection.ReceiveAsync(Memory<byte>.Empty);   // must see it, with no new event to come
            Assert.Equal(0, await connection.ReceiveAsync(buffer));
        }));
        await LoopKit.Off(connection.CloseAsync());
        listener.Dispose();
    }
}
