using System;
using System.Linq;
using Xunit;

namespace Syscalls.Generator.Tests.Roslyn;

/// <summary>
/// Which facts give the layout: the RuntimeIdentifier's; without one, only what is the same on every architecture
/// of its OS is generated, and anything architecture-specific is an error, never a silently wrong layout.
/// </summary>
public sealed class RuntimeIdentifierTests
{
    private const string LayoutProbe = """
        using System.Runtime.InteropServices;
        using Syscalls.Generated.Linux;

        public static unsafe class Probe
        {
            public static int Size() => sizeof(epoll_event);
            public static int DataOffset() => (int)Marshal.OffsetOf<epoll_event>(nameof(epoll_event.data));
        }
        """;

    private static GeneratorHarness.Run Generate(string? rid, string[] list, params string[] sources)
    {
        var harness = new GeneratorHarness { List = list, Sources = sources };
        if (rid is not null)
        {
            harness.Properties["RuntimeIdentifier"] = rid;
        }
        return harness.RunOnce();
    }

    [Fact]
    public void NoRid_EpollEvent_ReportsSysgen003AndGeneratesNoLinuxCode()
    {
        var run = Generate(null, ["epoll_event"]);

        var d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("SYSGEN003", d.Id);
        Assert.Equal(Microsoft.CodeAnalysis.DiagnosticSeverity.Error, d.Severity);
        string message = d.GetMessage();
        Assert.Contains("'epoll_event' is architecture-specific on linux (linux-x64 vs linux-arm64)", message);
        Assert.Contains("struct epoll_event (size=12 align=1 packed on linux-x64 vs size=16 align=8 on linux-arm64)", message);
        Assert.Contains("set <RuntimeIdentifier>", message);
        Assert.Equal(0, d.Location.GetLineSpan().StartLinePosition.Line);
        Assert.DoesNotContain(run.HintNames, h => h.StartsWith("Syscalls.Generated.Linux.", StringComparison.Ordinal));
    }

    [Fact]
    public void NoRid_FunctionNeedingEpollEvent_NamesTheStruct()
    {
        var run = Generate(null, ["linux:close", "epoll_wait"]);

        var d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("SYSGEN003", d.Id);
        Assert.StartsWith("'epoll_wait' is architecture-specific on linux", d.GetMessage());
        Assert.Contains("struct epoll_event", d.GetMessage());
        Assert.Equal(1, d.Location.GetLineSpan().StartLinePosition.Line);
    }

    [Fact]
    public void NoRid_ArchitectureDependentConstant_ReportsSysgen003()
    {
        var run = Generate(null, ["linux:O_DIRECT"]);

        var d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("SYSGEN003", d.Id);
        Assert.Contains("O_DIRECT (value=16384 on linux-x64 vs value=65536 on linux-arm64)", d.GetMessage());
    }

    [Fact]
    public void NoRid_AppleVariadic_ReportsSysgen003()
    {
        // Same manifest on osx-x64 and osx-arm64, other code: arm64 pads variadic calls onto the stack.
        var run = Generate(null, ["darwin:fcntl"]);

        var d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("SYSGEN003", d.Id);
        Assert.Contains("on the stack on Apple arm64", d.GetMessage());
    }

    [Fact]
    public void NoRid_ArchitectureIndependentSelection_GeneratesWorkingCode()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("executing the generated libc stubs needs a Linux host");
        }
        const string probe = """
            using System.Runtime.InteropServices;
            public static class Probe
            {
                public static int[] CloseInvalid() { int r = Syscalls.Generated.Linux.LibC.close(-1); return new[] { r, Marshal.GetLastPInvokeError() }; }
                public static int AfInet() => Syscalls.Generated.Linux.LibC.AF_INET;
            }
            """;
        var run = Generate(null, ["linux:close", "linux:fcntl", "linux:AF_INET", "linux:EPOLLIN", "linux:sockaddr_in"], probe);

        Assert.True(run.GeneratorDiagnostics.IsEmpty, run.DiagnosticText);
        Assert.Empty(run.CompileProblems());
        var assembly = run.Load();
        Assert.Equal([-1, 9], (int[])GeneratorHarness.Call(assembly, "Probe", "CloseInvalid")!);
        Assert.Equal(2, (int)GeneratorHarness.Call(assembly, "Probe", "AfInet")!);
    }

    [Theory]
    [InlineData("linux-x64", 12, 4)]
    [InlineData("linux-arm64", 16, 8)]
    public void Rid_EpollEvent_HasTheTargetLayout(string rid, int size, int dataOffset)
    {
        var run = Generate(rid, ["epoll_event"], LayoutProbe);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompileProblems());
        var assembly = run.Load();
        Assert.Equal(size, (int)GeneratorHarness.Call(assembly, "Probe", "Size")!);
        Assert.Equal(dataOffset, (int)GeneratorHarness.Call(assembly, "Probe", "DataOffset")!);
    }

    [Fact]
    public void SyscallsRid_OverridesRuntimeIdentifier()
    {
        var harness = new GeneratorHarness
        {
            List = ["epoll_event"],
            Sources = [LayoutProbe],
            Properties = { ["RuntimeIdentifier"] = "linux-x64", ["SyscallsRid"] = "linux-arm64" },
        };

        var assembly = harness.RunOnce().Load();

        Assert.Equal(16, (int)GeneratorHarness.Call(assembly, "Probe", "Size")!);
    }

    [Fact]
    public void UnknownRid_ReportsSysgen004()
    {
        var run = Generate("linux-musl-x64", ["close"]);

        var d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("SYSGEN004", d.Id);
        Assert.StartsWith("RuntimeIdentifier 'linux-musl-x64' has no ABI facts (facts exist for linux-arm64, linux-x64, osx-arm64, osx-x64, win-x64)", d.GetMessage());
        Assert.Empty(run.HintNames);
    }

    [Fact]
    public void Rid_ItemsOfSeveralOses_OtherOsThrows()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("executing the generated libc stubs needs a Linux host");
        }
        const string probe = """
            public static class Probe
            {
                public static int Kqueue() => Syscalls.Generated.Darwin.LibC.kqueue();
                public static int WinsockSocket() => (int)Syscalls.Generated.Windows.Ws2_32.socket(2, 1, 0);
            }
            """;
        var run = Generate("linux-x64", ["kqueue", "socket", "kevent"], probe);

        Assert.True(run.GeneratorDiagnostics.IsEmpty, run.DiagnosticText);
        Assert.Empty(run.CompileProblems());
        Assert.Contains("Syscalls.Generated.Darwin.Records.g.cs", run.HintNames);
        Assert.Contains("Syscalls.Generated.Windows.Ws2_32.Functions.g.cs", run.HintNames);
        Assert.Contains("Syscalls.Generated.Linux.LibC.Functions.g.cs", run.HintNames);
        var assembly = run.Load();
        var kqueue = Assert.Throws<PlatformNotSupportedException>(() => GeneratorHarness.Call(assembly, "Probe", "Kqueue"));
        Assert.Throws<PlatformNotSupportedException>(() => GeneratorHarness.Call(assembly, "Probe", "WinsockSocket"));
        // The message names this project's build, not the Syscalls.Bindings package it is not.
        Assert.Equal("kqueue is a macOS API; this project's generated bindings target linux-x64 (RuntimeIdentifier) cannot call it.",
            kqueue.Message);
    }

    [Fact]
    public void Rid_DarwinKevent_HasAppleLayout()
    {
        var run = Generate("osx-arm64", ["kevent", "kevent64_s"]);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompileProblems());
        var records = run.Source("Syscalls.Generated.Darwin.Records.g.cs");
        // struct kevent is #pragma pack(4) in sys/event.h: 32 bytes on 64-bit; kevent64_s is 48.
        Assert.Contains("[StructLayout(LayoutKind.Explicit, Size = 32, Pack = 4)]\ninternal unsafe partial struct kevent\n", records);
        Assert.Contains("[StructLayout(LayoutKind.Explicit, Size = 48, Pack = 8)]\ninternal unsafe partial struct kevent64_s\n", records);
    }

    [Fact]
    public void Rid_FunctionPointerTypedef_IsANamedStructWithTheHeadersSignature()
    {
        const string probe = """
            public static unsafe class Probe
            {
                public static int Size() => sizeof(Syscalls.Generated.Windows.LPFN_ACCEPTEX);
                public static bool IsNull() => new Syscalls.Generated.Windows.LPFN_ACCEPTEX(0).IsNull;
            }
            """;
        var run = Generate("win-x64", ["LPFN_ACCEPTEX"], probe);

        Assert.True(run.GeneratorDiagnostics.IsEmpty, run.DiagnosticText);
        Assert.Empty(run.CompileProblems());
        string records = run.Source("Syscalls.Generated.Windows.Records.g.cs");
        Assert.Contains("public readonly delegate* unmanaged<nuint, nuint, void*, uint, uint, uint, uint*, OVERLAPPED*, int> Value;", records);
        Assert.Contains("partial struct OVERLAPPED", records); // reached through the pointer's parameters
    }
}
