using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Syscalls.Runtime;

/// <summary>The loop as a <see cref="SynchronizationContext"/>: <c>Post</c> queues to the loop without allocating,
/// <c>Send</c> runs inline on the loop thread and waits for the loop elsewhere. Two instances are equal when they post
/// to the same loop. After the loop stopped, posted callbacks run on the thread pool (never lost, never on a dead
/// loop).</summary>
internal sealed class LoopSynchronizationContext : SynchronizationContext
{
    internal LoopSynchronizationContext(EventLoop loop) => Loop = loop;

    internal EventLoop Loop { get; }

    public override void Post(SendOrPostCallback d, object? state)
    {
        ArgumentNullException.ThrowIfNull(d);
        Loop.PostSendOrPost(d, state);
    }

    public override void Send(SendOrPostCallback d, object? state)
    {
        ArgumentNullException.ThrowIfNull(d);
        if (Loop.IsOnLoopThread)
        {
            d(state);
            return;
        }

        using var done = new ManualResetEventSlim(false);
        Exception? error = null;
        Loop.Post(_ =>
        {
            try
            {
                d(state);
            }
            catch (Exception e)
            {
                error = e;
            }
            finally
            {
                done.Set();
            }
        }, null);
        done.Wait();
        if (error is not null)
            throw new AggregateException(error);
    }

    public override SynchronizationContext CreateCopy() => this;

    public override bool Equals(object? obj) => obj is LoopSynchronizationContext other && ReferenceEquals(other.Loop, Loop);

    public override int GetHashCode() => Loop.GetHashCode();
}

/// <summary>The loop as a <see cref="TaskScheduler"/>: tasks run on the loop thread, inline when already there.</summary>
internal sealed class LoopTaskScheduler : TaskScheduler
{
    private readonly EventLoop _loop;
    private readonly Action<object?> _execute;

    internal LoopTaskScheduler(EventLoop loop)
    {
        _loop = loop;
        _execute = task => TryExecuteTask((Task)task!);   // one delegate for every task: no allocation per queue
    }

    public override int MaximumConcurrencyLevel => 1;

    protected override void QueueTask(Task task) => _loop.PostInternal(_execute, task);

    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued)
        => _loop.IsOnLoopThread && TryExecuteTask(task);

    protected override IEnumerable<Task>? GetScheduledTasks() => null;
}
