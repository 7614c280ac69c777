using System;
using System.Threading;
using System.Threading.Tasks;

namespace Syscalls.Runtime;

/// <summary>A task that says something has ended, made only when someone asks for it: most connections are never
/// asked, and an idle connection's every object counts at C10K.</summary>
internal static class LazyCompletion
{
    /// <summary>The task in <paramref name="slot"/>, made on the first call. The side that ends the thing sets its flag,
    /// then completes <c>Volatile.Read(ref slot)</c> if there is one; this side publishes the task, then reads the flag
    /// (<paramref name="hasEnded"/>): whichever comes second completes it, so it is never left pending.</summary>
    public static Task Get<TState>(ref TaskCompletionSource? slot, TState state, Func<TState, bool> hasEnded)
    {
        TaskCompletionSource? tcs = Volatile.Read(ref slot);
        if (tcs is null)
        {
            tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            tcs = Interlocked.CompareExchange(ref slot, tcs, null) ?? tcs;
            if (hasEnded(state))
                tcs.TrySetResult();
        }

        return tcs.Task;
    }
}
