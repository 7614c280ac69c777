using System;
using System.IO;
using System.IO.Pipelines;
using System.Threading;
using System.Threading.Tasks;

namespace Syscalls.Runtime;

/// <summary>The application's end of the input pipe: the pipe's own reader, plus word to the connection when the
/// application completes it (a pipe tells its writer only at the writer's next flush, which an idle connection never
/// reaches).</summary>
public sealed partial class ConnectionPipe
{
    private sealed class InputReader(ConnectionPipe owner, PipeReader inner) : PipeReader
    {
        private int _completed;

        public override bool TryRead(out ReadResult result) => inner.TryRead(out result);

        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
            => inner.ReadAsync(cancellationToken);

        public override void AdvanceTo(SequencePosition consumed) => inner.AdvanceTo(consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
            => inner.AdvanceTo(consumed, examined);

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null)
        {
            inner.Complete(exception);
            if (Interlocked.Exchange(ref _completed, 1) == 0)
                owner.InputCompletedByApplication();
        }

        public override Task CopyToAsync(PipeWriter destination, CancellationToken cancellationToken = default)
            => inner.CopyToAsync(destination, cancellationToken);

        public override Task CopyToAsync(Stream destination, CancellationToken cancellationToken = default)
            => inner.CopyToAsync(destination, cancellationToken);

        protected override ValueTask<ReadResult> ReadAtLeastAsyncCore(int minimumSize,
            CancellationToken cancellationToken) => inner.ReadAtLeastAsync(minimumSize, cancellationToken);
    }
}
