using System;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace Syscalls.Runtime;

/// <summary>An <see cref="EventLoop"/> as a <see cref="PipeScheduler"/>: a scheduled continuation is posted to the loop
/// (a struct in the loop's queue, no allocation) and runs there in the loop's next round of posted work, so the
/// continuations of one iteration run one after the other and what they write is sent together. Scheduled from
/// another thread (an application on the thread pool flushing), the loop's wake-up is left to one thread-pool item per
/// burst (<see cref="EventLoop.PostBatched"/>): a pipelined batch's responses then leave in one send. After the loop
/// stopped, continuations run on the thread pool rather than never (an awaiter is never left hanging).</summary>
internal sealed class LoopPipeScheduler : PipeScheduler
{
    private static readonly ConditionalWeakTable<EventLoop, LoopPipeScheduler> s_schedulers = new();

    private LoopPipeScheduler(EventLoop loop) => Loop = loop;

    internal EventLoop Loop { get; }

    /// <summary>The scheduler of <paramref name="loop"/> (one per loop, made on first use).</summary>
    internal static LoopPipeScheduler For(EventLoop loop)
        => s_schedulers.GetValue(loop, static l => new LoopPipeScheduler(l));

    public override void Schedule(Action<object?> action, object? state)
    {
        ArgumentNullException.ThrowIfNull(action);
        Loop.PostBatched(action, state);
    }
}
