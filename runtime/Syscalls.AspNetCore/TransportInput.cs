using System;
using System.IO.Pipelines;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Connections;
using Syscalls.Runtime;

namespace Syscalls.AspNetCore;

/// <summary>The connection's input with the runtime's errors told in Kestrel's terms: a peer's reset is a
/// <see cref="ConnectionResetException"/> (Kestrel logs it as an ordinary disconnect, not a failure), a local abort the
/// <see cref="ConnectionAbortedException"/> it was given. Everything else passes through untouched.</summary>
internal sealed class TransportInput : PipeReader
{
    private readonly PipeReader _inner;
    private ConnectionAbortedException? _abortReason;

    internal TransportInput(ConnectionPipe pipe) => _inner = pipe.Input;

    internal void AbortReason(ConnectionAbortedException reason) => Interlocked.CompareExchange(ref _abortReason, reason, null);

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        ValueTask<ReadResult> read;
        try
        {
            read = _inner.ReadAsync(cancellationToken);
        }
        catch (OsException e)
        {
            throw Translate(e);
        }

        return read.IsCompletedSuccessfully ? read : Awaited(read);
    }

    public override bool TryRead(out ReadResult result)
    {
        try
        {
            return _inner.TryRead(out result);
        }
        catch (OsException e)
        {
            throw Translate(e);
        }
    }

    public override void AdvanceTo(SequencePosition consumed) => _inner.AdvanceTo(consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => _inner.AdvanceTo(consumed, examined);

    public override void CancelPendingRead() => _inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => _inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => _inner.CompleteAsync(exception);

    private async ValueTask<ReadResult> Awaited(ValueTask<ReadResult> read)
    {
        try
        {
            return await read.ConfigureAwait(false);
        }
        catch (OsException e)
        {
            throw Translate(e);
        }
    }

    private Exception Translate(OsException e) => e.Error.Kind switch
    {
        ErrorKind.ConnectionReset => new ConnectionResetException(e.Message, e),
        ErrorKind.ConnectionAborted => Volatile.Read(ref _abortReason) ?? new ConnectionAbortedException(e.Message, e),
        _ => e,
    };
}
