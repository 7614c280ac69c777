using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using Syscalls.Runtime.Tests.Infrastructure;
using Xunit;

namespace Syscalls.Runtime.Tests;

/// <summary>Failures stay local: a handler callback that throws closes its own connection, reports the exception, and
/// leaves the loop and every other connection serving, on every model (a loop server's Run used to rethrow it after
/// closing every connection; the thread model let it end the process).</summary>
public class HandlerFailureTests
{
    [Theory]
    [MemberData(nameof(TestBackends.Servers), MemberType = typeof(TestBackends))]
    public void HandlerThrows_ClosesOnlyItsConnection_LoopAndOtherConnectionsGoOn(string backend)
    {
        var reports = new ConcurrentQueue<(ConnectionId Id, string Message)>();
        var handler = new ThrowingEcho(throwOnOpen: 4);
        using var server = new InProcessServer(backend, handler,
            o => o.OnHandlerError = (connection, e) => reports.Enqueue((connection.Id, e.Message)));
        Socket[] healthy = [server.Connect(), server.Connect()];
        using Socket victim = server.Connect();
        for (int c = 0; c < healthy.Length; c++)
            Peers.EchoOnce(healthy[c], c, 0, 100);
        Peers.EchoOnce(victim, 9, 0, 100);

        // OnOpened throws for the fourth connection, OnData for the victim's poisoned message (then OnClosed too).
        using Socket refused = server.Connect();
        victim.Send([0xEE, 1, 2, 3]);
        foreach (Socket s in new[] { victim, refused })
        {
            s.ReceiveTimeout = 10000;
            Assert.True(EndsWithoutData(s), "a connection whose handler threw was not closed");
        }

        // Everyone else is served on, byte for byte, and so is a connection opened afterwards.
        for (int round = 1; round < 20; round++)
        {
            for (int c = 0; c < healthy.Length; c++)
                Peers.EchoOnce(healthy[c], c, round, 1 + round * 331 % 5000);
        }

        using (Socket later = server.Connect())
            Peers.EchoOnce(later, 7, 0, 3000);
        Assert.True(EchoHandler.WaitFor(() => reports.Count >= 3), $"{reports.Count} handler errors reported");
        Assert.Equal(ErrorKind.HandlerFailed, handler.ReasonOf(handler.Poisoned));
        Assert.Equal(ErrorKind.HandlerFailed, handler.ReasonOf(handler.ThrewOnOpen));
        Assert.Contains(reports, r => r.Id == handler.ThrewOnOpen && r.Message == "OnOpened");
        Assert.Contains(reports, r => r.Id == handler.Poisoned && r.Message == "OnData");
        Assert.Contains(reports, r => r.Id == handler.Poisoned && r.Message == "OnClosed");
        Assert.Equal(3, reports.Count);
        foreach (Socket s in healthy)
            s.Dispose();
        server.Stop();   // rethrows anything Run threw: it must have thrown nothing
    }

    /// <summary>True when the peer closed (end of stream, or a reset) before any byte came.</summary>
    private static bool EndsWithoutData(Socket s)
    {
        try
        {
            return s.Receive(new byte[16]) == 0;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
    }

    /// <summary>Echoes; throws from OnOpened for the <c>throwOnOpen</c>th connection, from OnData for a message that
    /// starts with 0xEE, and from OnClosed for that connection afterwards. Each exception's message is the callback.</summary>
    private sealed class ThrowingEcho(int throwOnOpen) : EchoHandler
    {
        private readonly ConcurrentDictionary<ConnectionId, ErrorKind> _reasons = new();
        private int _opened;

        public ConnectionId Poisoned { get; private set; }

        public ConnectionId ThrewOnOpen { get; private set; }

        public ErrorKind ReasonOf(ConnectionId id)
        {
            Assert.True(WaitFor(() => _reasons.ContainsKey(id)), $"{id} never closed");
            return _reasons[id];
        }

        public override void OnOpened(Connection connection)
        {
            base.OnOpened(connection);
            if (Interlocked.Increment(ref _opened) != throwOnOpen)
                return;
            ThrewOnOpen = connection.Id;
            throw new InvalidOperationException("OnOpened");
        }

        public override void OnData(Connection connection, ReadOnlySpan<byte> data)
        {
            if (data[0] != 0xEE)
            {
                base.OnData(connection, data);
                return;
            }

            Poisoned = connection.Id;
            throw new InvalidOperationException("OnData");
        }

        public override void OnClosed(Connection connection, OsError reason)
        {
            base.OnClosed(connection, reason);
            _reasons[connection.Id] = reason.Kind;
            if (connection.Id == Poisoned && Poisoned != default)
                throw new InvalidOperationException("OnClosed");
        }
    }
}
