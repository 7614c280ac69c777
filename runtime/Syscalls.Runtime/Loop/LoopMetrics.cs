using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Syscalls.Runtime;

/// <summary>The runtime's instruments, on the meter <c>Syscalls.Runtime</c> (<c>dotnet-counters monitor --counters
/// Syscalls.Runtime -p PID</c>): per loop (tag <c>loop</c>) the lag of ready work, iterations and queued work, and the
/// open connections.</summary>
/// <remarks>Recording costs a check when nobody listens; tags reuse one boxed loop id per loop, so recording allocates
/// nothing.</remarks>
internal static class LoopMetrics
{
    internal const string MeterName = "Syscalls.Runtime";

    private static readonly object s_gate = new();
    private static readonly List<EventLoop> s_loops = new();
    internal static readonly Meter Meter = new(MeterName);

    private static readonly Histogram<double> s_lag = Meter.CreateHistogram<double>("syscalls.loop.lag", "ms",
        "How late the loop ran ready work (timers, posted work): one long callback delays every connection of its loop.");

    private static readonly UpDownCounter<long> s_connections = Meter.CreateUpDownCounter<long>("syscalls.connections.active",
        "{connection}", "Open async connections per loop.");

    static LoopMetrics()
    {
        Meter.CreateObservableCounter("syscalls.loop.iterations", () => Observe(static l => l.Statistics.Iterations), "{iteration}",
            "Loop iterations (each: timers, posted work, one wait for I/O).");
        Meter.CreateObservableGauge("syscalls.loop.queue.length", () => Observe(static l => (long)l.PendingWorkCount), "{item}",
            "Work posted to the loop and not yet run.");
    }

    internal static void Register(EventLoop loop)
    {
        lock (s_gate)
            s_loops.Add(loop);
    }

    internal static void Unregister(EventLoop loop)
    {
        lock (s_gate)
            s_loops.Remove(loop);
    }

    internal static void RecordLag(EventLoop loop, long lagTicks)
    {
        if (s_lag.Enabled)
            s_lag.Record(lagTicks * 1000.0 / Stopwatch.Frequency, new KeyValuePair<string, object?>("loop", loop.BoxedId));
    }

    internal static void ConnectionOpened(EventLoop loop)
    {
        if (s_connections.Enabled)
            s_connections.Add(1, new KeyValuePair<string, object?>("loop", loop.BoxedId));
    }

    internal static void ConnectionClosed(EventLoop loop)
    {
        if (s_connections.Enabled)
            s_connections.Add(-1, new KeyValuePair<string, object?>("loop", loop.BoxedId));
    }

    private static IEnumerable<Measurement<long>> Observe(System.Func<EventLoop, long> value)
    {
        lock (s_gate)
        {
            var result = new Measurement<long>[s_loops.Count];
            for (int i = 0; i < result.Length; i++)
                result[i] = new Measurement<long>(value(s_loops[i]), new KeyValuePair<string, object?>("loop", s_loops[i].BoxedId));
            return result;
        }
    }
}
