using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO.Pipelines;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Options;
using Syscalls.Runtime;
using Xunit;

namespace Syscalls.AspNetCore.Tests;

/// <summary>The Syscalls transport against Kestrel's transport contracts, without Kestrel: what its listener and
/// connections promise (bind errors, port 0, unbind, features, the exceptions Kestrel tells apart, Abort) on every
/// runtime backend of the host, with real sockets as peers.</summary>
public class TransportContractTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public static TheoryData<BackendKind> Backends => new(BackendSelector.SupportedServerBackends());

    [Theory(Timeout = Infrastructure.WebTransports.TestTimeoutMs)]
    [MemberData(nameof(Backends))]
    public async Task Bind_PortTaken_AddressInUseException(BackendKind backend)
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        SyscallsTransportFactory factory = Factory(backend);
        AddressInUseException e = await Assert.ThrowsAsync<AddressInUseException>(
            async () => await factory.BindAsync(taken.LocalEndPoint!, TestContext.Current.CancellationToken));
        Assert.Contains(((IPEndPoint)taken.LocalEndPoint!).Port.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
    }

    [Theory(Timeout = Infrastructure.WebTransports.TestTimeoutMs)]
    [MemberData(nameof(Backends))]
    public async Task Unbind_AcceptReturnsNullAndThePortIsClosed_AcceptedConnectionGoesOn(BackendKind backend)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        SyscallsTransportFactory factory = Factory(backend);
        IConnectionListener listener = await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0), ct);
        var endpoint = (IPEndPoint)listener.EndPoint;
        Assert.NotEqual(0, endpoint.Port);
        Assert.Equal(backend, factory.Backend);
        using Socket client = await Connect(endpoint, ct);
        ConnectionContext? accepted = await listener.AcceptAsync(ct).AsTask().WaitAsync(Patience, ct);
        Assert.NotNull(accepted);

        await listener.UnbindAsync(ct);
        Assert.Null(await listener.AcceptAsync(ct).AsTask().WaitAsync(Patience, ct));
        await AssertNotAccepting(endpoint, ct);
        // The connection accepted before the unbind still works both ways.
        await client.SendAsync("ping"u8.ToArray(), ct);
        Assert.Equal("ping", await ReadText(accepted.Transport.Input, 4, ct));
        await accepted.Transport.Output.WriteAsync("pong"u8.ToArray(), ct);
        Assert.Equal("pong", await ReceiveText(client, 4, ct));

        await accepted.DisposeAsync();
        await listener.DisposeAsync();
        Assert.Null(await listener.AcceptAsync(ct));
    }

    [Theory(Timeout = Infrastructure.WebTransports.TestTimeoutMs)]
    [MemberData(nameof(Backends))]
    public async Task PeerResets_InputThrowsConnectionResetException_OtherConnectionUntouched(BackendKind backend)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using IConnectionListener listener = await Factory(backend).BindAsync(new IPEndPoint(IPAddress.Loopback, 0), ct);
        using Socket resetting = await Connect((IPEndPoint)listener.EndPoint, ct);
        ConnectionContext first = (await listener.AcceptAsync(ct))!;
        using Socket healthy = await Connect((IPEndPoint)listener.EndPoint, ct);
        ConnectionContext second = (await listener.AcceptAsync(ct))!;
        Assert.NotEqual(first.ConnectionId, second.ConnectionId);
        AssertFeatures(first);

        resetting.LingerState = new LingerOption(true, 0);
        resetting.Close();   // RST
        await Assert.ThrowsAsync<ConnectionResetException>(async () =>
        {
            while (true)
            {
                ReadResult r = await first.Transport.Input.ReadAsync(ct);
                first.Transport.Input.AdvanceTo(r.Buffer.End);
                Assert.False(r.IsCompleted, "a reset read as an orderly end of stream");
            }
        }).WaitAsync(Patience, ct);
        await WaitCancelled(first.ConnectionClosed, ct);
        // As Kestrel's Sockets transport: flushes after the reset never throw (Kestrel would log the interrupted
        // response as the application's unhandled exception) and report completion once the send side has wound down.
        // ConnectionClosed fires when receiving ends, as there, so the first flush may still be taken.
        var winding = System.Diagnostics.Stopwatch.StartNew();
        FlushResult flushed;
        while (!(flushed = await first.Transport.Output.WriteAsync("late"u8.ToArray(), ct).AsTask().WaitAsync(Patience, ct)).IsCompleted
            && winding.Elapsed < Patience)
            await Task.Delay(10, ct);
        Assert.True(flushed.IsCompleted, "flushes after the peer's reset never reported completion");

        // The other connection never sees the first one's failure.
        Assert.False(second.ConnectionClosed.IsCancellationRequested);
        await healthy.SendAsync("still here"u8.ToArray(), ct);
        Assert.Equal("still here", await ReadText(second.Transport.Input, 10, ct));
        await second.Transport.Output.WriteAsync("yes"u8.ToArray(), ct);
        Assert.Equal("yes", await ReceiveText(healthy, 3, ct));
        await first.DisposeAsync();
        await second.DisposeAsync();
    }

    [Theory(Timeout = Infrastructure.WebTransports.TestTimeoutMs)]
    [MemberData(nameof(Backends))]
    public async Task Abort_NeverThrows_ReadsThrowItsReason_PeerSeesTheEnd(BackendKind backend)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using IConnectionListener listener = await Factory(backend).BindAsync(new IPEndPoint(IPAddress.Loopback, 0), ct);
        using Socket client = await Connect((IPEndPoint)listener.EndPoint, ct);
        ConnectionContext accepted = (await listener.AcceptAsync(ct))!;
        var reason = new ConnectionAbortedException("test abort");
        accepted.Abort(reason);
        accepted.Abort(new ConnectionAbortedException("second"));   // idempotent, no throw
        accepted.Abort(null!);   // as Kestrel calls it once the client closed in order: no throw either
        ConnectionAbortedException thrown = await Assert.ThrowsAsync<ConnectionAbortedException>(
            async () => await accepted.Transport.Input.ReadAsync(ct)).WaitAsync(Patience, ct);
        Assert.Same(reason, thrown);
        await WaitCancelled(accepted.ConnectionClosed, ct);
        var buffer = new byte[16];
        int n;
        try
        {
            n = await client.ReceiveAsync(buffer, ct).AsTask().WaitAsync(Patience, ct);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            n = 0;
        }

        Assert.Equal(0, n);
        await accepted.DisposeAsync();
        accepted.Abort();   // after dispose too
    }

    [Theory(Timeout = Infrastructure.WebTransports.TestTimeoutMs)]
    [MemberData(nameof(Backends))]
    public async Task ConnectionFactory_ConnectsAndCarriesBothWays(BackendKind backend)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        server.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        server.Listen();
        await using var factory = new SyscallsConnectionFactory(Options.Create(new SyscallsTransportOptions { Backend = backend }));
        Task<Socket> accepting = server.AcceptAsync(ct).AsTask();
        ConnectionContext c = await factory.ConnectAsync(server.LocalEndPoint!, ct);
        using Socket peer = await accepting.WaitAsync(Patience, ct);
        Assert.Equal(server.LocalEndPoint, c.RemoteEndPoint);
        Assert.Equal(backend, factory.Backend);
        await c.Transport.Output.WriteAsync("hello"u8.ToArray(), ct);
        Assert.Equal("hello", await ReceiveText(peer, 5, ct));
        await peer.SendAsync("world"u8.ToArray(), ct);
        Assert.Equal("world", await ReadText(c.Transport.Input, 5, ct));
        await c.DisposeAsync();
        Assert.Equal(0, await peer.ReceiveAsync(new byte[1], ct).AsTask().WaitAsync(Patience, ct));   // FIN
    }

    [Theory(Timeout = Infrastructure.WebTransports.TestTimeoutMs)]
    [MemberData(nameof(Backends))]
    public async Task PeerFin_FiresConnectionClosed_WhileTheOutputIsOpen(BackendKind backend)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using OneConnection one = await OneConnection.OpenAsync(backend, ct);
        await one.Client.SendAsync("bye"u8.ToArray(), ct);
        one.Client.Shutdown(SocketShutdown.Send);
        await WaitCancelled(one.Accepted.ConnectionClosed, ct);
    }

    /// <summary>The connection is its own feature collection: what Kestrel and middleware set is kept in order, an own
    /// feature can be replaced or removed, and every change moves the revision, as in a <c>FeatureCollection</c>.</summary>
    [Theory(Timeout = Infrastructure.WebTransports.TestTimeoutMs)]
    [MemberData(nameof(Backends))]
    public async Task Features_SetReplaceRemoveEnumerate_AsAFeatureCollection(BackendKind backend)
    {
        await using OneConnection one = await OneConnection.OpenAsync(backend, TestContext.Current.CancellationToken);
        ConnectionContext c = one.Accepted;
        var features = c.Features;
        AssertFeatures(c);
        Assert.False(features.IsReadOnly);
        Assert.Null(features.Get<IConnectionHeartbeatFeature>());
        Assert.Equal(6, features.Count());

        int revision = features.Revision;
        var heartbeat = new Heartbeat();
        features.Set<IConnectionHeartbeatFeature>(heartbeat);
        features[typeof(string)] = "an application's own";
        Assert.Same(heartbeat, features.Get<IConnectionHeartbeatFeature>());
        Assert.Equal("an application's own", features[typeof(string)]);
        Assert.True(features.Revision > revision);

        var items = new ItemsFeature();
        features.Set<IConnectionItemsFeature>(items);   // replaces the connection's own
        features.Set<IConnectionEndPointFeature>(null);   // removes it
        features.Set<IConnectionHeartbeatFeature>(null);
        Assert.Same(items, features.Get<IConnectionItemsFeature>());
        Assert.Null(features.Get<IConnectionEndPointFeature>());
        Assert.Null(features.Get<IConnectionHeartbeatFeature>());
        Assert.Same(c, features.Get<IConnectionIdFeature>());
        Assert.Equal(
            new[] { typeof(IConnectionIdFeature), typeof(IConnectionTransportFeature), typeof(IMemoryPoolFeature),
                typeof(IConnectionLifetimeFeature), typeof(string), typeof(IConnectionItemsFeature) }.Order(Comparer),
            features.Select(f => f.Key).Order(Comparer));
        Assert.Throws<ArgumentNullException>(() => features[null!]);
    }

    private static readonly Comparer<Type> Comparer = Comparer<Type>.Create((a, b) => string.CompareOrdinal(a.FullName, b.FullName));

    /// <summary>A listener on a free port, a client connected to it, and the connection the listener accepted; disposing
    /// it disposes all three.</summary>
    private sealed class OneConnection : IAsyncDisposable
    {
        private OneConnection(IConnectionListener listener, Socket client, ConnectionContext accepted)
            => (Listener, Client, Accepted) = (listener, client, accepted);

        public IConnectionListener Listener { get; }

        public Socket Client { get; }

        public ConnectionContext Accepted { get; }

        public static async Task<OneConnection> OpenAsync(BackendKind backend, CancellationToken ct)
        {
            IConnectionListener listener = await Factory(backend).BindAsync(new IPEndPoint(IPAddress.Loopback, 0), ct);
            Socket client = await Connect((IPEndPoint)listener.EndPoint, ct);
            ConnectionContext accepted = (await listener.AcceptAsync(ct))!;
            return new OneConnection(listener, client, accepted);
        }

        public async ValueTask DisposeAsync()
        {
            await Accepted.DisposeAsync();
            Client.Dispose();
            await Listener.DisposeAsync();
        }
    }

    private sealed class Heartbeat : IConnectionHeartbeatFeature
    {
        public void OnHeartbeat(Action<object> action, object state) { }
    }

    private sealed class ItemsFeature : IConnectionItemsFeature
    {
        public IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();
    }

    private static SyscallsTransportFactory Factory(BackendKind backend)
        => new(Options.Create(new SyscallsTransportOptions { Backend = backend, Loops = 2 }));

    private static void AssertFeatures(ConnectionContext c)
    {
        Assert.Same(c, c.Features.Get<IConnectionIdFeature>());
        Assert.Same(c.Transport, c.Features.Get<IConnectionTransportFeature>()!.Transport);
        Assert.NotNull(c.Features.Get<IConnectionItemsFeature>());
        Assert.NotNull(c.Features.Get<IMemoryPoolFeature>()!.MemoryPool);
        Assert.NotNull(c.Features.Get<IConnectionLifetimeFeature>());
        Assert.Equal(c.LocalEndPoint, c.Features.Get<IConnectionEndPointFeature>()!.LocalEndPoint);
        Assert.IsType<IPEndPoint>(c.RemoteEndPoint);
    }

    private static async Task<Socket> Connect(IPEndPoint endpoint, CancellationToken ct)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await s.ConnectAsync(endpoint, ct);
        return s;
    }

    private static async Task AssertNotAccepting(IPEndPoint endpoint, CancellationToken ct)
    {
        for (int attempt = 0; attempt < 100; attempt++)
        {
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await probe.ConnectAsync(endpoint, ct);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
                // queued on a listener that was closing: not served; the next attempt finds the port closed
            }

            await Task.Delay(50, ct);
        }

        Assert.Fail("the port still accepts connections 5 s after the unbind");
    }

    private static async Task WaitCancelled(CancellationToken token, CancellationToken ct)
    {
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using CancellationTokenRegistration r = token.Register(() => fired.TrySetResult());
        await fired.Task.WaitAsync(Patience, ct);
    }

    private static async Task<string> ReadText(PipeReader input, int length, CancellationToken ct)
    {
        while (true)
        {
            ReadResult r = await input.ReadAsync(ct).AsTask().WaitAsync(Patience, ct);
            if (r.Buffer.Length >= length || r.IsCompleted)
            {
                string text = System.Text.Encoding.ASCII.GetString(r.Buffer.Slice(0, Math.Min(length, r.Buffer.Length)).ToArray());
                input.AdvanceTo(r.Buffer.GetPosition(Math.Min(length, r.Buffer.Length)));
                return text;
            }

            input.AdvanceTo(r.Buffer.Start, r.Buffer.End);
        }
    }

    private static async Task<string> ReceiveText(Socket socket, int length, CancellationToken ct)
    {
        var buffer = new byte[length];
        int got = 0;
        while (got < length)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(got), ct).AsTask().WaitAsync(Patience, ct);
            if (n == 0)
                break;
            got += n;
        }

        return System.Text.Encoding.ASCII.GetString(buffer, 0, got);
    }
}
