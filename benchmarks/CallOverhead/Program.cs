using System;
using System.Globalization;
using System.Linq;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Syscalls.Benchmarks.CallOverhead;

/// <summary>
/// Runs <see cref="CallBenchmarks"/> and ends with one machine-readable line per benchmark for eng/bench-calls.sh:
/// <c>RESULT name median-ns-per-call allocated-bytes-per-call</c>. Extra arguments go to BenchmarkDotNet
/// (<c>--filter *getppid*</c>, <c>--job short</c>).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        // In-process: no generated project to build, and the process stays on the core taskset gave it.
        var job = Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithWarmupCount(6)
            .WithIterationCount(20)
            .WithId("inprocess");
        var config = DefaultConfig.Instance
            .AddJob(job.AsDefault())
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumn(StatisticColumn.Median)
            .WithOptions(ConfigOptions.DisableOptimizationsValidator);
        // Without a filter BenchmarkSwitcher asks on stdin; the script has none.
        string[] switches = args.Contains("--filter") ? args : [.. args, "--filter", "*"];
        var summaries = BenchmarkSwitcher.FromTypes([typeof(CallBenchmarks)]).Run(switches, config).ToList();
        int failed = 0;
        foreach (var report in summaries.SelectMany(s => s.Reports))
        {
            string name = report.BenchmarkCase.Descriptor.WorkloadMethod.Name;
            if (report.ResultStatistics is not { } stats)
            {
                Console.WriteLine($"RESULT {name} failed -");
                failed++;
                continue;
            }
            long? bytes = report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"RESULT {name} {stats.Median:F3} {(bytes is { } b ? b.ToString(CultureInfo.InvariantCulture) : "-")}"));
        }
        return failed == 0 && summaries.Count > 0 ? 0 : 1;
    }
}
