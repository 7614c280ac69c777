using System;
using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading.Tasks;
using Syscalls.Runtime.Tests.Infrastructure;
using Syscalls.Runtime.Tests.Loop;
using Xunit;

namespace Syscalls.Runtime.Tests.Adapters;

/// <summary>Steady state allocates nothing per message on the loop thread: an echo through <see cref="ConnectionPipe"/>
/// (receive loop, pipes, application, send loop all on the loop) and one through
/// <see cref="ConnectionStream"/>.</summary>
[Collection(nameof(AdapterAllocationTests))]
[CollectionDefinition(nameof(AdapterAllocationTests), DisableParallelization = true)]
public class AdapterAllocationTests
{
    private const int Connections = 2, Rounds = 1500, Warmup = 1000;

    [Theory]
    [MemberData(nameof(TestBackends.Servers), MemberType = typeof(TestBackends))]
    public async Task PipeEcho_SteadyState_AllocatesNothingPerMessage(string backend)
    {
        var meter = new LoopAllocationMeter(Warmup);
        await Measure(backend, connection => PipeEcho(connection.AsPipe(), meter));
        Assert.True(meter.Measured >= Connections * Rounds - Warmup - Connections, $"only {meter.Measured} measured");
        Assert.True(meter.Allocated == 0, $"{meter.Allocated} bytes; first at message {meter.FirstAllocationAt}");
    }

    [Theory]
    [MemberData(nameof(TestBackends.Servers), MemberType = typeof(TestBackends))]
    public async Task StreamEcho_SteadyState_AllocatesNothingPerMessage(string backend)
    {
        var meter = new LoopAllocationMeter(Warmup);
        await Measure(backend, connection => StreamEcho(connection.AsStream(), meter));
        Assert.True(meter.Measured >= Connections * Rounds - Warmup - Connections, $"only {meter.Measured} measured");
        Assert.Equal(0, meter.Allocated);
    }

    /// <summary>Runs <paramref name="serve"/> on each accepted connection while System.Net.Sockets clients ping-pong
    /// 64-byte messages, each checked.</summary>
    private static async Task Measure(string backend, Func<AsyncConnection, Task> serve)
    {
        using var server = new AdapterServer(backend);
        var clients = new Socket[Connections];
        var serving = new Task[Connections];
        for (int i = 0; i < Connections; i++)
        {
            (Socket client, AsyncConnection connection) = await server.ConnectSocket();
            clients[i] = client;
            serving[i] = LoopKit.On(server.Loop, () => serve(connection));
        }

        await Task.Run(() =>
        {
            for (int round = 0; round < Rounds; round++)
            {
                for (int c = 0; c < Connections; c++)
                    Peers.EchoOnce(clients[c], c, round, 64);
            }
        }).WaitAsync(TimeSpan.FromMinutes(5));
        foreach (Socket client in clients)
            client.Shutdown(SocketShutdown.Send);
        await LoopKit.Off(Task.WhenAll(serving));
        foreach (Socket client in clients)
            client.Dispose();
    }

    private static async Task PipeEcho(ConnectionPipe pipe, LoopAllocationMeter meter)
    {
        while (true)
        {
            ReadResult result = await pipe.Input.ReadAsync();
            ReadOnlySequence<byte> buffer = result.Buffer;
            foreach (ReadOnlyMemory<byte> segment in buffer)
                pipe.Output.Write(segment.Span);
            pipe.Input.AdvanceTo(buffer.End);
            if (!buffer.IsEmpty)
            {
                await pipe.Output.FlushAsync();
                meter.Message();
            }

            if (result.IsCompleted)
                break;
        }

        await pipe.DisposeAsync();
    }

    private static async Task StreamEcho(ConnectionStream stream, LoopAllocationMeter meter)
    {
        var buffer = new byte[4096];
        int n;
        while ((n = await stream.ReadAsync(buffer.AsMemory())) > 0)
        {
            await stream.WriteAsync(buffer.AsMemory(0, n));
            meter.Message();
        }

        await stream.DisposeAsync();
    }

    /// <summary>Counts messages on the loop thread; from the warm-up's end on, the thread's allocated bytes.</summary>
    private sealed class LoopAllocationMeter(int warmup)
    {
        private long _messages;
        private long _mark = -1;

        public long Allocated { get; private set; }

        public long FirstAllocationAt { get; private set; }

        public long Measured => Math.Max(0, _messages - warmup);

        public void Message()
        {
            if (++_messages == warmup)
                _mark = GC.GetAllocatedBytesForCurrentThread();
            else if (_mark >= 0)
            {
                Allocated = GC.GetAllocatedBytesForCurrentThread() - _mark;
                if (Allocated > 0 && FirstAllocationAt == 0)
                    FirstAllocationAt = _messages;
            }
        }
    }
}
