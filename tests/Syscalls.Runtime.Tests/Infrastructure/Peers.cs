using System;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace Syscalls.Runtime.Tests.Infrastructure;

/// <summary>Client-side helpers built on System.Net.Sockets (an implementation independent of the runtime).</summary>
public static class Peers
{
    /// <summary>A payload that encodes who sent it, so drops, duplicates, reordering and cross-talk all show.</summary>
    public static byte[] Payload(int connection, int round, int length)
    {
        var data = new byte[length];
        for (int i = 0; i < length; i++)
            data[i] = (byte)(connection * 31 + round * 7 + i * 13 + (i >> 8));
        if (length >= 8)
        {
            BinaryPrimitives.WriteInt32LittleEndian(data, connection);
            BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(4), round);
        }

        return data;
    }

    /// <summary>Reads exactly <paramref name="buffer"/>.Length bytes or fails on end of stream.</summary>
    public static async Task ReadExactlyAsync(Socket s, Memory<byte> buffer, CancellationToken ct)
    {
        int got = 0;
        while (got < buffer.Length)
        {
            int n = await s.ReceiveAsync(buffer[got..], SocketFlags.None, ct);
            if (n == 0)
                throw new InvalidOperationException($"end of stream after {got} of {buffer.Length} bytes");
            got += n;
        }
    }

    public static void ReadExactly(Socket s, Span<byte> buffer)
    {
        int got = 0;
        while (got < buffer.Length)
        {
            int n = s.Receive(buffer[got..]);
            if (n == 0)
                throw new InvalidOperationException($"end of stream after {got} of {buffer.Length} bytes");
            got += n;
        }
    }

    /// <summary>Sends a payload and checks the echo byte for byte.</summary>
    public static void EchoOnce(Socket s, int connection, int round, int length)
    {
        byte[] sent = Payload(connection, round, length);
        s.Send(sent);
        var back = new byte[length];
        ReadExactly(s, back);
        Assert.Equal(sent, back);
    }

    public static Socket Connect(IPEndPoint ep)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        s.Connect(ep);
        return s;
    }

    /// <summary>Closes with a reset (no TIME_WAIT left on the client's ephemeral port).</summary>
    public static void Reset(Socket s)
    {
        try
        {
            s.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
        }

        s.Dispose();
    }
}
