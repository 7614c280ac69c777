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

    private static EmitInput Require()
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
}
