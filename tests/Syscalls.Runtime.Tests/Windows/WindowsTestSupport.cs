using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using Syscalls.Runtime.Backends.Windows;
using Xunit;

namespace Syscalls.Runtime.Tests.Windows;

/// <summary>Sockets and ring driving for the Windows backend tests. The peer of every test is a System.Net.Sockets
/// socket: an independent TCP stack user that shares nothing with the backend under test.</summary>
[SupportedOSPlatform("windows")]
internal static class WindowsTestSupport
{
    public const int TimeoutMs = 10000;

    /// <summary>Skips the test off Windows (the Windows backends exist only there; Wine counts as Windows).</summary>
    public static void RequireWindows()
        => Assert.SkipUnless(OperatingSystem.IsWindows(), "Windows backend: runs on Windows and under Wine (eng/wine.sh)");

    /// <summary>A listening socket of the runtime on 127.0.0.1 with an OS-chosen port.</summary>
    public static WinSocketHandle Listen(out int port, bool blocking = false)
    {
        nuint s = Winsock.Listen(NetEndpoint.Loopback(0), 64, blocking).Value;
        var handle = new WinSocketHandle(s);
        port = Winsock.GetSockName(s).Value.Port;
        return handle;
    }

    /// <summary>An unconnected TCP socket of the runtime.</summary>
    public static WinSocketHandle NewSocket(bool blocking = false)
        => new(Winsock.Socket(AddressFamily.InterNetwork, SocketType.Stream, blocking).Value);

    /// <summary>A peer connected to 127.0.0.1:<paramref name="port"/>, with receive and send timeouts.</summary>
    public static Socket Peer(int port)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        {
            NoDelay = true,
            ReceiveTimeout = TimeoutMs,
            SendTimeout = TimeoutMs,
        };
        s.Connect(new IPEndPoint(IPAddress.Loopback, port));
        return s;
    }

    /// <summary>A peer listener on 127.0.0.1 with an OS-chosen port.</summary>
    public static Socket PeerListener(out int port)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        s.Listen(16);
        port = ((IPEndPoint)s.LocalEndPoint!).Port;
        return s;
    }

    /// <summary>A port nothing listens on (bound and closed again).</summary>
    public static int ClosedPort()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }

    /// <summary>Receives exactly <paramref name="count"/> bytes on the peer.</summary>
    public static byte[] ReceiveExactly(Socket peer, int count)
    {
        var data = new byte[count];
        int got = 0;
        while (got < count)
        {
            int n = peer.Receive(data, got, count - got, SocketFlags.None);
            if (n == 0)
                throw new InvalidOperationException($"end of stream after {got} of {count} bytes");
            got += n;
        }

        return data;
    }

    /// <summary>Closes the peer with a reset (SO_LINGER {1, 0}) instead of a FIN.</summary>
    public static void Reset(Socket peer)
    {
        peer.LingerState = new LingerOption(true, 0);
        peer.Close();
    }

    /// <summary>Submits and waits until the completions of every tag in <paramref name="tags"/> arrived.</summary>
    public static Dictionary<ulong, RingCompletion> WaitFor(IRing ring, params UserData[] tags)
    {
        var wanted = new HashSet<ulong>();
        foreach (UserData t in tags)
            wanted.Add(t.Value);
        var got = new Dictionary<ulong, RingCompletion>();
        var buffer = new RingCompletion[16];
        long end = Environment.TickCount64 + TimeoutMs;
        while (got.Count < wanted.Count)
        {
            int left = (int)(end - Environment.TickCount64);
            Assert.True(left > 0, $"timed out waiting for completions; got {got.Count} of {wanted.Count}");
            Result<int> n = ring.SubmitAndWait(buffer, left);
            Assert.True(n.IsSuccess, n.ToString());
            for (int i = 0; i < n.Value; i++)
            {
                Assert.True(wanted.Contains(buffer[i].UserData.Value), $"unexpected completion {buffer[i]}");
                Assert.True(got.TryAdd(buffer[i].UserData.Value, buffer[i]), $"second completion for {buffer[i]}");
            }
        }

        return got;
    }

    /// <summary>The one completion of <paramref name="tag"/>.</summary>
    public static RingCompletion WaitOne(IRing ring, UserData tag) => WaitFor(ring, tag)[tag.Value];

    /// <summary>Enqueues and fails the test when the ring refuses.</summary>
    public static void Enqueue(IRing ring, in RingOperation operation)
    {
        Result r = ring.Enqueue(operation);
        Assert.True(r.IsSuccess, r.ToString());
    }

    public static UserData Tag(uint slot, byte tag = 0) => UserData.Create(slot, 1, tag);
}
