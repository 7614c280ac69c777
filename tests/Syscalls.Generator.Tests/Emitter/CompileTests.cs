using Xunit;

namespace Syscalls.Generator.Tests.Emitter;

/// <summary>Every fixture's emission is valid C#: no error and no warning when compiled (stub mode, see RoslynCompiler).</summary>
public sealed class CompileTests
{
    public static TheoryData<string> Stems() => new(EmitterFixture.Stems());

    [Theory]
    [MemberData(nameof(Stems))]
    public void Emit_Fixture_CompilesWithoutDiagnostics(string stem)
    {
        var fixture = EmitterFixture.Load(stem);
        var compilation = RoslynCompiler.Compile(RoslynCompiler.EmitStub(fixture.Input, null, fixture.Input.Options.Rid is null));
        Assert.Empty(RoslynCompiler.Problems(compilation));
    }
}
