using Syscalls.Generator.Facts;
using Xunit;

namespace Syscalls.Generator.Tests.Facts;

public sealed class FactsReaderErrorTests
{
    private const string Header = "@format 1\n@target t\n@triple x\n@os linux\n@arch x64\n";

    [Theory]
    [InlineData("widget foo size=1\n", 6, "unknown fact kind 'widget'")]
    [InlineData("struct s size=4\n", 6, "missing key 'align'")]
    [InlineData("struct s size=4 align=4 colour=red\n", 6, "unknown key 'colour'")]
    [InlineData("const X value=abc type=i32 c=1\n", 6, "not an integer")]
    [InlineData("const X value=1 type=i33 c=1\n", 6, "unknown type 'i33'")]
    [InlineData("struct s size=4 align=4\n\nfield t.a offset=0 size=4 type=i32 c=int\n", 8, "field of t")]
    [InlineData("syscall read number=0\nsyscall read number=1\n", 7, "listed twice")]
    [InlineData("const X value=1 type=i32 c=\"open\n", 6, "unterminated")]
    [InlineData("doc func:nothing \"text\"\n", 6, "not a fact of this file")]
    public void Read_Malformed_ReportsPathLineAndReason(string body, int line, string reason)
    {
        var e = Assert.Throws<FactsFormatException>(() => FactsReader.Read(Header + body, "x.abi"));

        Assert.Equal(line, e.Line);
        Assert.StartsWith($"x.abi:{line}: ", e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void Read_MissingProvenance_Reports()
    {
        var e = Assert.Throws<FactsFormatException>(() => FactsReader.Read("syscall read number=0\n", "y.abi"));

        Assert.Contains("@format", e.Message);
    }
}
