using Syscalls.Generator.Facts;
using Xunit;

namespace Syscalls.Generator.Tests.Facts;

public sealed class FactsDiffTests
{
    private const string Old = """
        @format 1
        @target linux-x64
        @triple x86_64-unknown-linux-gnu
        @os linux
        @arch x64
        @kernel 6.1
        @package deb linux-libc-dev 6.1.176-1 amd64 bookworm
        struct io_uring_params size=120 align=8
        field io_uring_params.sq_entries offset=0 size=4 type=u32 c=__u32
        field io_uring_params.flags offset=8 size=4 type=u32 c=__u32
        enum io_uring_op underlying=u32
        enumerator io_uring_op.IORING_OP_NOP value=0
        enumerator io_uring_op.IORING_OP_LAST value=49
        func io_uring_gone ret=i32 cc=c c="int io_uring_gone(void)"
        const IORING_SETUP_SQPOLL value=2 type=u32 c="(1U << 1)"
        const IORING_CHANGED value=1 type=i32 c=1
        syscall io_uring_setup number=425

        """;

    private const string New = """
        @format 1
        @target linux-x64
        @triple x86_64-unknown-linux-gnu
        @os linux
        @arch x64
        @kernel 7.2
        @package deb linux-libc-dev 7.2.13-1 all sid
        struct io_uring_params size=128 align=8
        field io_uring_params.sq_entries offset=0 size=4 type=u32 c=__u32
        field io_uring_params.flags offset=12 size=4 type=u32 c=__u32
        field io_uring_params.wq_fd offset=16 size=4 type=u32 c=__u32
        enum io_uring_op underlying=u32
        enumerator io_uring_op.IORING_OP_NOP value=0
        enumerator io_uring_op.IORING_OP_READ_MULTISHOT value=49
        enumerator io_uring_op.IORING_OP_LAST value=50
        const IORING_SETUP_SQPOLL value=2 type=u32 c="(1U << 1)"
        const IORING_CHANGED value=2 type=i32 c=2
        const IORING_SETUP_NEW value=65536 type=u32 c="(1U << 16)"
        syscall io_uring_setup number=425
        syscall io_uring_new number=470

        """;

    [Fact]
    public void Compare_KernelUpgrade_ListsEveryAbiChange()
    {
        var diff = FactsDiff.Compare(FactsReader.Read(Old), FactsReader.Read(New));

        Assert.Contains(new FactChange("enumerator", "io_uring_op.IORING_OP_READ_MULTISHOT", ChangeKind.Added, "= 49"), diff.Changes);
        Assert.Contains(new FactChange("enumerator", "io_uring_op.IORING_OP_LAST", ChangeKind.Changed, "49 -> 50"), diff.Changes);
        Assert.Contains(new FactChange("const", "IORING_SETUP_NEW", ChangeKind.Added, "= 65536 (u32)"), diff.Changes);
        Assert.Contains(new FactChange("const", "IORING_CHANGED", ChangeKind.Changed, "1 (i32) -> 2 (i32)"), diff.Changes);
        Assert.Contains(new FactChange("func", "io_uring_gone", ChangeKind.Removed, "i32 ()"), diff.Changes);
        Assert.Contains(new FactChange("syscall", "io_uring_new", ChangeKind.Added, "= 470"), diff.Changes);
        var record = Assert.Single(diff.Changes, c => c.Kind == "struct");
        Assert.Equal("size 120 -> 128; field + wq_fd u32@16 size 4; field flags u32@8 size 4 -> u32@12 size 4", record.Detail);
        Assert.DoesNotContain(diff.Changes, c => c.Name is "IORING_SETUP_SQPOLL" or "io_uring_setup" or "io_uring_op.IORING_OP_NOP");
    }

    [Fact]
    public void ToString_KernelUpgrade_SummarizesPerTarget()
    {
        string text = FactsDiff.Compare(FactsReader.Read(Old), FactsReader.Read(New)).ToString();

        Assert.StartsWith("linux-x64: kernel headers 6.1 -> 7.2\n", text);
        Assert.Contains("  package + deb linux-libc-dev 7.2.13-1 all sid\n", text);
        Assert.Contains("  const: 1 added, 0 removed, 1 changed\n", text);
        Assert.Contains("    + IORING_SETUP_NEW: = 65536 (u32)\n", text);
        Assert.Contains("  syscall: 1 added, 0 removed, 0 changed\n", text);
    }

    [Fact]
    public void Compare_SameFacts_IsEmpty()
    {
        var diff = FactsDiff.Compare(FactsReader.Read(New), FactsReader.Read(New));

        Assert.True(diff.IsEmpty);
        Assert.EndsWith("no ABI changes\n", diff.ToString());
    }
}
