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

/// <summary>A server loop with a listener, and helpers shared by the adapter tests: accept one connection (ours or a
/// System.Net.Sockets client), echo through a pipe, a deterministic byte stream.</summary>
internal sealed class AdapterServer : IDisposable
{
    public AdapterServer(string backend)
    {
        Loop = LoopKit.Start(backend);
        Listener = AsyncListener.Listen(Loop, NetEndpoint.Loopback(0));
    }

    public EventLoop Loop { get; }

    public AsyncListener Listener { get; }

    public NetEndpoint Endpoint => Listener.LocalEndpoint;

    /// <summary>Starts accepting the next connection (complete it by connecting).</summary>
    public Task<AsyncConnection> AcceptOne()
        => LoopKit.On(Loop, async () => await Listener.AcceptAsync() ?? throw new InvalidOperationException("closed"));

    /// <summary>A System.Net.Sockets client connected to the listener, and our side of it.</summary>
    public async Task<(Socket Client, AsyncConnection Server)> ConnectSocket()
    {
        Task<AsyncConnection> accepted = AcceptOne();
        Socket client = Peers.Connect(Endpoint.ToIPEndPoint());
        return (client, await LoopKit.Off(accepted));
    }

    /// <summary>Our client on <paramref name="clientLoop"/> connected to the listener, and our side of it.</summary>
    public async Task<(AsyncConnection Client, AsyncConnection Server)> ConnectOurs(EventLoop clientLoop)
    {
        Task<AsyncConnection> accepted = AcceptOne();
        AsyncConnection client = await LoopKit.Off(LoopKit.On(clientLoop,
            async () => await AsyncConnection.ConnectAsync(clientLoop, Endpoint, TimeSpan.FromSeconds(10))));
        return (client, await LoopKit.Off(accepted));
    }

    public void Dispose()
    {
        Listener.Dispose();
        Loop.Dispose();
    }
}

internal static class AdapterKit
{
    /// <summary>The test's token (xunit cancels it when the run is aborted).</summary>
    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Waits for <paramref name="task"/> within <see cref="LoopKit.Patience"/>.</summary>
    public static Task Within(this Task task) => task.WaitAsync(LoopKit.Patience, Ct);

    public static Task<T> Within<T>(this Task<T> task) => task.WaitAsync(LoopKit.Patience, Ct);

    public static Task<T> Within<T>(this ValueTask<T> task) => task.AsTask().WaitAsync(LoopKit.Patience, Ct);

    public static Task Within(this ValueTask task) => task.AsTask().WaitAsync(LoopKit.Patience, Ct);

    /// <summary>Receives on the peer's socket into <paramref name="into"/> until the server's FIN; the byte count.</summary>
    public static async Task<int> ReceiveToEnd(Socket peer, byte[] into)
    {
        int got = 0, n;
        while ((n = await peer.ReceiveAsync(into.AsMemory(got), SocketFlags.None, Ct).Within()) > 0)
            got += n;
        return got;
    }

    /// <summary>Echoes every byte of the pipe's input to its output until the input ends, then completes both
    /// ends.</summary>
    public static async Task EchoPipe(IDuplexPipe pipe)
    {
        while (true)
        {
            ReadResult result = await pipe.Input.ReadAsync();
            ReadOnlySequence<byte> buffer = result.Buffer;
            foreach (ReadOnlyMemory<byte> segment in buffer)
                pipe.Output.Write(segment.Span);
            pipe.Input.AdvanceTo(buffer.End);
            if (!buffer.IsEmpty && (await pipe.Output.FlushAsync()).IsCompleted)
                break;
            if (result.IsCompleted)
                break;
        }

        await pipe.Input.CompleteAsync();
        await pipe.Output.CompleteAsync();
    }

    /// <summary>Byte <paramref name="offset"/> of a long deterministic stream (a drop, a duplicate or a swap
    /// shows).</summary>
    public static byte StreamByte(long offset) => (byte)(offset * 7 + (offset >> 11) + (offset >> 19));

    public static byte[] StreamBytes(long start, int length)
    {
        var data = new byte[length];
        for (int i = 0; i < length; i++)
            data[i] = StreamByte(start + i);
        return data;
    }

    /// <summary>Checks <paramref name="data"/> against the stream from <paramref name="start"/>; returns the new
    /// offset.</summary>
    public static long VerifyStream(in ReadOnlySequence<byte> data, long start)
    {
        long offset = start;
        foreach (ReadOnlyMemory<byte> segment in data)
        {
            ReadOnlySpan<byte> span = segment.Span;
            for (int i = 0; i < span.Length; i++, offset++)
            {
                if (span[i] != StreamByte(offset))
                    throw new InvalidOperationException($"byte {offset} is {span[i]}, expected {StreamByte(offset)}");
            }
        }

        return offset;
    }
}
