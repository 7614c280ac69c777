using System.Collections.Generic;
using System.Linq;
using Syscalls.Generator.Emitter;
using Syscalls.Generator.Facts;
using Xunit;

namespace Syscalls.Generator.Tests.Emitter;

/// <summary>
/// API.md: one reference assembly for every RID, so every RID build (and the portable one) must declare the same
/// public API: same types, members, signatures, const values. Checked on the compiled emission, not on the
/// emitter's own description of it, and on the emitter's API surface text as well.
/// </summary>
public sealed class ApiIdentityTests
{
    /// <summary>Five targets, three OSes: io_uring (linux x64/arm64), darwin (osx x64/arm64), winsock (win-x64).</summary>
    private static EmitInput AllTargets()
    {
        var parts = new[] { "io_uring", "darwin", "winsock" }.Select(s => EmitterFixture.Load(s).Input).ToList();
        return new EmitInput(parts.SelectMany(p => p.Targets).ToList()) { Families = parts.SelectMany(p => p.Families).ToList() };
    }

    public static TheoryData<string> Rids() => new("linux-x64", "linux-arm64", "osx-x64", "osx-arm64", "win-x64");

    [Theory]
    [MemberData(nameof(Rids))]
    public void PublicApi_RidBuild_EqualsPortableBuild(string rid)
    {
        var input = AllTargets();
        var portable = RoslynCompiler.PublicApi(RoslynCompiler.Compile(RoslynCompiler.EmitStub(input, null, portable: true)));
        var build = RoslynCompiler.Compile(RoslynCompiler.EmitStub(input, rid));
        Assert.Empty(RoslynCompiler.Problems(build));
        var api = RoslynCompiler.PublicApi(build);
        Assert.Equal(portable, api);
        Assert.Contains(api, l => l.Contains("epoll", System.StringComparison.Ordinal) || l.Contains("io_uring_sqe", System.StringComparison.Ordinal));
    }

    [Fact]
    public void ApiSurface_EveryRid_SameText()
    {
        var input = AllTargets();
        var surfaces = new[] { "linux-x64", "linux-arm64", "osx-x64", "osx-arm64", "win-x64", null }
            .Select(rid => BindingEmitter.Emit(input with { Options = input.Options with { Rid = rid } }).ApiSurface).Distinct().ToList();
        Assert.Single(surfaces);
        Assert.Contains("member Syscalls.Linux.LibC static-property int O_DIRECT", surfaces[0]);
        Assert.Contains("member Syscalls.Linux.LibC const int O_NONBLOCK = 2048", surfaces[0]);
    }

    [Fact]
    public void PublicApi_ArchDependentConstant_IsPropertyEverywhere()
    {
        var input = AllTargets();
        foreach (var rid in new string?[] { "linux-x64", "linux-arm64", null })
        {
            var api = RoslynCompiler.PublicApi(RoslynCompiler.Compile(RoslynCompiler.EmitStub(input, rid, rid is null)));
            Assert.Contains(api, l => l.StartsWith("member Property", System.StringComparison.Ordinal) && l.Contains("O_DIRECT"));
            Assert.DoesNotContain(api, l => l.StartsWith("member Field", System.StringComparison.Ordinal) && l.Contains("O_DIRECT"));
        }
    }
}
