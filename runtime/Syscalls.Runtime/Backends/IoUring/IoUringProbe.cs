using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Syscalls.Linux;
using Syscalls.Runtime.Backends.IoUring;
using Syscalls.Runtime.Backends.Linux;
using static Syscalls.Linux.LibC;

namespace Syscalls.Runtime
{
    public static partial class BackendSelector
    {
        static partial void GetIoUringProvider(ref IRingProvider? provider)
        {
            if (OperatingSystem.IsLinux())
                provider = IoUringProvider.Instance;
        }
    }
}

namespace Syscalls.Runtime.Backends.IoUring
{
    /// <summary>What this kernel's io_uring can do, found once per process on a throw-away ring: setup (and the errno
    /// that refused it: ENOSYS, EPERM from io_uring_disabled or seccomp, ENOMEM), the setup flags it took, the opcodes
    /// IORING_REGISTER_PROBE lists, provided-buffer rings, multishot accept and multishot receive.</summary>
    [SupportedOSPlatform("linux")]
    internal sealed class IoUringProbe
    {
        /// <summary>The opcodes every io_uring ring of this runtime needs (POLL_ADD: the cross-thread waker).</summary>
        internal static readonly (uint Op, string Name)[] Required =
        [
            (IORING_OP_NOP, "NOP"), (IORING_OP_ACCEPT, "ACCEPT"), (IORING_OP_CONNECT, "CONNECT"), (IORING_OP_RECV, "RECV"),
            (IORING_OP_SEND, "SEND"), (IORING_OP_READ, "READ"), (IORING_OP_WRITE, "WRITE"), (IORING_OP_CLOSE, "CLOSE"),
            (IORING_OP_TIMEOUT, "TIMEOUT"), (IORING_OP_ASYNC_CANCEL, "ASYNC_CANCEL"), (IORING_OP_POLL_ADD, "POLL_ADD"),
        ];

        private static readonly object s_gate = new();
        private static IoUringProbe? s_cached;

        private readonly bool[] _ops = new bool[256];

        private IoUringProbe()
        {
        }

        internal OsError SetupError { get; private set; }

        internal uint SetupFlags { get; private set; }

        internal uint KernelFeatures { get; private set; }

        internal bool BufferRings { get; private set; }

        internal bool MultishotAccept { get; private set; }

        internal bool MultishotRecv { get; private set; }

        /// <summary>ASYNC_CANCEL takes IORING_ASYNC_CANCEL_FD | ALL (5.19): the close path cancels everything in flight
        /// on a descriptor with one SQE; without it, one cancel per operation, by id.</summary>
        internal bool CancelByFd { get; private set; }

        internal bool Available => SetupError.IsNone;

        /// <summary>The cached probe of this process (<paramref name="refresh"/>: probe again).</summary>
        internal static IoUringProbe Get(bool refresh = false)
        {
            lock (s_gate)
            {
                if (s_cached is null || refresh)
                    s_cached = Run();
                return s_cached;
            }
        }

        internal bool Supports(uint opcode) => opcode < 256 && _ops[opcode];

        internal string MissingOpcodes()
        {
            var missing = new List<string>();
            foreach (var (op, name) in Required)
            {
                if (!Supports(op))
                    missing.Add(name);
            }

            return string.Join(',', missing);
        }

        internal RingFeatures Features
            => RingFeatures.KernelCompletion
               | (MultishotAccept ? RingFeatures.MultishotAccept : 0)
               | (MultishotRecv && BufferRings ? RingFeatures.MultishotRecv : 0)
               | (BufferRings ? RingFeatures.ProvidedBuffers : 0);

        /// <summary>One line per fact; an unavailable line makes the selector fall back.</summary>
        internal IReadOnlyList<BackendProbe> Report(RingOptions options)
        {
            const BackendKind K = BackendKind.IoUring;
            var lines = new List<BackendProbe>();
            if (!Available)
            {
                string why = SetupError.Code switch
                {
                    ENOSYS => "kernel without io_uring (or a seccomp filter answering ENOSYS)",
                    EPERM => "refused: kernel.io_uring_disabled, a seccomp filter, or a container policy",
                    ENOMEM => "out of memory or locked-memory limit",
                    _ => "",
                };
                lines.Add(new BackendProbe(K, "setup", false, SetupError, why));
                return lines;
            }

            lines.Add(new BackendProbe(K, "setup", true, default, string.Format(CultureInfo.InvariantCulture,
                "flags=0x{0:x} features=0x{1:x}", SetupFlags, KernelFeatures)));
            string missing = MissingOpcodes();
            lines.Add(new BackendProbe(K, "opcodes", missing.Length == 0,
                missing.Length == 0 ? default : OsError.FromKind(ErrorKind.NotSupported),
                missing.Length == 0 ? "all required" : "missing " + missing));
            // Datagram sockets need these; nothing else does, so their absence is a fact, not a reason to fall back.
            bool datagrams = Supports(IORING_OP_RECVMSG) && Supports(IORING_OP_SENDMSG);
            lines.Add(new BackendProbe(K, "datagram-opcodes", true, datagrams ? default : OsError.FromKind(ErrorKind.NotSupported),
                datagrams ? "RECVMSG,SENDMSG" : "missing RECVMSG/SENDMSG: no ReceiveFrom/SendTo (not required)"));
            AddFeature(lines, options, RingFeatures.ProvidedBuffers, "provided-buffer-ring");
            AddFeature(lines, options, RingFeatures.MultishotAccept, "multishot-accept");
            AddFeature(lines, options, RingFeatures.MultishotRecv, "multishot-recv");
            // A fact, never a reason to fall back: without it a close cancels operation by operation.
            lines.Add(new BackendProbe(K, "cancel-by-fd", true, default, CancelByFd ? "" : "missing (a close cancels each operation by id)"));
            return lines;
        }

        private void AddFeature(List<BackendProbe> lines, RingOptions options, RingFeatures feature, string name)
        {
            bool has = (Features & feature) != 0;
            bool required = (options.RequiredFeatures & feature) != 0;
            // A feature nobody asked for is reported as a fact, never as a reason to fall back.
            lines.Add(new BackendProbe(BackendKind.IoUring, name, has || !required,
                has ? default : OsError.FromKind(ErrorKind.NotSupported), has ? "" : required ? "missing" : "missing (not required)"));
        }

        private static IoUringProbe Run()
        {
            var probe = new IoUringProbe();
            Result<IoUringQueues> created;
            try
            {
                created = IoUringQueues.Create(8, 16);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                probe.SetupError = OsError.FromKind(ErrorKind.NotSupported);
                return probe;
            }

            if (!created.TryGetValue(out IoUringQueues? q))
            {
                probe.SetupError = created.Error;
                return probe;
            }

            using (q)
            {
                probe.SetupFlags = q.Flags;
                probe.KernelFeatures = q.Features;
                probe.ReadOpcodes(q.Fd);
                probe.BufferRings = ProbeBufferRing(q.Fd);
                if (q.EnsureEnabled().IsSuccess)
                {
                    probe.ProbeMultishot(q);
                    probe.ProbeCancelByFd(q);
                }
            }

            return probe;
        }

        // reason: the probe block is allocated, filled by the kernel, read within its size and freed all inside this call
        private unsafe void ReadOpcodes(int ringFd)
        {
            const int Max = 256;
            nuint size = (nuint)(sizeof(io_uring_probe) + Max * sizeof(io_uring_probe_op));
            // reason: a zeroed native block the kernel fills during the call, freed right after
            byte* block = (byte*)NativeMemory.AllocZeroed(size);
            try
            {
                if (io_uring_register(ringFd, IORING_REGISTER_PROBE, block, Max) < 0)
                    return;   // before 5.6: no probe, and none of the opcodes this runtime needs are certain
                var header = (io_uring_probe*)block;
                // ops[] is a flexible array member right after the header.
                var ops = (io_uring_probe_op*)(block + sizeof(io_uring_probe));
                for (int i = 0; i < header->ops_len && i < Max; i++)
                {
                    if ((ops[i].flags & IO_URING_OP_SUPPORTED) != 0)
                        _ops[ops[i].op] = true;
                }
            }
            finally
            {
                NativeMemory.Free(block);
            }
        }

        // reason: a one-page anonymous mapping registered and unregistered again before it is unmapped, all in this call
        private static unsafe bool ProbeBufferRing(int ringFd)
        {
            nuint bytes = (nuint)Environment.SystemPageSize;
            void* ring = mmap(null, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (ring == (void*)-1)
                return false;
            io_uring_buf_reg reg = default;
            reg.ring_addr = (ulong)ring;
            reg.ring_entries = 1;
            reg.bgid = 0xFFFF;
            // reason: &reg is a stack local the kernel copies; the mapping outlives the registration
            bool ok = io_uring_register(ringFd, IORING_REGISTER_PBUF_RING, &reg, 1) == 0;
            if (ok)
                io_uring_register(ringFd, IORING_UNREGISTER_PBUF_RING, &reg, 1);
            munmap(ring, bytes);
            return ok;
        }

        /// <summary>Multishot accept (5.19) and receive (6.0) flags are checked when the SQE is prepared, before the
        /// descriptor is looked up: on descriptor -1 a kernel that knows the flag fails with EBADF, one that does not
        /// with EINVAL.</summary>
        // reason: q is mapped for the caller's using, owned by this thread, and has 8 unused SQEs (0 and 1 written here)
        private unsafe void ProbeMultishot(IoUringQueues q)
        {
            if (!Supports(IORING_OP_ACCEPT) || !Supports(IORING_OP_RECV))
                return;
            io_uring_sqe* accept = &q.Sqes[0];
            *accept = default;
            accept->opcode = (byte)IORING_OP_ACCEPT;
            accept->fd = -1;
            accept->ioprio = (ushort)IORING_ACCEPT_MULTISHOT;
            accept->user_data = 1;
            io_uring_sqe* recv = &q.Sqes[1];
            *recv = default;
            recv->opcode = (byte)IORING_OP_RECV;
            recv->fd = -1;
            recv->ioprio = (ushort)IORING_RECV_MULTISHOT;
            recv->flags = (byte)IOSQE_BUFFER_SELECT;
            recv->buf_group = 0xFFFF;
            recv->user_data = 2;
            System.Threading.Volatile.Write(ref *q.SqTail, 2u);
            Result<int> entered;
            do
            {
                entered = q.Enter(2, 2, IORING_ENTER_GETEVENTS);
            }
            while (entered.Error.Kind == ErrorKind.Interrupted);
            if (!entered.IsSuccess)
                return;
            uint head = *q.CqHead;
            uint tail = System.Threading.Volatile.Read(ref *q.CqTail);
            for (; head != tail; head++)
            {
                io_uring_cqe* cqe = &q.Cqes[head & q.CqMask];
                bool known = cqe->res != -EINVAL;
                if (cqe->user_data == 1)
                    MultishotAccept = known;
                else if (cqe->user_data == 2)
                    MultishotRecv = known;
            }

            System.Threading.Volatile.Write(ref *q.CqHead, head);
        }

        /// <summary>IORING_ASYNC_CANCEL_FD | ALL (5.19): a kernel that does not know the flags refuses the SQE with
        /// EINVAL; one that does looks for requests on the descriptor (the ring's own here) and finds none (ENOENT).</summary>
        // reason: q is mapped for the caller's using, owned by this thread, and its earlier SQEs were all consumed
        private unsafe void ProbeCancelByFd(IoUringQueues q)
        {
            if (!Supports(IORING_OP_ASYNC_CANCEL))
                return;
            uint tail = *q.SqTail;
            io_uring_sqe* sqe = &q.Sqes[tail & q.SqMask];
            *sqe = default;
            sqe->opcode = (byte)IORING_OP_ASYNC_CANCEL;
            sqe->fd = q.Fd;
            sqe->cancel_flags = IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL;
            sqe->user_data = 3;
            System.Threading.Volatile.Write(ref *q.SqTail, tail + 1);
            Result<int> entered;
            do
            {
                entered = q.Enter(1, 1, IORING_ENTER_GETEVENTS);
            }
            while (entered.Error.Kind == ErrorKind.Interrupted);
            if (!entered.IsSuccess)
                return;
            uint head = *q.CqHead;
            uint cqTail = System.Threading.Volatile.Read(ref *q.CqTail);
            for (; head != cqTail; head++)
            {
                io_uring_cqe* cqe = &q.Cqes[head & q.CqMask];
                if (cqe->user_data == 3)
                    CancelByFd = cqe->res != -EINVAL;
            }

            System.Threading.Volatile.Write(ref *q.CqHead, head);
        }
    }

    /// <summary>The io_uring backend as the selector sees it.</summary>
    [SupportedOSPlatform("linux")]
    internal sealed class IoUringProvider : IRingProvider
    {
        internal static readonly IoUringProvider Instance = new();

        public BackendKind Kind => BackendKind.IoUring;

        public IReadOnlyList<BackendProbe> Probe(RingOptions options) => IoUringProbe.Get().Report(options);

        public Result<IRing> Create(RingOptions options)
        {
            Result<IoUringRing> ring = IoUringRing.Create(options, IoUringProbe.Get());
            return ring.TryGetValue(out IoUringRing? r) ? r : ring.Error;
        }
    }
}
