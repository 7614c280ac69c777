using System;
using System.Buffers;
using System.Collections;
using System.Collections.Generic;
using System.IO.Pipelines;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Syscalls.Runtime;

namespace Syscalls.AspNetCore;

/// <summary>One connection as Kestrel sees it: a <see cref="ConnectionContext"/> whose <see cref="Transport"/> is the
/// runtime's <see cref="ConnectionPipe"/>, with the features Kestrel reads (id, transport, items, memory pool,
/// lifetime, end points), as Kestrel's own transports offer them.</summary>
/// <remarks>Errors reach the application as Kestrel's transports report them: a peer's reset as
/// <see cref="ConnectionResetException"/> on <c>Transport.Input</c>, a local abort as the
/// <see cref="ConnectionAbortedException"/> given to <see cref="Abort(ConnectionAbortedException)"/>; flushes after either
/// report completion instead of throwing (see <see cref="SyscallsTransportOptions"/>). Each connection's
/// failure is its own: nothing here is shared between connections but the pool and the loop.</remarks>
internal sealed class SyscallsConnection : ConnectionContext, IFeatureCollection, IConnectionIdFeature,
    IConnectionTransportFeature, IConnectionItemsFeature, IMemoryPoolFeature, IConnectionLifetimeFeature,
    IConnectionEndPointFeature
{
    private static long s_lastId = DateTime.UtcNow.Ticks;

    // The features the connection offers itself. It is its own feature collection (Kestrel's transports do the same):
    // a FeatureCollection's dictionary cost 216 bytes per connection, and idle connections are the C10K figure.
    private static readonly Type[] s_own =
    [
        typeof(IConnectionIdFeature), typeof(IConnectionTransportFeature), typeof(IConnectionItemsFeature),
        typeof(IMemoryPoolFeature), typeof(IConnectionLifetimeFeature), typeof(IConnectionEndPointFeature),
    ];

    private readonly ConnectionPipe _pipe;
    private readonly CancellationTokenSource _closed = new();
    private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _id;
    private IDictionary<object, object?>? _items;
    private int _disposeStarted;
    private KeyValuePair<Type, object?>[]? _set;   // features set by others (Kestrel sets four), in order; null hides an own one
    private int _setCount;
    private int _revision;

    internal SyscallsConnection(ConnectionPipe pipe, MemoryPool<byte> pool)
    {
        _pipe = pipe;
        MemoryPool = pool;
        Transport = pipe;
        LocalEndPoint = pipe.Connection.LocalEndpoint.ToIPEndPoint();
        RemoteEndPoint = pipe.Connection.RemoteEndpoint.ToIPEndPoint();
        ConnectionClosed = _closed.Token;
        // Closed once nothing more will be received: the client's FIN or reset, an abort, the close. Kestrel's Sockets
        // transport fires it at the same point, and Kestrel ends the connection's requests on it (RequestAborted), so an
        // application learns that a client went away even while it is not reading. Cancelled on the thread pool:
        // Kestrel's callbacks on this token must not run on (and block) the loop.
        pipe.ReceiveEnded.ContinueWith(static (_, s) => ((SyscallsConnection)s!).FireClosed(), this,
            CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    /// <summary>Completes when Kestrel has disposed the connection (the server's handler for it then ends).</summary>
    internal Task Disposed => _disposed.Task;

    /// <summary>The runtime connection (loop, backend) under this context.</summary>
    internal AsyncConnection Connection => _pipe.Connection;

    public override string ConnectionId
    {
        get => _id ??= NextId();
        set => _id = value;
    }

    public override IFeatureCollection Features => this;

    bool IFeatureCollection.IsReadOnly => false;

    int IFeatureCollection.Revision => _revision;

    object? IFeatureCollection.this[Type key]
    {
        get
        {
            ArgumentNullException.ThrowIfNull(key);
            int i = IndexOfSet(key);
            return i >= 0 ? _set![i].Value : Array.IndexOf(s_own, key) >= 0 ? this : null;
        }
        set
        {
            ArgumentNullException.ThrowIfNull(key);
            int i = IndexOfSet(key);
            if (i >= 0)
            {
                _set![i] = new(key, value);
            }
            else if (value is not null || Array.IndexOf(s_own, key) >= 0)
            {
                if (_set is null || _setCount == _set.Length)
                    Array.Resize(ref _set, _setCount == 0 ? 4 : _setCount * 2);
                _set[_setCount++] = new(key, value);
            }

            _revision++;
        }
    }

    TFeature? IFeatureCollection.Get<TFeature>() where TFeature : default
        => (TFeature?)((IFeatureCollection)this)[typeof(TFeature)];

    void IFeatureCollection.Set<TFeature>(TFeature? instance) where TFeature : default
        => ((IFeatureCollection)this)[typeof(TFeature)] = instance;

    IEnumerator<KeyValuePair<Type, object>> IEnumerable<KeyValuePair<Type, object>>.GetEnumerator()
    {
        foreach (Type own in s_own)
        {
            if (IndexOfSet(own) < 0)
                yield return new(own, this);
        }

        for (int i = 0; i < _setCount; i++)
        {
            if (_set![i].Value is { } feature)
                yield return new(_set[i].Key, feature);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => ((IEnumerable<KeyValuePair<Type, object>>)this).GetEnumerator();

    public override IDictionary<object, object?> Items
    {
        get => _items ??= new Dictionary<object, object?>();
        set => _items = value;
    }

    public override IDuplexPipe Transport { get; set; }

    public MemoryPool<byte> MemoryPool { get; }

    public override CancellationToken ConnectionClosed { get; set; }

    public override EndPoint? LocalEndPoint { get; set; }

    public override EndPoint? RemoteEndPoint { get; set; }

    /// <summary>Resets the connection; reads then throw <paramref name="abortReason"/>, or a
    /// <see cref="ConnectionAbortedException"/> when it is null (Kestrel passes null when the client closed in order).
    /// Never throws (Kestrel calls it from anywhere, also while the process is stopping).</summary>
    public override void Abort(ConnectionAbortedException abortReason)
    {
        try
        {
            if (abortReason is null)
                _pipe.Abort();
            else
                _pipe.Abort(abortReason);
        }
        catch (Exception e) when (e is ObjectDisposedException or InvalidOperationException)
        {
            // The loop is gone: so is the connection.
        }
    }

    public override void Abort() => Abort(new ConnectionAbortedException("The connection was aborted by the application."));

    /// <summary>Sends what was written, closes, and waits until the descriptor is released.</summary>
    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposeStarted, 1) != 0)
        {
            await _disposed.Task.ConfigureAwait(false);
            return;
        }

        try
        {
            await _pipe.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            FireClosed();
            _disposed.TrySetResult();
        }
    }

    public override string ToString() => $"{ConnectionId} ({_pipe.Connection})";

    private int IndexOfSet(Type key)
    {
        for (int i = 0; i < _setCount; i++)
        {
            if (_set![i].Key == key)
                return i;
        }

        return -1;
    }

    private void FireClosed()
    {
        try
        {
            _closed.Cancel();
        }
        catch (AggregateException)
        {
            // A registration of the application threw: its failure, not the transport's.
        }
    }

    /// <summary>13 characters of base 32, unique in the process, as Kestrel's ids.</summary>
    private static string NextId()
    {
        const string Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUV";
        long id = Interlocked.Increment(ref s_lastId);
        return string.Create(13, id, static (span, value) =>
        {
            for (int i = span.Length - 1; i >= 0; i--)
            {
                span[i] = Digits[(int)(value & 31)];
                value >>= 5;
            }
        });
    }
}
