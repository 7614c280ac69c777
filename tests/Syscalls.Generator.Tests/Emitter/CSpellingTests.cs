using Syscalls.Generator.Emitter;
using Xunit;

namespace Syscalls.Generator.Tests.Emitter;

/// <summary>The reader of C spellings that decides nuint/nint/byte/nint-handle where the resolved type cannot.</summary>
public sealed class CSpellingTests
{
    [Theory]
    [InlineData("const char *", null, "char", 1, 0)]
    [InlineData("struct sockaddr *restrict", null, "sockaddr", 1, 0)]
    [InlineData("char[108]", null, "char", 0, 1)]
    [InlineData("unsigned long", null, "unsigned long", 0, 0)]
    [InlineData("socklen_t *__len", "__len", "socklen_t", 1, 0)]
    [InlineData("const char *const *argv", "argv", "char", 2, 0)]
    [InlineData("char FAR *", null, "char", 1, 0)]
    [InlineData("uint64_t _Nonnull", null, "uint64_t", 0, 0)]
    public void Parse_Spelling_BaseAndDepth(string spelling, string? name, string @base, int pointers, int arrays)
    {
        var d = CSpelling.Parse(spelling, name);
        Assert.NotNull(d);
        Assert.Equal(@base, d!.Base);
        Assert.Equal(pointers, d.Pointers);
        Assert.Equal(arrays, d.Arrays);
    }

    [Theory]
    [InlineData("void (*)(int)")]
    [InlineData("int (*)[4]")]
    [InlineData("")]
    public void Parse_FunctionPointerOrEmpty_Null(string spelling) => Assert.Null(CSpelling.Parse(spelling));

    [Fact]
    public void SplitPrototype_Named_ReturnAndParameters()
    {
        var split = CSpelling.SplitPrototype("ssize_t recv(int __fd, void *__buf, size_t __n, int __flags)", "recv", 4);
        Assert.NotNull(split);
        Assert.Equal("ssize_t", split!.Value.Return);
        Assert.Equal(new[] { "int __fd", "void *__buf", "size_t __n", "int __flags" }, split.Value.Parameters);
    }

    [Fact]
    public void SplitPrototype_AttributesAndFunctionPointerParameter_Split()
    {
        var split = CSpelling.SplitPrototype(
            "int __attribute__((stdcall)) WSARecv(SOCKET s, void (*cb)(DWORD, DWORD), DWORD n)", "WSARecv", 3);
        Assert.NotNull(split);
        Assert.Equal("int", split!.Value.Return);
        Assert.Equal("void (*cb)(DWORD, DWORD)", split.Value.Parameters[1]);
    }

    [Fact]
    public void SplitPrototype_VoidAndVariadic_CountsFixedOnly()
    {
        Assert.Empty(CSpelling.SplitPrototype("int kqueue(void)", "kqueue", 0)!.Value.Parameters);
        Assert.Equal(2, CSpelling.SplitPrototype("int fcntl(int, int, ...)", "fcntl", 2)!.Value.Parameters.Count);
        Assert.Null(CSpelling.SplitPrototype("int fcntl(int, int, ...)", "fcntl", 3));
    }

    [Theory]
    [InlineData("(SOCKET)(~0)", "nuint")]
    [InlineData("((HANDLE) (LONG_PTR)-1)", "nint")]
    [InlineData("0x10000000ULL", null)]
    public void MacroCastType_NativeSizedCast_Alias(string body, string? expected) =>
        Assert.Equal(expected, TypeMapper.MacroCastType(body, Syscalls.Generator.Facts.CType.U64)?.Code);
}
