using System;
using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Syscalls.Runtime.Tests.Infrastructure;
using Syscalls.Runtime.Tests.Loop;
using Xunit;

namespace Syscalls.Runtime.Tests.Adapters;

/// <summary>Back-pressure of the input pipe: while the application does not read, the connection stops receiving once
/// the pipe holds its pause threshold (the peer's sends then wait in the kernel), so memory stays bounded; once the
/// application reads, every byte arrives.</summary>
public class PipeBackPressureTests
{
    private const int Pause = 64 * 1024;
    private const long Cap = 24L * 1024 * 1024;   // without back-pressure the pipe would swallow all of this

    [Theory]
    [MemberData(nameof(TestBackends.Servers), MemberType = typeof(TestBackends))]
    public async Task ApplicationNotReading_ConnectionStopsReceiving_MemoryBounded(string backend)
    {
        using var server = new AdapterServer(backend);
        using var pool = new PinnedBlockMemoryPool();
        (Socket client, AsyncConnection connection) = await server.ConnectSocket();
        using Socket clientSocket = client;
        var options = new ConnectionPipeOptions
        {
            Pool = pool,
            InputPauseThreshold = Pause,
            InputResumeThreshold = Pause / 2,
        };
        ConnectionPipe pipe = connection.AsPipe(options);

        long sent = SendUntilStalled(client);
        Assert.True(sent < Cap, $"the peer sent {sent} bytes without ever blocking: the connection kept receiving");

        (long buffered, int blocks) = await LoopKit.Off(LoopKit.On(server.Loop, () =>
        {
            // A look that consumes nothing and marks nothing examined: the pipe stays as the application left it.
            Assert.True(pipe.Input.TryRead(out ReadResult result));
            long length = result.Buffer.Length;
            pipe.Input.AdvanceTo(result.Buffer.Start);
            return Task.FromResult((length, pool.BlocksInUse));
        }));
        Assert.True(buffered <= Pause + PinnedBlockMemoryPool.BlockSize,
            $"the pipe holds {buffered} unconsumed bytes; the bound is {Pause} + one receive");
        Assert.True(buffered >= Pause / 2, $"only {buffered} bytes reached the pipe before it paused");
        Assert.True((long)blocks * PinnedBlockMemoryPool.BlockSize <= Pause + 2 * PinnedBlockMemoryPool.BlockSize,
            $"{blocks} pool blocks in use for {buffered} buffered bytes");

        // The application reads now: receiving resumes and every byte the peer sent arrives, in order.
        client.Shutdown(SocketShutdown.Send);
        long received = await LoopKit.Off(LoopKit.On(server.Loop, async () =>
        {
            long offset = 0;
            while (true)
            {
                ReadResult result = await pipe.Input.ReadAsync();
                offset = AdapterKit.VerifyStream(result.Buffer, offset);
                pipe.Input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                    return offset;
            }
        }));
        Assert.Equal(sent, received);
        await LoopKit.Off(pipe.DisposeAsync().AsTask());
    }

    /// <summary>Sends the deterministic stream without blocking until the kernel takes nothing for a while (or the
    /// cap); returns the bytes sent.</summary>
    private static long SendUntilStalled(Socket client)
    {
        client.Blocking = false;
        byte[] chunk = new byte[64 * 1024];
        long sent = 0;
        long stalledSince = -1;
        while (sent < Cap)
        {
            int length = (int)Math.Min(chunk.Length, Cap - sent);
            for (int i = 0; i < length; i++)
                chunk[i] = AdapterKit.StreamByte(sent + i);
            int n = client.Send(chunk, 0, length, SocketFlags.None, out SocketError error);
            if (error == SocketError.Success && n > 0)
            {
                sent += n;
                stalledSince = -1;
                continue;
            }

            if (error != SocketError.WouldBlock)
                throw new SocketException((int)error);
            if (stalledSince < 0)
                stalledSince = Environment.TickCount64;
            else if (Environment.TickCount64 - stalledSince > 750)
                break;   // the kernel's buffers are full and nothing drains them
            Thread.Sleep(20);
        }

        client.Blocking = true;
        return sent;
    }
}
