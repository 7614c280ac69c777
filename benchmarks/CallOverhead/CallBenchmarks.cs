using System;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Syscalls.Linux;

namespace Syscalls.Benchmarks.CallOverhead;

/// <summary>
/// Cheap calls through the generated bindings, one native call per invocation, so BenchmarkDotNet's per-operation
/// time is the binding's cost per call. Both are on the time family's <c>fast</c> line, so the bindings import them
/// with <c>[SuppressGCTransition]</c> (and getppid, on its <c>noerror</c> line, without the errno bookkeeping). For
/// context, the same exports called through bare function pointers: <c>_floor</c> with the normal GC transition and
/// no errno bookkeeping (the least an ordinary P/Invoke costs, i.e. what these calls would cost without the policy),
/// <c>_nogc</c> with <c>[SuppressGCTransition]</c> and nothing else (the least any call from C# costs).
/// </summary>
[MemoryDiagnoser]
[System.Runtime.Versioning.SupportedOSPlatform("linux")] // the calls measured are Linux's; eng/bench-calls.sh refuses other OSes
public unsafe class CallBenchmarks
{
    private delegate* unmanaged<int, timespec*, int> _clockGettime;
    private delegate* unmanaged<int> _getppid;
    private delegate* unmanaged[SuppressGCTransition]<int, timespec*, int> _clockGettimeNoGc;
    private delegate* unmanaged[SuppressGCTransition]<int> _getppidNoGc;

    [GlobalSetup]
    public void Setup()
    {
        nint libc = NativeLibrary.Load("libc.so.6");
        // The exports live as long as libc, which is never unloaded.
        _clockGettime = (delegate* unmanaged<int, timespec*, int>)NativeLibrary.GetExport(libc, "clock_gettime");
        _getppid = (delegate* unmanaged<int>)NativeLibrary.GetExport(libc, "getppid");
        _clockGettimeNoGc = (delegate* unmanaged[SuppressGCTransition]<int, timespec*, int>)_clockGettime;
        _getppidNoGc = (delegate* unmanaged[SuppressGCTransition]<int>)_getppid;
    }

    /// <summary>clock_gettime(CLOCK_MONOTONIC) is answered by the vDSO: no kernel entry, so the call overhead dominates.</summary>
    [Benchmark]
    public long clock_gettime()
    {
        timespec ts;
        // ts is a local: its address is valid for the whole call.
        if (LibC.clock_gettime(LibC.CLOCK_MONOTONIC, &ts) != 0)
        {
            throw new InvalidOperationException("clock_gettime failed: errno " + Marshal.GetLastPInvokeError());
        }
        return ts.tv_nsec;
    }

    [Benchmark]
    public int getppid() => LibC.getppid();

    [Benchmark]
    public long clock_gettime_floor()
    {
        timespec ts;
        // Same call as above through the bare export: ts is a local, valid for the whole call.
        _clockGettime(LibC.CLOCK_MONOTONIC, &ts);
        return ts.tv_nsec;
    }

    [Benchmark]
    public int getppid_floor() => _getppid();

    [Benchmark]
    public long clock_gettime_nogc()
    {
        timespec ts;
        // As above, without the GC transition: valid because clock_gettime neither blocks nor calls back.
        _clockGettimeNoGc(LibC.CLOCK_MONOTONIC, &ts);
        return ts.tv_nsec;
    }

    [Benchmark]
    public int getppid_nogc() => _getppidNoGc();
}
