using System;
using System.Linq;
using System.Net.Sockets;
using System.Threading.Tasks;
using Syscalls.Runtime.Tests.Infrastructure;
using Xunit;

namespace Syscalls.Runtime.Tests.Loop;

public class AsyncEchoTests
{
    [Theory]
    [MemberData(nameof(TestBackends.Servers), MemberType = typeof(TestBackends))]
    public async Task AsyncEcho_ClientAndServerOurs_EchoesEveryByte(string backend)
    {
        using EventLoop serverLoop = LoopKit.Start(backend);
        using EventLoop clientLoop = LoopKit.Start(backend);
        AsyncListener listener = AsyncListener.Listen(serverLoop, NetEndpoint.Loopback(0));
        _ = LoopKit.On(serverLoop, () => LoopKit.ServeEcho(listener));
        await LoopKit.Off(LoopKit.On(clientLoop, async () =>
        {
            var clients = new AsyncConnection[16];
            for (int i = 0; i < clients.Length; i++)
                clients[i] = await AsyncConnection.ConnectAsync(clientLoop, listener.LocalEndpoint, TimeSpan.FromSeconds(10));
            await Task.WhenAll(clients.Select(async (c, i) =>
            {
                for (int round = 0; round < 20; round++)
                {
                    byte[] sent = Peers.Payload(i, round, 1 + (round * 977 + i * 31) % 70_000);
                    var back = new byte[sent.Length];
                    Task receiving = LoopKit.ReceiveExactly(c, back);
                    await c.SendAsync(sent);
                    await receiving;
                    Assert.True(sent.AsSpan().SequenceEqual(back), $"connection {i} round {round}: echoed bytes differ");
                }

                c.ShutdownWrite();
                Assert.Equal(0, await c.ReceiveAsync(new byte[16]));
                await c.CloseAsync();
            }));
        }));
        listener.Dispose();
    }
}
