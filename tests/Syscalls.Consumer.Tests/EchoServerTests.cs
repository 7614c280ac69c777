using System;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Syscalls.Consumer.Tests.Infrastructure;
using Xunit;
using Xunit.Sdk;

namespace Syscalls.Consumer.Tests;

/// <summary>
/// samples/RawEcho's server for this OS (epoll natively and under qemu, WSAPoll under Wine), built from the packed
/// package, against real clients on loopback: every byte comes back, in order, from many connections at once and
/// through a client that does not read for a while; a FIN is answered with a close; a port in use is an error named as
/// the OS names it; the wake-up ends the loop with 0 and the listener closed.
/// </summary>
public sealed class EchoServerTests
{
    /// <summary>How long an echo may stay silent before the test calls it lost (generous: Wine and qemu are
    /// slow).</summary>
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(30);

    [Fact(Timeout = 120_000)]   // a server that stops answering fails the test instead of hanging the suite
    public async Task Serve_ManyConnectionsAtOnce_EchoesEveryByte()
    {
        var cancel = TestContext.Current.CancellationToken;
        using var server = RawServer.Start();
        const int connections = 100;
        var clients = new Socket[connections];
        try
        {
            // All connected before any sends, so the one loop thread holds every connection at once.
            for (int i = 0; i < connections; i++)
                clients[i] = await Connect(server.Port, cancel);
            // Sizes from 1 byte to past the server's 4096-byte buffer several times over, each its own pattern.
            await Task.WhenAll(clients.Select((c, i) => Exchange(c, Payload(i, 1 + (i * 7919 % 20000)), cancel)));
        }
        finally
        {
            foreach (var c in clients)
                c?.Dispose();
        }

        Assert.Equal(0, server.Stop());
    }

    [Fact(Timeout = 120_000)]
    public async Task Serve_ClientReadsLate_KeepsWhatTheSocketDidNotTake()
    {
        var cancel = TestContext.Current.CancellationToken;
        using var server = RawServer.Start();
        using var client = await Connect(server.Port, cancel, buffers: 4096);
        byte[] payload = Payload(7, MostInFlight);

        // The precondition: the client sends without reading until its socket takes nothing for Stalled. Then every
        // buffer between the two is full: the server's socket refused part of an echo (EAGAIN) and the server stopped
        // reading this client until it could send the rest (EPOLLOUT / EVFILT_WRITE; the Windows server blocks in
        // send instead). A server that dropped what its socket did not take would read on and never stall the client.
        int sent = SendUntilStalled(client, payload);
        Assert.True(sent < payload.Length,
            $"all {payload.Length} bytes went out while the client did not read: the server never stopped reading");
        TestContext.Current.TestOutputHelper?.WriteLine($"{sent} bytes in flight when the client's sends stalled");

        byte[] back = await ReceiveExactly(client, sent, cancel);
        AssertSameBytes(payload[..sent], back);
        // Still serving this client after the stall.
        await Exchange(client, Payload(8, 1000), cancel);
        Assert.Equal(0, server.Stop());
    }

    [Fact(Timeout = 120_000)]
    public async Task Serve_PeerSendsFin_EchoesThenCloses()
    {
        var cancel = TestContext.Current.CancellationToken;
        using var server = RawServer.Start();
        using var client = await Connect(server.Port, cancel);
        byte[] hello = "hello, raw bindings"u8.ToArray();
        await client.SendAsync(hello, SocketFlags.None, cancel);
        client.Shutdown(SocketShutdown.Send);

        AssertSameBytes(hello, await ReceiveExactly(client, hello.Length, cancel));
        Assert.Equal(0, await Receive(client, new byte[16], "the server's close after its echo", cancel));
        Assert.Equal(0, server.Stop());
    }

    [Fact]
    public void Listen_PortInUse_FailsWithTheOsErrorName()
    {
        using var server = RawServer.Start();

        var error = server.ListenFails(server.Port);

        string expected = OperatingSystem.IsWindows() ? "WSAEADDRINUSE" : "EADDRINUSE";
        Assert.Equal(expected, error.Name);
        Assert.StartsWith($"{expected} ({error.Number}): ", error.ToString());
        Assert.Equal(0, server.Stop());
    }

    [Fact(Timeout = 120_000)]
    public async Task Serve_Woken_ReturnsZeroAndClosesTheListener()
    {
        var cancel = TestContext.Current.CancellationToken;
        ushort port;
        using (var server = RawServer.Start())
        {
            port = server.Port;
            using (var client = await Connect(port, cancel))
                await Exchange(client, Payload(1, 100), cancel);
            Assert.Equal(0, server.Stop());
        }

        var refused = await Assert.ThrowsAsync<SocketException>(() => Connect(port, cancel));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    /// <summary>More than the buffers between a client and the server can hold (Linux lets a socket's receive buffer
    /// grow to tcp_rmem's 32 MiB maximum on its own, and its send buffer to tcp_wmem's 4 MiB).</summary>
    private const int MostInFlight = 64 << 20;

    /// <summary>How long a client's socket takes nothing before the test calls its sends stalled. A server that reads
    /// on is never still this long; one that stopped reading is still for good, so no result depends on the
    /// figure, only how long the test waits.</summary>
    private static readonly TimeSpan Stalled = TimeSpan.FromSeconds(2);

    /// <summary>Sends <paramref name="payload"/> from its start without reading, until the socket takes nothing for
    /// <see cref="Stalled"/> or all of it is sent; how many bytes the socket took.</summary>
    private static int SendUntilStalled(Socket client, byte[] payload)
    {
        client.Blocking = false;
        int sent = 0;
        while (sent < payload.Length)
        {
            // The overload that returns the error: no exception per EAGAIN (and none through Wine's unwinder).
            int n = client.Send(payload.AsSpan(sent, Math.Min(64 << 10, payload.Length - sent)), SocketFlags.None,
                out SocketError error);
            if (error == SocketError.WouldBlock)
            {
                if (!client.Poll(Stalled, SelectMode.SelectWrite))
                    break;
                continue;
            }
            Assert.True(error == SocketError.Success, $"send after {sent} bytes: {error}");
            sent += n;
        }
        client.Blocking = true;
        return sent;
    }

    /// <summary>A client connected to the server; <paramref name="buffers"/>: its socket's send and receive buffer
    /// sizes, set before connecting (0: the system's).</summary>
    private static async Task<Socket> Connect(ushort port, CancellationToken cancel, int buffers = 0)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (buffers > 0)
        {
            s.ReceiveBufferSize = buffers;
            s.SendBufferSize = buffers;
        }
        try
        {
            await s.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancel);
            return s;
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    /// <summary>Sends <paramref name="payload"/> while reading the echo (so neither side's buffers can stall the
    /// other), then checks it byte for byte.</summary>
    private static async Task Exchange(Socket client, byte[] payload, CancellationToken cancel)
    {
        var sending = client.SendAsync(payload, SocketFlags.None, cancel).AsTask();
        byte[] back = await ReceiveExactly(client, payload.Length, cancel);
        await sending;
        AssertSameBytes(payload, back);
    }

    private static async Task<byte[]> ReceiveExactly(Socket client, int length, CancellationToken cancel)
    {
        var buffer = new byte[length];
        int got = 0;
        while (got < length)
        {
            int n = await Receive(client, buffer.AsMemory(got), $"the echo after {got} of {length} bytes", cancel);
            Assert.True(n > 0, $"the server closed the connection after {got} of {length} bytes");
            got += n;
        }
        return buffer;
    }

    /// <summary>One receive, failing the test when nothing comes for <see cref="Idle"/>.</summary>
    private static async Task<int> Receive(Socket client, Memory<byte> into, string waitingFor,
        CancellationToken cancel)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        idle.CancelAfter(Idle);
        try
        {
            return await client.ReceiveAsync(into, SocketFlags.None, idle.Token);
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            throw new XunitException($"nothing for {Idle.TotalSeconds} s while waiting for {waitingFor}");
        }
    }

    /// <summary>A payload no other connection sends: its index and offset in every 4-byte group.</summary>
    private static byte[] Payload(int index, int length)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++)
            bytes[i] = unchecked((byte)((i % 4 == 0 ? index : i / 4) * 31 + i));
        return bytes;
    }

    private static void AssertSameBytes(byte[] expected, byte[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        int first = expected.AsSpan().CommonPrefixLength(actual);
        Assert.True(first == expected.Length, $"the echo differs from byte {first} of {expected.Length} on");
    }
}
