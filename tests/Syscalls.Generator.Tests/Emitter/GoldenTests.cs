using System.Collections.Generic;
using System.Linq;
using Syscalls.Generator.Emitter;
using Xunit;

namespace Syscalls.Generator.Tests.Emitter;

/// <summary>Each fixture's emitted C# and manifest equal the checked-in expectations (SYSCALLS_UPDATE_GOLDEN=1 rewrites).</summary>
public sealed class GoldenTests
{
    public static TheoryData<string> Stems() => new(EmitterFixture.Stems());

    [Theory]
    [MemberData(nameof(Stems))]
    public void Emit_Fixture_MatchesGoldenSource(string stem)
    {
        var result = BindingEmitter.Emit(EmitterFixture.Load(stem).Input);
        EmitterFixture.AssertGolden(stem + ".cs", EmitterFixture.Render(result));
    }

    [Theory]
    [MemberData(nameof(Stems))]
    public void Emit_Fixture_MatchesGoldenManifest(string stem)
    {
        var result = BindingEmitter.Emit(EmitterFixture.Load(stem).Input);
        EmitterFixture.AssertGolden(stem + ".manifest", result.Manifest);
    }

    [Fact]
    public void Emit_SameInputTwice_SameText()
    {
        var input = EmitterFixture.Load("io_uring").Input;
        var a = BindingEmitter.Emit(input);
        var b = BindingEmitter.Emit(input);
        Assert.Equal(EmitterFixture.Render(a), EmitterFixture.Render(b));
        Assert.Equal(a.Manifest, b.Manifest);
    }

    [Fact]
    public void Fixtures_Exist_CoverTheCasesTheEmitterMustHandle()
    {
        var stems = EmitterFixture.Stems().ToList();
        var needed = new List<string> { "epoll", "io_uring", "bitfields", "darwin", "winsock", "io_uring_portable", "io_uring_stub" };
        Assert.Empty(needed.Except(stems));
    }
}
