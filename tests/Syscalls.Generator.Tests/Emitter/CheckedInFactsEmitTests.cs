using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Syscalls.Generator.Emitter;
using Syscalls.Generator.Facts;
using Xunit;

namespace Syscalls.Generator.Tests.Emitter;

/// <summary>
/// The checked-in headers/facts emit for every RID and the portable build with one public API, and the result
/// compiles without a diagnostic: a regeneration that brings an architecture-specific record or field fails here,
/// before the bindings build.
/// </summary>
public sealed class CheckedInFactsEmitTests
{
    private static readonly Lazy<EmitInput?> Input = new(Load);

    internal static EmitInput Require()
    {
        var input = Input.Value;
        Assert.SkipWhen(input is null, "no headers/facts/*.abi in this checkout (the scanner has not written them)");
        return input!;
    }

    private static EmitInput? Load()
    {
        string headers = Path.Combine(EmitterFixture.RepoRoot, "headers");
        string factsDir = Path.Combine(headers, "facts"), familiesDir = Path.Combine(headers, "families");
        if (!Directory.Exists(factsDir) || Directory.GetFiles(factsDir, "*.abi").Length == 0)
        {
            return null;
        }
        var targets = Directory.GetFiles(factsDir, "*.abi").OrderBy(f => f, StringComparer.Ordinal).Select(FactsReader.ReadFile).ToList();
        var families = Directory.GetFiles(familiesDir, "*.api").OrderBy(f => f, StringComparer.Ordinal)
            .Select(f => ApiFamilyReader.ReadFile(f)).ToList();
        return new EmitInput(targets) { Families = families };
    }

    [Fact]
    public void Emit_CheckedInFacts_EveryRidSameApiSurface()
    {
        var input = Require();
        var rids = input.Targets.Select(t => (string?)t.Target).Append(null).ToList();
        var surfaces = new Dictionary<string, string>();
        foreach (var rid in rids)
        {
            surfaces[rid ?? "portable"] = BindingEmitter.Emit(input with { Options = input.Options with { Rid = rid } }).ApiSurface;
        }
        var distinct = surfaces.Values.Distinct().Count();
        Assert.True(distinct == 1, "API surfaces differ between " + string.Join(", ", surfaces.Keys));
        Assert.Contains("member Syscalls.Linux.LibC method int epoll_wait(int epfd, epoll_event* events, int maxevents, int timeout)",
            surfaces["portable"]);
    }

    [Theory]
    [InlineData("linux-x64")]
    [InlineData("osx-arm64")]
    [InlineData(null)]
    public void Emit_CheckedInFacts_CompilesWithoutDiagnostics(string? rid)
    {
        var input = Require();
        Assert.SkipWhen(rid is not null && input.Targets.All(t => t.Target != rid), $"no facts for {rid}");
        var compilation = RoslynCompiler.Compile(RoslynCompiler.EmitStub(input, rid, portable: rid is null));
        Assert.Empty(RoslynCompiler.Problems(compilation));
    }

    [Fact]
    public void Emit_CheckedInFacts_EpollEventLayoutPerArch()
    {
        var input = Require();
        foreach (var (rid, size, offset) in new[] { ("linux-x64", 12, 4), ("linux-arm64", 16, 8) })
        {
            var manifest = BindingEmitter.Emit(input with { Options = input.Options with { Rid = rid } }).Manifest;
            Assert.Contains($"struct Syscalls.Linux.epoll_event size={size} ", manifest);
            Assert.Contains($"field Syscalls.Linux.epoll_event.data offset={offset} size=8 cs=epoll_data ", manifest);
        }
    }

    [Theory]
    [InlineData("linux-x64", "libc.so.6", "clock_gettime", true, false)] // errno read on failure only (below)
    [InlineData("linux-x64", "libc.so.6", "getppid", true, false)]
    [InlineData("linux-x64", "libc.so.6", "epoll_wait", false, true)]
    [InlineData("linux-x64", "libc.so.6", "__errno_location", true, false)]
    [InlineData("win-x64", "ws2_32.dll", "WSAGetLastError", true, false)]
    [InlineData("win-x64", "kernel32.dll", "GetLastError", true, false)]
    [InlineData("win-x64", "ws2_32.dll", "WSARecv", false, true)]
    public void Emit_CheckedInFacts_FamilyCallPolicies(string rid, string lib, string function, bool fast, bool setsError)
    {
        var input = Require();
        Assert.SkipWhen(input.Targets.All(t => t.Target != rid), $"no facts for {rid}");
        string all = string.Concat(BindingEmitter.Emit(input with { Options = input.Options with { Rid = rid } }).Files.Select(f => f.Text));

        // The attribute lines right above the partial declaration, as the LibraryImport generator will read them.
        string import = $"[LibraryImport(\"{lib}\", EntryPoint = \"{function}\"{(setsError ? ", SetLastError = true" : "")})]";
        int at = all.IndexOf(import, StringComparison.Ordinal);
        Assert.True(at >= 0, $"{function}: no {import}");
        int declaration = all.IndexOf("static partial", at, StringComparison.Ordinal);
        Assert.Equal(fast, all.Substring(at, declaration - at).Contains("[SuppressGCTransition]", StringComparison.Ordinal));
    }

    [Fact]
    public void Emit_CheckedInFacts_EveryFunctionLinksItsReferencePage()
    {
        var input = Require();
        var missing = new List<string>();
        var pages = new HashSet<string>(StringComparer.Ordinal);
        foreach (var rid in input.Targets.Select(t => t.Target))
        {
            // The manifest's func lines carry page=URL: one per P/Invoke overload of the RID's own OS.
            string manifest = BindingEmitter.Emit(input with { Options = input.Options with { Rid = rid } }).Manifest;
            string os = rid.StartsWith("linux", StringComparison.Ordinal) ? "Linux" : rid.StartsWith("osx", StringComparison.Ordinal) ? "Darwin" : "Windows";
            foreach (var line in manifest.Split('\n').Where(l => l.StartsWith($"func Syscalls.{os}.", StringComparison.Ordinal)))
            {
                int at = line.IndexOf(" page=", StringComparison.Ordinal);
                string name = line.Split(' ')[1];
                if (at < 0)
                {
                    missing.Add($"{rid} {name}");
                    continue;
                }
                string url = line.Substring(at + 6).Split(' ')[0];
                pages.Add(url);
                string expected = os switch
                {
                    "Linux" => "https://man7.org/linux/man-pages/man",
                    "Darwin" => "https://developer.apple.com/library/archive/documentation/System/Conceptual/ManPages_iPhoneOS/man",
                    _ => "https://learn.microsoft.com/en-us/windows/win32/api/",
                };
                Assert.True(url.StartsWith(expected, StringComparison.Ordinal), $"{rid} {name}: {url}");
            }
        }
        Assert.True(missing.Count == 0, "functions without a page line in their family (headers/FORMAT.md \"Reference pages\"): "
            + string.Join(", ", missing));
        // Spot checks of sections that differ from the family default.
        Assert.Contains("https://man7.org/linux/man-pages/man3/eventfd_read.3.html", pages);
        Assert.Contains("https://man7.org/linux/man-pages/man2/io_uring_enter.2.html", pages);
        Assert.Contains("https://man7.org/linux/man-pages/man3/errno.3.html", pages);
        Assert.Contains("https://developer.apple.com/library/archive/documentation/System/Conceptual/ManPages_iPhoneOS/man2/kqueue.2.html", pages);
        Assert.Contains("https://developer.apple.com/library/archive/documentation/System/Conceptual/ManPages_iPhoneOS/man3/clock_gettime.3.html", pages);
        Assert.Contains("https://learn.microsoft.com/en-us/windows/win32/api/winsock2/nf-winsock2-wsarecv", pages);
        Assert.Contains("https://learn.microsoft.com/en-us/windows/win32/api/ioapiset/nf-ioapiset-getqueuedcompletionstatusex", pages);
        Assert.Contains("https://learn.microsoft.com/en-us/windows/win32/api/winternl/nf-winternl-ntdeviceiocontrolfile", pages);
    }

    [Theory]
    [InlineData("linux-x64", "nint recv(int fd, Span<byte> buf, int flags)")]
    [InlineData("linux-x64", "nint send(int fd, ReadOnlySpan<byte> buf, int flags)")]
    [InlineData("linux-x64", "int epoll_wait(int epfd, Span<epoll_event> events, int timeout)")]
    [InlineData("linux-x64", "int epoll_ctl(int epfd, int op, int fd, in epoll_event @event)")]
    [InlineData("linux-x64", "int bind<T>(int fd, in T addr) where T : unmanaged")]
    [InlineData("linux-x64", "int accept4<T>(int fd, ref T addr, int flags) where T : unmanaged")]
    [InlineData("linux-x64", "int setsockopt<T>(int fd, int level, int optname, in T optval) where T : unmanaged")]
    [InlineData("osx-arm64", "int kevent(int kq, ReadOnlySpan<kevent> changelist, Span<kevent> eventlist, timespec* timeout)")]
    [InlineData("win-x64", "int WSARecv(nuint s, ReadOnlySpan<WSABUF> lpBuffers, uint* lpNumberOfBytesRecvd, uint* lpFlags, OVERLAPPED* lpOverlapped, delegate* unmanaged<uint, uint, OVERLAPPED*, uint, void> lpCompletionRoutine)")]
    [InlineData("win-x64", "int recv(nuint s, Span<byte> buf, int flags)")]
    public void Emit_CheckedInFacts_FamilyOverloads(string rid, string signature)
    {
        var input = Require();
        Assert.SkipWhen(input.Targets.All(t => t.Target != rid), $"no facts for {rid}");
        string surface = BindingEmitter.Emit(input with { Options = input.Options with { Rid = rid } }).ApiSurface;
        Assert.Contains(" method " + signature + "\n", surface);
    }

    [Theory]
    [InlineData("linux-x64")]
    [InlineData("osx-arm64")]
    public void Emit_CheckedInFacts_FastErrnoFunctionReadsErrnoOnFailureOnly(string rid)
    {
        var input = Require();
        Assert.SkipWhen(input.Targets.All(t => t.Target != rid), $"no facts for {rid}");
        string os = rid.StartsWith("osx", StringComparison.Ordinal) ? "Darwin" : "Linux";
        string all = string.Concat(BindingEmitter.Emit(input with { Options = input.Options with { Rid = rid } }).Files
            .Where(f => f.Name.StartsWith("Syscalls." + os + ".", StringComparison.Ordinal)).Select(f => f.Text));

        int wrapper = all.IndexOf("public static int clock_gettime(", StringComparison.Ordinal);
        Assert.True(wrapper >= 0, "no clock_gettime wrapper");
        string body = all.Substring(wrapper, all.IndexOf("static partial int __clock_gettime_fast(", wrapper, StringComparison.Ordinal) - wrapper);
        Assert.Contains("int __retVal = __clock_gettime_fast(", body);
        Assert.Contains("if (__retVal == -1)", body);
        Assert.Contains("SetLastPInvokeError(global::System.Runtime.InteropServices.Marshal.GetLastSystemError())", body);
        Assert.DoesNotContain("SetLastSystemError(0)", body);
        Assert.Contains("[SuppressGCTransition]", body);
    }
}
