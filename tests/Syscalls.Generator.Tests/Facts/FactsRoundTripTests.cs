using System.IO;
using System.Linq;
using System.Numerics;
using Syscalls.Generator.Facts;
using Syscalls.Generator.Tests.Scanner;
using Xunit;

namespace Syscalls.Generator.Tests.Facts;

public sealed class FactsRoundTripTests
{
    private const string Sample = """
        # comment
        @format 1
        @target linux-x64
        @triple x86_64-unknown-linux-gnu
        @os linux
        @arch x64
        @kernel 6.12
        @package deb linux-libc-dev 6.12.117-1 all trixie
        @libclang 22.1.8 "clang version 22.1.8 (x)"
        @families epoll io_uring
        struct epoll_event size=12 align=1 packed family=epoll file=sys/epoll.h
        struct io_uring_sqe__anon1 size=8 align=8 unnamed family=io_uring file=linux/io_uring.h
        union epoll_data size=8 align=8 family=epoll file=sys/epoll.h
        field epoll_data.ptr offset=0 size=8 type=*void c="void *"
        field epoll_data.fd offset=0 size=4 type=i32 c=int
        field epoll_event.events offset=0 size=4 type=u32 c=uint32_t
        field epoll_event.data offset=4 size=8 type=union:epoll_data c=epoll_data_t
        field epoll_event.bits offset=0 size=4 type=u32 bitoffset=3 bitwidth=5 via=io_uring_sqe__anon1 c="unsigned int"
        field epoll_event.tail offset=12 size=0 type=[]u8 flex c="unsigned char[]"
        enum EPOLL_EVENTS underlying=u32 family=epoll file=sys/epoll.h
        enumerator EPOLL_EVENTS.EPOLLIN value=1
        enumerator EPOLL_EVENTS.EPOLLET value=2147483648
        typedef cb_t type=*fn(void;i32,*fn(i32;*void,...)) c="void (*)(int, int (*)(void *, ...))" family=epoll file=x.h
        func epoll_wait ret=i32 params=epfd:i32,events:*struct:epoll_event,cb:*fn(void;i32,u8),_4:i32 cc=c family=epoll file=sys/epoll.h c="int epoll_wait(int epfd, struct epoll_event *events, ..., int)"
        func fcntl ret=i32 params=fd:i32,cmd:i32 variadic cc=c c="int fcntl(int fd, int cmd, ...)"
        func none ret=void cc=stdcall c="void none(void)"
        const BIG value=18446744073709551615 type=u64 c=0xFFFFFFFFFFFFFFFFULL
        const EPOLL_CLOEXEC value=524288 type=i32 family=epoll file=bits/epoll.h c=02000000
        const INVALID_HANDLE_VALUE value=18446744073709551615 type=*void c="((HANDLE) (LONG_PTR) - 1)"
        const MINUS value=-1 type=i64 c=(-1)
        const QUOTED value=1 type=i32 c="a=\"b\\c\""
        guid WSAID_ACCEPTEX value=b5367df1-cbac-11cf-95ca-00805f48a192 family=winsock file=mswsock.h
        syscall io_uring_setup number=425
        doc enumerator:EPOLL_EVENTS.EPOLLIN "ready to read"
        doc field:epoll_event.events "event mask"
        doc struct:epoll_event "one word"

        """;

    [Fact]
    public void ReadThenWrite_WriterOrder_ReproducesTextExactly()
    {
        string written = FactsWriter.Write(FactsReader.Read(Sample));

        // The sample is in the writer's order apart from its header comment.
        Assert.Equal(Sample.Substring(Sample.IndexOf('@')), written.Substring(written.IndexOf('@')));
    }

    [Fact]
    public void Read_Sample_ParsesEveryKind()
    {
        var facts = FactsReader.Read(Sample);

        var evt = facts.FindRecord("epoll_event")!;
        Assert.True(evt.IsPacked);
        Assert.Equal("one word", evt.Doc);
        Assert.Equal(new RecordRefType(RecordKind.Union, "epoll_data"), evt.Fields[1].Type);
        Assert.Equal((3L, 5), (evt.Fields[2].BitOffset!.Value, evt.Fields[2].BitWidth!.Value));
        Assert.Equal(["io_uring_sqe__anon1"], evt.Fields[2].Via);
        Assert.True(evt.Fields[3].IsFlexible);
        Assert.Equal(new BigInteger(2147483648), facts.FindEnum("EPOLL_EVENTS")!.Enumerators[1].Value);
        Assert.True(facts.TryFindEnumerator("EPOLLIN", out var owner, out var x) && owner!.Name == "EPOLL_EVENTS" && x!.Doc == "ready to read");
        var wait = facts.FindFunction("epoll_wait")!;
        Assert.Equal(["epfd", "events", "cb", "_4"], wait.Parameters.Select(p => p.Name));
        Assert.IsType<FunctionType>(((PointerType)wait.Parameters[2].Type).Pointee);
        Assert.True(facts.FindFunction("fcntl")!.IsVariadic);
        Assert.Equal(CallConv.Stdcall, facts.FindFunction("none")!.CallConv);
        Assert.Equal("a=\"b\\c\"", facts.FindConstant("QUOTED")!.MacroBody);
        Assert.Equal(BigInteger.MinusOne, facts.FindConstant("MINUS")!.Value);
        Assert.Equal(new PointerType(CType.Void), facts.FindConstant("INVALID_HANDLE_VALUE")!.PointerType);
        Assert.Equal("b5367df1-cbac-11cf-95ca-00805f48a192", facts.Guids[0].Value.ToString("D"));
        Assert.Equal(425, facts.Syscalls[0].Number);
        Assert.Equal(["deb linux-libc-dev 6.12.117-1 all trixie"], facts.Provenance.Packages);
        Assert.Equal("clang version 22.1.8 (x)", facts.Provenance.LibclangDescription);
    }

    [Fact]
    public void Write_UnsortedInput_SortsByKindThenName()
    {
        var facts = new AbiFacts(new Provenance("t", "x86_64-unknown-linux-gnu", "linux", "x64"))
        {
            Constants = [new ConstantFact("B", 2, CType.I32, "2"), new ConstantFact("A", 1, CType.I32, "1")],
            Syscalls = [new SyscallFact("write", 1), new SyscallFact("read", 0)],
        };

        var lines = FactsWriter.Write(facts).Split('\n').Where(l => l.Length > 0 && l[0] != '@' && l[0] != '#').ToList();

        Assert.Equal(["const A value=1 type=i32 c=1", "const B value=2 type=i32 c=2", "syscall read number=0", "syscall write number=1"], lines);
    }

    [Fact]
    public void ReadThenWrite_GoldenAndCheckedInFacts_AreStable()
    {
        var files = Directory.GetFiles(ToolHarness.FixturesDir, "*.abi")
            .Concat(Directory.Exists(Path.Combine(ToolHarness.RepoRoot, "headers", "facts"))
                ? Directory.GetFiles(Path.Combine(ToolHarness.RepoRoot, "headers", "facts"), "*.abi") : []).ToList();
        if (files.Count == 0)
        {
            Assert.Skip("no golden or checked-in .abi files yet");
        }
        foreach (var file in files)
        {
            string text = File.ReadAllText(file);
            Assert.Equal(text, FactsWriter.Write(FactsReader.Read(text, file)));
        }
    }

    [Theory]
    [InlineData("*struct:sockaddr")]
    [InlineData("[2][3]u32")]
    [InlineData("[]i8")]
    [InlineData("*fn(void;*fn(i32;...),i64,...)")]
    [InlineData("fn(void;)")]
    [InlineData("**enum:io_uring_op")]
    public void CTypeParse_CanonicalSpelling_RoundTrips(string text)
    {
        Assert.Equal(text, CType.Parse(text).ToString());
        Assert.Equal(CType.Parse(text), CType.Parse(text));
    }

    [Theory]
    [InlineData("i33")]
    [InlineData("*")]
    [InlineData("[4")]
    [InlineData("struct:")]
    [InlineData("fn(i32,i32)")]
    public void CTypeParse_Malformed_Throws(string text)
    {
        Assert.Throws<System.FormatException>(() => CType.Parse(text));
    }
}
