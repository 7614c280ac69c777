using System;
using System.IO;
using System.Linq;
using Syscalls.Generator.Emitter;
using Syscalls.Generator.Facts;
using Xunit;

namespace Syscalls.Generator.Tests.Emitter;

/// <summary>
/// Architectures of one OS that disagree structurally must stop the emitter with a clear error: otherwise the public
/// API of two RIDs would silently differ (a member missing, a fixed-buffer length baked into consumers).
/// </summary>
public sealed class StructuralErrorTests
{
    /// <summary>The io_uring fixture (linux-x64 + linux-arm64) with one edit applied to the arm64 facts.</summary>
    private static EmitInput WithArm64Edit(Func<string, string> edit)
    {
        string text = File.ReadAllText(Path.Combine(EmitterFixture.Directory, "io_uring.abi"));
        var sections = text.Split("%% facts\n");
        Assert.Equal(3, sections.Length);
        string arm64 = edit(sections[2]);
        Assert.NotEqual(sections[2], arm64);
        var targets = new[] { FactsReader.Read(sections[1], "x64"), FactsReader.Read(arm64, "arm64") };
        return new EmitInput(targets) { Options = new EmitterOptions { Rid = "linux-x64" } };
    }

    private static EmitterException Fails(EmitInput input) => Assert.Throws<EmitterException>(() => BindingEmitter.Emit(input));

    [Fact]
    public void Emit_FieldOnOneArchOnly_ReportsStructAndBothLists()
    {
        var e = Fails(WithArm64Edit(t => t.Replace("field io_uring_probe_op.resv2 offset=4 size=4 type=u32 c=__u32\n", "")));
        var error = Assert.Single(e.Errors);
        Assert.Contains("struct io_uring_probe_op differs between architectures", error);
        Assert.Contains("linux-x64", error);
        Assert.Contains("linux-arm64", error);
    }

    [Fact]
    public void Emit_ArrayLengthDiffers_ReportsBothShapes()
    {
        var e = Fails(WithArm64Edit(t => t.Replace("field io_uring_probe.resv2 offset=4 size=12 type=[3]u32 c=__u32[3]",
            "field io_uring_probe.resv2 offset=4 size=16 type=[4]u32 c=__u32[4]")));
        var error = Assert.Single(e.Errors);
        Assert.Contains("io_uring_probe.resv2", error);
        Assert.Contains("'fixed uint resv2[3]' on linux-x64 vs 'fixed uint resv2[4]' on linux-arm64", error);
    }

    [Fact]
    public void Emit_FieldTypeDiffers_Reports()
    {
        var e = Fails(WithArm64Edit(t => t.Replace("field io_uring_sqe.user_data offset=32 size=8 type=u64 c=__u64",
            "field io_uring_sqe.user_data offset=32 size=8 type=i64 c=__s64")));
        Assert.Contains(e.Errors, x => x.Contains("io_uring_sqe.user_data") && x.Contains("'field ulong user_data'") && x.Contains("'field long user_data'"));
    }

    [Fact]
    public void Emit_RecordOnOneArchOnly_Reports()
    {
        var e = Fails(WithArm64Edit(t => t + "struct arm_only size=4 align=4 family=io_uring\nfield arm_only.x offset=0 size=4 type=u32 c=__u32\n"));
        Assert.Contains(e.Errors, x => x.Contains("struct arm_only exists on linux-arm64 but not on linux-x64"));
    }

    [Fact]
    public void Emit_ConstantOnOneArchOnly_PropertyThatThrowsWhereUndefined()
    {
        // MAP_32BIT is x86-64 only: one public member everywhere, a value on x64, PlatformNotSupportedException on arm64.
        var input = WithArm64Edit(t => t.Replace("const O_NONBLOCK value=2048 type=i32 family=fcntl file=fcntl.h c=04000\n", ""));
        string Constants(string rid) => BindingEmitter.Emit(input with { Options = input.Options with { Rid = rid } })
            .Files.Single(f => f.Name == "Syscalls.Linux.LibC.Constants.g.cs").Text;
        Assert.Contains("public static int O_NONBLOCK => 2048;", Constants("linux-x64"));
        Assert.Contains("public static int O_NONBLOCK => throw new global::System.PlatformNotSupportedException(\"O_NONBLOCK is not defined on linux-arm64",
            Constants("linux-arm64"));
        var surfaces = new[] { "linux-x64", "linux-arm64", null }
            .Select(r => BindingEmitter.Emit(input with { Options = input.Options with { Rid = r } }).ApiSurface).Distinct();
        Assert.Single(surfaces);
    }

    [Fact]
    public void Emit_FunctionSignatureDiffers_Reports()
    {
        var e = Fails(WithArm64Edit(t => t.Replace("params=__fd:i32,__cmd:i32 variadic", "params=__fd:i64,__cmd:i32 variadic")));
        Assert.Contains(e.Errors, x => x.Contains("function LibC.fcntl differs between architectures"));
    }

    [Fact]
    public void Emit_SeveralDisagreements_ReportsEveryOne()
    {
        var e = Fails(WithArm64Edit(t => t.Replace("params=__fd:i32,__cmd:i32 variadic", "params=__fd:i64,__cmd:i32 variadic")
            .Replace("field io_uring_probe_op.resv2 offset=4 size=4 type=u32 c=__u32\n", "")));
        Assert.Equal(2, e.Errors.Count);
    }

    [Fact]
    public void Emit_CharSignednessDiffers_UnifiesToByte()
    {
        // open(const char *) is *i8 on x86-64 and *u8 on arm64: one public signature, byte*.
        var result = BindingEmitter.Emit(EmitterFixture.Load("io_uring").Input);
        Assert.Contains("member Syscalls.Linux.LibC method int open(byte* file, int oflag)", result.ApiSurface);
    }

    [Fact]
    public void Emit_ValueDiffers_PropertyNotError()
    {
        var result = BindingEmitter.Emit(EmitterFixture.Load("io_uring_arm64").Input);
        var functions = result.Files.Single(f => f.Name == "Syscalls.Linux.LibC.Constants.g.cs").Text;
        Assert.Contains("public static int O_DIRECT => 65536;", functions);
    }

    [Fact]
    public void Emit_RidWithoutFacts_Reports()
    {
        var input = EmitterFixture.Load("epoll").Input;
        var e = Fails(input with { Options = input.Options with { Rid = "osx-arm64" } });
        Assert.Contains("no facts for osx-arm64", e.Message);
    }

    [Fact]
    public void Emit_ByValueRecordTheFactsLack_Reports()
    {
        var input = WithArm64Edit(t => t.Replace("field io_uring_probe_op.resv2 offset=4 size=4 type=u32 c=__u32",
            "field io_uring_probe_op.resv2 offset=4 size=4 type=struct:missing c=\"struct missing\""));
        var e = Fails(input);
        Assert.Contains(e.Errors, x => x.Contains("struct:missing is used by value but the facts do not define it"));
    }
}
