using System;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Syscalls.Runtime.Tests.Infrastructure;
using Xunit;

namespace Syscalls.Runtime.Tests;

/// <summary>The thread model under a descriptor-reuse race: connections close (their descriptor numbers freed and
/// taken again by new connections at once, as Unix hands out the lowest free number) while other threads keep sending
/// to their ids. A send that read the number before the close and wrote after the reuse would reach another client.</summary>
[Collection(nameof(CpuHeavy))]
public class ThreadServerRaceTests
{
    [Fact]
    public async Task ThreadServer_SendsToClosingConnections_NoByteReachesAnotherClient()
    {
        var handler = new TaggingHandler();
        using var server = new InProcessServer("threads", handler);
        // Without the references a few connections in a thousand meet the race (a sender preempted at the wrong
        // moment): 1,000 connections make such a run very unlikely to pass (five of five failed).
        int perClient = Platform.IsWine ? 30 : 250;
        using var stop = new CancellationTokenSource();
        // Senders race the workers for the cores: a sender preempted between finding a connection and writing to it
        // is the moment the connection's worker must not close the descriptor under it.
        Thread[] senders = Enumerable.Range(0, 2).Select(_ => new Thread(() => handler.SendToEveryone(stop.Token))
        {
            IsBackground = true,
        }).ToArray();
        foreach (Thread t in senders)
            t.Start();
        var mismatches = new ConcurrentQueue<string>();
        try
        {
            await Task.WhenAll(Enumerable.Range(0, 4).Select(c => Task.Run(() =>
            {
                var message = new byte[TaggingHandler.MessageSize];
                for (int i = 0; i < perClient; i++)
                {
                    using Socket s = server.Connect();
                    s.ReceiveTimeout = 10000;
                    // The first message names this connection; every later one must name it too.
                    Peers.ReadExactly(s, message);
                    long own = BinaryPrimitives.ReadInt64LittleEndian(message);
                    for (int k = 0; k < 1 + i % 3; k++)
                    {
                        Peers.ReadExactly(s, message);
                        long tag = BinaryPrimitives.ReadInt64LittleEndian(message);
                        if (tag != own)
                            mismatches.Enqueue($"client {c}.{i} (id {own:x}) received bytes sent to {tag:x}");
                    }

                    s.Shutdown(SocketShutdown.Send);   // the server closes; the senders are still writing to the id
                    int n;
                    while ((n = s.Receive(message)) > 0)
                    {
                        if (n == message.Length && BinaryPrimitives.ReadInt64LittleEndian(message) != own)
                            mismatches.Enqueue($"client {c}.{i} (id {own:x}) received bytes sent to another id while closing");
                    }
                }
            }, TestContext.Current.CancellationToken)));
        }
        finally
        {
            stop.Cancel();
            foreach (Thread t in senders)
                t.Join();
        }

        Assert.True(mismatches.IsEmpty && handler.Strays.IsEmpty, string.Join("\n", mismatches.Concat(handler.Strays).Take(10)));
        Assert.True(handler.Sent > perClient * 2, $"only {handler.Sent} racing sends");
    }

    /// <summary>Tells each connection its id first, then lets every sender thread write that id to it while it lives
    /// (and for a while after it closed: the last few ids are kept until overwritten).</summary>
    private sealed class TaggingHandler : IConnectionHandler
    {
        public const int MessageSize = 8;
        private readonly Connection[] _recent = new Connection[8];   // about the connections open now
        private int _next;
        private long _sent;

        public long Sent => Interlocked.Read(ref _sent);

        public void OnOpened(Connection connection)
        {
            Span<byte> hello = stackalloc byte[MessageSize];
            BinaryPrimitives.WriteInt64LittleEndian(hello, Tag(connection));
            connection.Send(hello);
            lock (_recent)
                _recent[_next++ % _recent.Length] = connection;
        }

        /// <summary>Bytes the server received: the clients send none, so these were written to a client's own socket
        /// (a number the test's client side took after a server connection freed it).</summary>
        public ConcurrentQueue<string> Strays { get; } = new();

        public void OnData(Connection connection, ReadOnlySpan<byte> data)
            => Strays.Enqueue($"connection {Tag(connection):x} received {data.Length} bytes its client never sent");

        public void SendToEveryone(CancellationToken stop)
        {
            Span<byte> message = stackalloc byte[MessageSize];
            var targets = new Connection[_recent.Length];
            while (!stop.IsCancellationRequested)
            {
                lock (_recent)
                    _recent.CopyTo(targets, 0);
                foreach (Connection c in targets)
                {
                    if (c == default)
                        continue;
                    BinaryPrimitives.WriteInt64LittleEndian(message, Tag(c));
                    if (c.Send(message).IsSuccess)
                        Interlocked.Increment(ref _sent);
                }
            }
        }

        private static long Tag(Connection c) => ((long)c.Id.Generation << 32) | (uint)c.Id.Slot;
    }
}
