using System;
using System.Net.Sockets;
using System.Threading.Tasks;
using Syscalls.Runtime.Tests.Infrastructure;
using Syscalls.Runtime.Tests.Loop;
using Xunit;

namespace Syscalls.Runtime.Tests.Adapters;

/// <summary><see cref="ConnectionStream"/> beyond TLS: blocking calls work off the loop and refuse on it (without
/// leaving an operation behind), disposal closes the connection unless asked to leave it open.</summary>
public class ConnectionStreamTests
{
    [Theory]
    [MemberData(nameof(TestBackends.Servers), MemberType = typeof(TestBackends))]
    public async Task SyncReadAndWrite_OffTheLoop_Block_AndOnTheLoop_Throw(string backend)
    {
        using var server = new AdapterServer(backend);
        (Socket client, AsyncConnection connection) = await server.ConnectSocket();
        using Socket clientSocket = client;
        using ConnectionStream stream = connection.AsStream();

        // Off the loop (this thread): plain blocking calls.
        byte[] hello = Peers.Payload(3, 0, 5000);
        stream.Write(hello, 0, hello.Length);
        var got = new byte[hello.Length];
        Peers.ReadExactly(client, got);
        Assert.Equal(hello, got);
        client.Send(hello);
        var span = new byte[hello.Length];
        int read = 0;
        while (read < span.Length)
            read += stream.Read(span.AsSpan(read));
        Assert.Equal(hello, span);

        // On the loop: refused before anything starts, so an async read afterwards still works.
        await LoopKit.Off(LoopKit.On(server.Loop, async () =>
        {
            Assert.Throws<InvalidOperationException>(() => stream.Read(new byte[8], 0, 8));
            Assert.Throws<InvalidOperationException>(() => stream.Read(new byte[8].AsSpan()));
            Assert.Throws<InvalidOperationException>(() => stream.Write(new byte[8], 0, 8));
            Assert.Throws<InvalidOperationException>(() => stream.Write(new byte[8].AsSpan()));
            client.Send(new byte[] { 9 });
            var one = new byte[1];
            Assert.Equal(1, await stream.ReadAsync(one));
            Assert.Equal(9, one[0]);
        }));
    }

    [Theory]
    [MemberData(nameof(TestBackends.Servers), MemberType = typeof(TestBackends))]
    public async Task Dispose_ClosesTheConnection_UnlessLeftOpen(string backend)
    {
        using var server = new AdapterServer(backend);
        (Socket client, AsyncConnection connection) = await server.ConnectSocket();
        using Socket clientSocket = client;
        await LoopKit.Off(LoopKit.On(server.Loop, async () =>
        {
            await using (ConnectionStream kept = connection.AsStream(leaveOpen: true))
                await kept.WriteAsync(new byte[] { 1 });
            Assert.True(connection.IsOpen);
            await using ConnectionStream owning = connection.AsStream();
            await owning.WriteAsync(new byte[] { 2 });
            Assert.Throws<NotSupportedException>(() => owning.Length);
            Assert.False(owning.CanSeek);
        }));
        await LoopKit.Off(connection.Closed);
        var buffer = new byte[4];
        int got = 0, n;
        while ((n = client.Receive(buffer, got, buffer.Length - got, SocketFlags.None)) > 0)
            got += n;
        Assert.Equal(2, got);   // both bytes, then the FIN of the disposal
        Assert.Equal(new byte[] { 1, 2 }, buffer[..2]);
    }
}
