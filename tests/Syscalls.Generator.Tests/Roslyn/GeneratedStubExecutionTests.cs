using System;
using System.Runtime.InteropServices;
using Xunit;

namespace Syscalls.Generator.Tests.Roslyn;

/// <summary>
/// The generator's output compiles cleanly in a consumer and, loaded into this process, really calls libc: the stub
/// clears errno before the call and captures it after (what LibraryImport's SetLastError = true does).
/// </summary>
public sealed class GeneratedStubExecutionTests
{
    private const string Probe = """
        using System.Runtime.InteropServices;
        using Syscalls.Generated.Linux;

        public static unsafe class Probe
        {
            public static int[] EpollRoundTrip()
            {
                int ep = LibC.epoll_create1(0);
                int errnoAfterSuccess = Marshal.GetLastPInvokeError();
                epoll_event ev = default;
                int ready = LibC.epoll_wait(ep, &ev, 1, 0);
                int closed = LibC.close(ep);
                return new[] { ep, errnoAfterSuccess, ready, closed };
            }

            public static int[] CloseInvalid()
            {
                int result = LibC.close(-1);
                return new[] { result, Marshal.GetLastPInvokeError() };
            }

            public static int[] SocketThenClose()
            {
                int fd = LibC.socket(2, 1, 0); // AF_INET, SOCK_STREAM
                int errno = Marshal.GetLastPInvokeError();
                return new[] { fd, errno, LibC.close(fd) };
            }

            // The family's overloads, emitted by this host too: an in reference and a span, no pointer, no cast.
            public static int[] EpollOverloads()
            {
                int ep = LibC.epoll_create1(0);
                int sock = LibC.socket(2, 1, 0);
                var ev = new epoll_event { events = LibC.EPOLLIN };
                ev.data.u64 = 42;
                int added = LibC.epoll_ctl(ep, LibC.EPOLL_CTL_ADD, sock, in ev);
                System.Span<epoll_event> events = stackalloc epoll_event[2];
                int ready = LibC.epoll_wait(ep, events, 0); // an unconnected socket: EPOLLOUT|EPOLLHUP, whatever we asked
                int data = (int)events[0].data.u64;
                LibC.close(sock);
                LibC.close(ep);
                return new[] { added, ready, data };
            }

            public static int EpollEventSize() => sizeof(epoll_event);

            public static uint EpollIn() => LibC.EPOLLIN;
        }
        """;

    private static string HostRid()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("executing the generated libc stubs needs a Linux host");
        }
        var arch = RuntimeInformation.ProcessArchitecture;
        if (arch is not (Architecture.X64 or Architecture.Arm64))
        {
            Assert.Skip($"no facts for linux-{arch}");
        }
        return arch == Architecture.X64 ? "linux-x64" : "linux-arm64";
    }

    private static GeneratorHarness.Run Generate(string rid) => new GeneratorHarness
    {
        List = ["# the issue's example selection", "epoll_*", "socket", "EPOLLIN", "EPOLL_CTL_ADD", "close  # for the errno check"],
        Properties = { ["RuntimeIdentifier"] = rid },
        Sources = [Probe],
    }.RunOnce();

    [Fact]
    public void Selection_WithHostRid_CompilesWithoutDiagnostics()
    {
        var run = Generate(HostRid());

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompileProblems());
        Assert.Contains("Syscalls.Generated.Linux.Records.g.cs", run.HintNames);
        Assert.Contains("Syscalls.Generated.Linux.LibC.Functions.g.cs", run.HintNames);
    }

    [Fact]
    public void GeneratedStub_EpollRoundTrip_CallsLibcAndClearsErrno()
    {
        var assembly = Generate(HostRid()).Load();

        var r = (int[])GeneratorHarness.Call(assembly, "Probe", "EpollRoundTrip")!;

        Assert.True(r[0] >= 0, "epoll_create1 returned " + r[0]);
        Assert.Equal(0, r[1]); // the stub sets errno to 0 before the call, so a success reads 0
        Assert.Equal(0, r[2]); // nothing registered: epoll_wait with timeout 0 reports no event
        Assert.Equal(0, r[3]);
    }

    [Fact]
    public void GeneratedOverloads_InAndSpan_CallLibcThroughTheStub()
    {
        var run = Generate(HostRid());
        Assert.Contains("public static int epoll_wait(int epfd, global::System.Span<epoll_event> events, int timeout)",
            run.Source("Syscalls.Generated.Linux.LibC.Functions.g.cs"));

        var r = (int[])GeneratorHarness.Call(run.Load(), "Probe", "EpollOverloads")!;

        Assert.Equal(0, r[0]);
        Assert.Equal(1, r[1]);
        Assert.Equal(42, r[2]);
    }

    [Fact]
    public void GeneratedStub_CloseInvalidFd_CapturesEbadf()
    {
        var assembly = Generate(HostRid()).Load();

        var r = (int[])GeneratorHarness.Call(assembly, "Probe", "CloseInvalid")!;

        Assert.Equal(-1, r[0]);
        Assert.Equal(9, r[1]); // EBADF
    }

    [Fact]
    public void GeneratedStub_Socket_ReturnsDescriptor()
    {
        var assembly = Generate(HostRid()).Load();

        var r = (int[])GeneratorHarness.Call(assembly, "Probe", "SocketThenClose")!;

        Assert.True(r[0] >= 0, $"socket returned {r[0]}, errno {r[1]}");
        Assert.Equal(0, r[2]);
    }

    [Fact]
    public void GeneratedLayout_HostRid_MatchesHostAbi()
    {
        string rid = HostRid();
        var assembly = Generate(rid).Load();

        // struct epoll_event is packed on x86-64 (12 bytes) and natural on arm64 (16 bytes).
        Assert.Equal(rid == "linux-x64" ? 12 : 16, (int)GeneratorHarness.Call(assembly, "Probe", "EpollEventSize")!);
        Assert.Equal(1u, (uint)GeneratorHarness.Call(assembly, "Probe", "EpollIn")!);
    }

    [Fact]
    public void GeneratedStub_Source_IsTheBlittableLibraryImportShape()
    {
        var run = Generate(HostRid());

        string functions = run.Source("Syscalls.Generated.Linux.LibC.Functions.g.cs");

        // No [LibraryImport] partial: the SDK's generator never sees this output (CS8795).
        Assert.DoesNotContain("LibraryImport", functions);
        Assert.DoesNotContain("SetLastError", functions);
        int clear = functions.IndexOf("Marshal.SetLastSystemError(0);", StringComparison.Ordinal);
        int call = functions.IndexOf("__retVal = __PInvoke(", clear, StringComparison.Ordinal);
        int capture = functions.IndexOf("Marshal.SetLastPInvokeError(global::System.Runtime.InteropServices.Marshal.GetLastSystemError());", call, StringComparison.Ordinal);
        Assert.True(clear >= 0 && call > clear && capture > call, functions);
        Assert.Contains("static extern int __PInvoke(", functions);
        Assert.Contains("ExactSpelling = true", functions);
    }

    private const string FastProbe = """
        using System.Runtime.InteropServices;
        using Syscalls.Generated.Linux;

        public static unsafe class FastProbe
        {
            public static long[] Run()
            {
                int closed = LibC.close(-1); // EBADF into the slot
                int errnoAfterClose = Marshal.GetLastPInvokeError();
                int ppid = LibC.getppid(); // noerror: must leave the slot alone
                int errnoAfterGetppid = Marshal.GetLastPInvokeError();
                timespec a, b;
                int r1 = LibC.clock_gettime(LibC.CLOCK_MONOTONIC, &a);
                int r2 = LibC.clock_gettime(LibC.CLOCK_MONOTONIC, &b);
                long delta = (b.tv_sec - a.tv_sec) * 1_000_000_000L + (b.tv_nsec - a.tv_nsec);
                int bad = LibC.clock_gettime(0x7fffffff, &a); // no such clock: EINVAL, read because it returned -1
                int errnoAfterBad = Marshal.GetLastPInvokeError();
                return new long[] { closed, errnoAfterClose, ppid, errnoAfterGetppid, r1, r2, delta, bad, errnoAfterBad };
            }
        }
        """;

    [Fact]
    public void GeneratedStub_FastAndNoErrorFunctions_SkipTransitionAndLeaveTheErrorSlot()
    {
        HostRid();
        var run = new GeneratorHarness
        {
            List = ["clock_gettime", "getppid", "close", "CLOCK_MONOTONIC"],
            Properties = { ["RuntimeIdentifier"] = HostRid() },
            Sources = [FastProbe],
        }.RunOnce();
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompileProblems());
        string functions = run.Source("Syscalls.Generated.Linux.LibC.Functions.g.cs");

        var r = (long[])GeneratorHarness.Call(run.Load(), "FastProbe", "Run")!;

        Assert.Equal(-1, r[0]);
        Assert.Equal(9, r[1]); // EBADF
        Assert.True(r[2] > 0, "getppid returned " + r[2]);
        Assert.Equal(9, r[3]); // getppid is bound without SetLastError: EBADF is still there
        Assert.Equal(0, r[4]);
        Assert.Equal(0, r[5]);
        Assert.True(r[6] >= 0, "CLOCK_MONOTONIC went back by " + r[6] + " ns");
        Assert.Equal(-1, r[7]);
        Assert.Equal(22, r[8]); // EINVAL
        // The time family's fast line: clock_gettime and getppid skip the GC transition, close does not.
        string SuppressedBefore(string entry)
        {
            int at = functions.IndexOf("EntryPoint = \"" + entry + "\"", StringComparison.Ordinal);
            Assert.True(at >= 0, entry + " not emitted");
            int end = functions.IndexOf("static extern", at, StringComparison.Ordinal);
            return functions.Substring(at, end - at);
        }
        Assert.Contains("SuppressGCTransition", SuppressedBefore("clock_gettime"));
        Assert.Contains("SuppressGCTransition", SuppressedBefore("getppid"));
        Assert.DoesNotContain("SuppressGCTransition", SuppressedBefore("close"));
    }
}
