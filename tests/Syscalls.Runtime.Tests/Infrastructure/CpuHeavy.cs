using Xunit;

namespace Syscalls.Runtime.Tests.Infrastructure;

/// <summary>Stress tests whose threads spin on purpose (racing senders, wakers hammering a disposing poller): they
/// run alone, after the parallel collections, so that they starve no timing-sensitive test (a timer callback
/// delayed by seconds under Wine made a wake-up test fail).</summary>
[CollectionDefinition(nameof(CpuHeavy), DisableParallelization = true)]
public sealed class CpuHeavy
{
}
