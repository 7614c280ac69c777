using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Threading;
using Syscalls.Linux;
using Xunit;
using static Syscalls.Linux.LibC;

namespace Syscalls.Bindings.Tests.Calls;

/// <summary>
/// io_uring_setup/enter through syscall(2) with the target's numbers: a small ring is set up, one NOP goes through
/// it (which exercises io_uring_params, the ring offsets, io_uring_sqe and io_uring_cqe layouts), and it is closed.
/// Where io_uring is unavailable (ENOSYS under qemu or seccomp, EPERM from io_uring_disabled) the test says so and skips.
/// </summary>
// unsafe: the bindings take pointers; every one here is to a local, stackalloc or pinned object that outlives the call.
[SupportedOSPlatform("linux")]
public sealed unsafe class IoUringCallTests
{
    private const int ENOSYS = 38;
    private const int EPERM = 1;

    private static int Setup(uint entries, io_uring_params* p)
    {
        int fd = io_uring_setup(entries, p);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            Assert.SkipWhen(errno is ENOSYS or EPERM, $"io_uring is not available here (errno {errno})");
            Assert.Fail($"io_uring_setup failed, errno {errno}");
        }
        return fd;
    }

    [Fact]
    public void IoUringSetup_SmallRing_ReturnsFdAndSizes()
    {
        Native.RequireLinux();
        var p = new io_uring_params();
        int fd = Setup(4, &p);
        try
        {
            Assert.Equal(4u, p.sq_entries);
            Assert.True(p.cq_entries >= 4, $"cq_entries {p.cq_entries}");
            Assert.True(p.sq_off.array > 0 && p.cq_off.cqes > 0, "ring offsets not filled in");
        }
        finally
        {
            Assert.Equal(0, close(fd));
        }
    }

    [Fact]
    public void IoUringEnter_OneNop_CompletesWithItsUserData()
    {
        Native.RequireLinux();
        var p = new io_uring_params();
        int fd = Setup(4, &p);
        void* sq = null, cq = null, sqes = null;
        nuint sqSize = p.sq_off.array + p.sq_entries * sizeof(uint);
        nuint cqSize = p.cq_off.cqes + p.cq_entries * (nuint)sizeof(io_uring_cqe);
        nuint sqesSize = p.sq_entries * (nuint)sizeof(io_uring_sqe);
        try
        {
            Assert.Equal(64, sizeof(io_uring_sqe));
            sq = Map(fd, sqSize, IORING_OFF_SQ_RING);
            cq = Map(fd, cqSize, IORING_OFF_CQ_RING);
            sqes = Map(fd, sqesSize, IORING_OFF_SQES);

            uint* sqTail = (uint*)((byte*)sq + p.sq_off.tail);
            uint sqMask = *(uint*)((byte*)sq + p.sq_off.ring_mask);
            uint* sqArray = (uint*)((byte*)sq + p.sq_off.array);
            uint tail = Volatile.Read(ref *sqTail);
            uint index = tail & sqMask;
            var sqe = (io_uring_sqe*)sqes + index;
            *sqe = default;
            sqe->opcode = (byte)IORING_OP_NOP;
            sqe->user_data = 0xC0FFEE_0000_0001UL;
            sqArray[index] = index;
            Volatile.Write(ref *sqTail, tail + 1); // store-release: the kernel reads the SQE after seeing the tail

            int submitted = io_uring_enter(fd, 1, 1, IORING_ENTER_GETEVENTS, null, 0);
            Assert.True(submitted == 1, $"io_uring_enter returned {submitted}, errno {Marshal.GetLastPInvokeError()}");

            uint* cqHead = (uint*)((byte*)cq + p.cq_off.head);
            uint* cqTail = (uint*)((byte*)cq + p.cq_off.tail);
            uint cqMask = *(uint*)((byte*)cq + p.cq_off.ring_mask);
            uint head = Volatile.Read(ref *cqHead);
            Assert.Equal(head + 1, Volatile.Read(ref *cqTail)); // load-acquire of what the kernel wrote
            var cqe = (io_uring_cqe*)((byte*)cq + p.cq_off.cqes) + (head & cqMask);
            Assert.Equal(0xC0FFEE_0000_0001UL, cqe->user_data);
            Assert.Equal(0, cqe->res);
            Volatile.Write(ref *cqHead, head + 1);
        }
        finally
        {
            Unmap(sqes, sqesSize);
            Unmap(cq, cqSize);
            Unmap(sq, sqSize);
            close(fd);
        }
    }

    [Fact]
    public void IoUringSetup_ZeroEntries_ErrnoIsEinval()
    {
        Native.RequireLinux();
        var p = new io_uring_params();
        int fd = io_uring_setup(0, &p);
        int errno = Marshal.GetLastPInvokeError();
        Assert.SkipWhen(fd < 0 && errno is ENOSYS or EPERM, $"io_uring is not available here (errno {errno})");
        Assert.Equal(-1, fd);
        Assert.Equal(22, errno); // EINVAL: the syscall wrapper reports errno like a libc wrapper
    }

    private static void* Map(int fd, nuint size, ulong offset)
    {
        void* at = mmap(null, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, (long)offset);
        Assert.True(at != (void*)-1, $"mmap failed, errno {Marshal.GetLastPInvokeError()}");
        return at;
    }

    private static void Unmap(void* at, nuint size)
    {
        if (at is not null && at != (void*)-1)
        {
            munmap(at, size);
        }
    }
}
