using System;
using System.Buffers;
using System.IO.Pipelines;
using System.Threading;
using System.Threading.Tasks;

namespace Syscalls.Runtime;

/// <summary>The receive loop and the send loop. Both start on the connection's loop and resume there (every await is
/// on the connection, whose continuations run on the loop, or on a pipe whose transport-side scheduler is the loop), so
/// they touch the pipes' transport ends from the loop thread only. Steady state allocates nothing: the two async
/// methods box their state once per connection, the awaited operations are pooled.</summary>
public sealed partial class ConnectionPipe
{
    private async Task ReceiveLoop()
    {
        PipeWriter writer = _input.Writer;
        bool waitForData = _options.WaitForDataBeforeAllocatingBuffer;
        bool filled = false;
        Exception? error = null;
        try
        {
            while (true)
            {
                if (waitForData && !filled)
                {
                    // Zero bytes: completes once data (or the end, or an error) is there, holding no pipe memory.
                    await Connection.ReceiveAsync(Memory<byte>.Empty).ConfigureAwait(false);
                }

                Memory<byte> buffer = writer.GetMemory();
                int received = await Connection.ReceiveAsync(buffer).ConfigureAwait(false);
                if (received == 0)
                    break;   // the peer's FIN
                filled = received == buffer.Length;   // likely more behind it: receive again without waiting first
                writer.Advance(received);
                FlushResult flushed = await writer.FlushAsync().ConfigureAwait(false);
                if (flushed.IsCompleted)
                    break;   // the application completed the input: it wants no more
                if (flushed.IsCanceled && IsStopping)
                    break;   // canceled by Abort or DisposeAsync; any other cancellation is not the end
            }
        }
        catch (Exception e)
        {
            error = e;
        }

        OnReceiveEnded(error);
    }

    private async Task SendLoop()
    {
        PipeReader reader = _output.Reader;
        Exception? error = null;
        bool sending = false;
        try
        {
            while (true)
            {
                ReadResult result = await reader.ReadAsync().ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                bool end = result.IsCompleted;
                try
                {
                    if (result.IsCanceled && IsStopping)
                    {
                        // Canceled by Abort (drop what is written) or DisposeAsync (send it, then end). Any other
                        // cancellation is not the end of the output.
                        if (IsAborted)
                            break;
                        end = true;
                    }

                    if (!buffer.IsEmpty)
                    {
                        sending = true;
                        // Completes once every byte was taken by the kernel or copied into the send window: the
                        // segments can then go back to the pipe.
                        await Connection.SendAsync(buffer).ConfigureAwait(false);
                        sending = false;
                    }
                }
                finally
                {
                    reader.AdvanceTo(buffer.End);
                }

                if (end)
                    break;
            }

            if (!IsAborted)
                Connection.ShutdownWrite();   // the FIN goes out after the bytes already accepted
        }
        catch (Exception e)
        {
            // A failed send is the connection's error; an exception from the read is the application's, which it
            // completed the output with: the connection is reset either way.
            error = sending || e is OsException
                ? e
                : new OsException(OsError.FromKind(ErrorKind.ConnectionAborted),
                    $"The application completed the output with an error: {e.Message}");
        }

        SendEnded(error);
    }

    private bool IsStopping
    {
        get
        {
            lock (_gate)
                return _aborted || _disposing;
        }
    }

    private bool IsAborted
    {
        get
        {
            lock (_gate)
                return _aborted;
        }
    }

    /// <summary>The receive loop ended: the input is completed (with the error the application should see, if any), and
    /// an error resets the connection.</summary>
    private void OnReceiveEnded(Exception? error)
    {
        bool ownClose;
        lock (_gate)
            ownClose = _closeStarted && !_aborted;
        if (error is not null && !ownClose)
            AbortCore(error);   // a reset, a failed receive: the connection is gone both ways
        Exception? forApplication;
        bool given;
        lock (_gate)
        {
            forApplication = _aborted ? _failure : null;
            given = forApplication is not null && ReferenceEquals(forApplication, _abortReason);
            _receiveDone = true;
        }

        if (!given && forApplication is OsException os && _options.ReadError is { } map)
            forApplication = map(os);
        _input.Writer.Complete(forApplication);
        Volatile.Read(ref _receiveEnded)?.TrySetResult();
        MaybeClose();
    }

    /// <summary>The send loop ended: after the FIN (graceful), or after an error (the connection is reset and the
    /// application's flushes throw it).</summary>
    private void SendEnded(Exception? error)
    {
        bool ownClose;
        lock (_gate)
            ownClose = _closeStarted && !_aborted;
        if (error is not null && !ownClose)
            AbortCore(error);
        Exception? forApplication;
        lock (_gate)
        {
            forApplication = _aborted && !_options.FlushesEndQuietlyOnError ? _failure : null;
            _sendDone = true;
        }

        _output.Reader.Complete(forApplication);
        MaybeClose();
    }
}
