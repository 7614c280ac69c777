using System;
using System.Buffers;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace Syscalls.Runtime;

/// <summary>An <see cref="AsyncConnection"/> as a <see cref="Stream"/>, for code that speaks streams
/// (<see cref="System.Net.Security.SslStream"/>, compression, serializers). Create one with
/// <see cref="ConnectionAdapters.AsStream"/>.</summary>
/// <remarks>
/// <para><see cref="ReadAsync(Memory{byte}, CancellationToken)"/> and
/// <see cref="WriteAsync(ReadOnlyMemory{byte}, CancellationToken)"/> are the connection's receive and send, without
/// allocating: a read returns what has arrived (0 at the end of the stream; a zero-byte read waits for data without
/// taking any), a write completes once the bytes were taken by the kernel or copied into the send window and the
/// caller's memory is free again. <see cref="Flush"/> has nothing to do. One read and one write may be pending at a
/// time (a full-duplex protocol reads and writes concurrently), and their continuations run on the connection's
/// loop.</para>
/// <para>The synchronous <see cref="Read(byte[], int, int)"/> and <see cref="Write(byte[], int, int)"/> block the
/// calling thread until the loop has done the work. They throw <see cref="InvalidOperationException"/> on the
/// connection's own loop thread, where waiting for the loop would wait forever; on another loop's thread they work but
/// stall that loop meanwhile. Errors are <see cref="OsException"/>, an <see cref="IOException"/>.</para>
/// <para>Disposing closes the connection gracefully (unless <c>leaveOpen</c>): data already written is still
/// sent.</para>
/// </remarks>
public sealed class ConnectionStream : Stream
{
    private readonly bool _leaveOpen;
    private volatile bool _disposed;

    /// <summary>Wraps <paramref name="connection"/>.</summary>
    /// <param name="connection">The connection; the stream reads and writes it.</param>
    /// <param name="leaveOpen">True: disposing the stream leaves the connection open.</param>
    public ConnectionStream(AsyncConnection connection, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(connection);
        Connection = connection;
        _leaveOpen = leaveOpen;
    }

    /// <summary>The connection under the stream.</summary>
    public AsyncConnection Connection { get; }

    /// <inheritdoc/>
    public override bool CanRead => !_disposed;

    /// <inheritdoc/>
    public override bool CanWrite => !_disposed;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException("A connection has no length.");

    /// <inheritdoc/>
    public override long Position
    {
        get => throw new NotSupportedException("A connection has no position.");
        set => throw new NotSupportedException("A connection has no position.");
    }

    // RS0027 asks optional parameters to sit on the longest overload; these two keep the signatures Stream gives them.
#pragma warning disable RS0027
    /// <inheritdoc/>
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return Connection.ReceiveAsync(buffer, cancellationToken);
    }

    /// <inheritdoc/>
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return Connection.SendAsync(buffer, cancellationToken);
    }
#pragma warning restore RS0027

    /// <inheritdoc/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    /// <inheritdoc/>
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    /// <inheritdoc/>
    public override IAsyncResult BeginRead(byte[] buffer, int offset, int count, AsyncCallback? callback, object? state)
        => TaskToAsyncResult.Begin(ReadAsync(buffer, offset, count, CancellationToken.None), callback, state);

    /// <inheritdoc/>
    public override int EndRead(IAsyncResult asyncResult) => TaskToAsyncResult.End<int>(asyncResult);

    /// <inheritdoc/>
    public override IAsyncResult BeginWrite(byte[] buffer, int offset, int count, AsyncCallback? callback,
        object? state)
        => TaskToAsyncResult.Begin(WriteAsync(buffer, offset, count, CancellationToken.None), callback, state);

    /// <inheritdoc/>
    public override void EndWrite(IAsyncResult asyncResult) => TaskToAsyncResult.End(asyncResult);

    /// <summary>Blocks until data arrives (see the remarks: never on the connection's loop thread).</summary>
    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        ThrowIfOnLoop();
        return Wait(ReadAsync(buffer.AsMemory(offset, count)));
    }

    /// <summary>Blocks until data arrives (see the remarks: never on the connection's loop thread).</summary>
    public override int Read(Span<byte> buffer)
    {
        ThrowIfOnLoop();
        // The receive completes on the loop, into memory that outlives this frame: a rented array, copied out.
        byte[] rented = ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            int n = Wait(ReadAsync(rented.AsMemory(0, buffer.Length)));
            rented.AsSpan(0, n).CopyTo(buffer);
            return n;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Blocks until the bytes are taken (see the remarks: never on the connection's loop thread).</summary>
    public override void Write(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        ThrowIfOnLoop();
        Wait(WriteAsync(buffer.AsMemory(offset, count)));
    }

    /// <summary>Blocks until the bytes are taken (see the remarks: never on the connection's loop thread).</summary>
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ThrowIfOnLoop();
        byte[] rented = ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            buffer.CopyTo(rented);
            Wait(WriteAsync(rented.AsMemory(0, buffer.Length)));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Nothing to do: a write has handed its bytes over when it completes.</summary>
    public override void Flush()
    {
    }

    /// <summary>Nothing to do: a write has handed its bytes over when it completes.</summary>
    public override Task FlushAsync(CancellationToken cancellationToken)
        => cancellationToken.IsCancellationRequested ? Task.FromCanceled(cancellationToken) : Task.CompletedTask;

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin)
        => throw new NotSupportedException("A connection cannot seek.");

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException("A connection has no length.");

    /// <summary>Closes the connection gracefully and waits for it (unless the stream leaves it open).</summary>
    public override async ValueTask DisposeAsync()
    {
        if (_disposed)
            return;
        _disposed = true;
        if (!_leaveOpen)
            await Connection.CloseAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <summary>Starts a graceful close of the connection (unless the stream leaves it open).</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            if (!_leaveOpen)
                Connection.Dispose();
        }

        base.Dispose(disposing);
    }

    private static void Wait(ValueTask pending)
    {
        if (!pending.IsCompletedSuccessfully)
            pending.AsTask().GetAwaiter().GetResult();
    }

    private static int Wait(ValueTask<int> pending)
        => pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();

    /// <summary>Checked before the operation starts: once started, its memory belongs to it until it
    /// completes.</summary>
    private void ThrowIfOnLoop()
    {
        if (Connection.Loop.IsOnLoopThread)
        {
            throw new InvalidOperationException($"A synchronous read or write on loop {Connection.Loop.Id}'s own "
                + "thread would wait for that loop forever: use ReadAsync/WriteAsync there.");
        }
    }
}
