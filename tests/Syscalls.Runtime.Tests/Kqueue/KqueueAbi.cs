using System.Collections.Generic;
using System.Linq;

namespace Syscalls.Runtime.Tests.Kqueue;

/// <summary>Every macOS struct, field, constant and function the kqueue backend (Backends/Kqueue) touches, with the
/// layout and value of the macOS 13 SDK for both osx-x64 and osx-arm64 (identical on the two: LP64, no packing).
/// kqueue never executes on this Linux host, so this table is its proof: the tests check it against the SDK headers
/// (zig cc), the checked-in facts, the osx-x64/osx-arm64 bindings assemblies, and the backend's own IL.</summary>
internal static class KqueueAbi
{
    internal sealed record Field(string Name, int Offset, int Size, string FactsType, string? Managed);

    internal sealed record Record(string Name, int Size, int Align, Field[] Fields);

    internal static readonly Record[] Records =
    [
        // struct kevent: 32 bytes on 64-bit macOS (FreeBSD 12+ adds ext[4]; macOS does not), and declared under
        // #pragma pack(4): alignment 4, not 8. The offsets are natural on LP64, so only embedding it would differ.
        new("kevent", 32, 4,
        [
            new("ident", 0, 8, "u64", "nuint"),      // uintptr_t
            new("filter", 8, 2, "i16", "short"),
            new("flags", 10, 2, "u16", "ushort"),
            new("fflags", 12, 4, "u32", "uint"),
            new("data", 16, 8, "i64", "nint"),        // intptr_t
            new("udata", 24, 8, "*void", "void*"),
        ]),
        // struct kevent64_s: 48 bytes; not used by the backend, checked so a swap of the two cannot go unnoticed.
        new("kevent64_s", 48, 8,
        [
            new("ident", 0, 8, "u64", "ulong"),
            new("filter", 8, 2, "i16", "short"),
            new("flags", 10, 2, "u16", "ushort"),
            new("fflags", 12, 4, "u32", "uint"),
            new("data", 16, 8, "i64", "long"),
            new("udata", 24, 8, "u64", "ulong"),
            new("ext", 32, 16, "[2]u64", null),       // fixed buffer
        ]),
        new("timespec", 16, 8,
        [
            new("tv_sec", 0, 8, "i64", "long"),
            new("tv_nsec", 8, 8, "i64", "long"),
        ]),
        // The socket layer (Backends/Kqueue/DarwinSockets): BSD sockaddrs lead with a length byte and a one-byte family.
        new("sockaddr", 16, 1,
        [
            new("sa_len", 0, 1, "u8", "byte"),
            new("sa_family", 1, 1, "u8", "byte"),
            new("sa_data", 2, 14, "[14]i8", null),
        ]),
        new("sockaddr_in", 16, 4,
        [
            new("sin_len", 0, 1, "u8", "byte"),
            new("sin_family", 1, 1, "u8", "byte"),
            new("sin_port", 2, 2, "u16", "ushort"),
            new("sin_addr", 4, 4, "struct:in_addr", null),
            new("sin_zero", 8, 8, "[8]i8", null),
        ]),
        new("sockaddr_in6", 28, 4,
        [
            new("sin6_len", 0, 1, "u8", "byte"),
            new("sin6_family", 1, 1, "u8", "byte"),
            new("sin6_port", 2, 2, "u16", "ushort"),
            new("sin6_flowinfo", 4, 4, "u32", "uint"),
            new("sin6_addr", 8, 16, "struct:in6_addr", null),
            new("sin6_scope_id", 24, 4, "u32", "uint"),
        ]),
        new("in_addr", 4, 4,
        [
            new("s_addr", 0, 4, "u32", "uint"),
        ]),
        new("in6_addr", 16, 4,
        [
            new("__u6_addr", 0, 16, "union:in6_addr____u6_addr", null),
        ]),
        new("linger", 8, 4,
        [
            new("l_onoff", 0, 4, "i32", "int"),
            new("l_linger", 4, 4, "i32", "int"),
        ]),
        // recvmsg for datagrams (DarwinSockets.RecvFrom): msg_flags tells a cut datagram (MSG_TRUNC).
        new("iovec", 16, 8,
        [
            new("iov_base", 0, 8, "*void", "void*"),
            new("iov_len", 8, 8, "u64", "nuint"),      // size_t
        ]),
        new("msghdr", 48, 8,
        [
            new("msg_name", 0, 8, "*void", "void*"),
            new("msg_namelen", 8, 4, "u32", "uint"),   // socklen_t
            new("msg_iov", 16, 8, "*struct:iovec", "Syscalls.Darwin.iovec*"),
            new("msg_iovlen", 24, 4, "i32", "int"),
            new("msg_control", 32, 8, "*void", "void*"),
            new("msg_controllen", 40, 4, "u32", "uint"),
            new("msg_flags", 44, 4, "i32", "int"),
        ]),
    ];

    /// <summary>Constants with their macOS values (same on x64 and arm64).</summary>
    internal static readonly Dictionary<string, long> Constants = new()
    {
        // sys/event.h
        ["EVFILT_READ"] = -1, ["EVFILT_WRITE"] = -2, ["EVFILT_USER"] = -10,
        ["EV_ADD"] = 0x1, ["EV_DELETE"] = 0x2, ["EV_ENABLE"] = 0x4, ["EV_DISABLE"] = 0x8, ["EV_ONESHOT"] = 0x10,
        ["EV_CLEAR"] = 0x20, ["EV_RECEIPT"] = 0x40, ["EV_DISPATCH"] = 0x80, ["EV_ERROR"] = 0x4000, ["EV_EOF"] = 0x8000,
        ["NOTE_TRIGGER"] = 0x01000000,
        // sys/socket.h, fcntl.h
        ["SOL_SOCKET"] = 0xffff, ["SO_NOSIGPIPE"] = 0x1022,
        ["SO_REUSEADDR"] = 0x4, ["SO_SNDBUF"] = 0x1001, ["SO_RCVBUF"] = 0x1002, ["SO_ERROR"] = 0x1007, ["SO_LINGER"] = 0x80,
        ["AF_INET"] = 2, ["AF_INET6"] = 30, ["SOCK_STREAM"] = 1, ["SOCK_DGRAM"] = 2,
        ["SHUT_RD"] = 0, ["SHUT_WR"] = 1, ["SHUT_RDWR"] = 2, ["MSG_TRUNC"] = 0x10,
        // netinet/in.h, netinet/tcp.h
        ["IPPROTO_TCP"] = 6, ["TCP_NODELAY"] = 1,
        ["F_GETFD"] = 1, ["F_SETFD"] = 2, ["F_GETFL"] = 3, ["F_SETFL"] = 4, ["FD_CLOEXEC"] = 1, ["O_NONBLOCK"] = 4,
        // errno.h (DarwinErrno): BSD numbers, not Linux's
        ["EPERM"] = 1, ["ENOENT"] = 2, ["EINTR"] = 4, ["EBADF"] = 9, ["ENOMEM"] = 12, ["EACCES"] = 13, ["EEXIST"] = 17,
        ["EINVAL"] = 22, ["ENFILE"] = 23, ["EMFILE"] = 24, ["EPIPE"] = 32, ["EAGAIN"] = 35, ["EINPROGRESS"] = 36,
        ["EALREADY"] = 37, ["EMSGSIZE"] = 40, ["EPROTONOSUPPORT"] = 43, ["ENOTSUP"] = 45, ["EAFNOSUPPORT"] = 47,
        ["EADDRINUSE"] = 48, ["EADDRNOTAVAIL"] = 49, ["ENETUNREACH"] = 51, ["ECONNABORTED"] = 53, ["ECONNRESET"] = 54,
        ["ENOBUFS"] = 55, ["ENOTCONN"] = 57, ["ETIMEDOUT"] = 60, ["ECONNREFUSED"] = 61, ["EHOSTUNREACH"] = 65,
        ["ENOSYS"] = 78, ["ECANCELED"] = 89, ["ETIME"] = 101, ["EOPNOTSUPP"] = 102,
    };

    /// <summary>The Syscalls.Darwin.LibC methods the backend calls, as their managed signatures.</summary>
    internal static readonly Dictionary<string, string[]> Functions = new()
    {
        ["kqueue"] = ["int()"],
        ["kevent"] = ["int(int,Syscalls.Darwin.kevent*,int,Syscalls.Darwin.kevent*,int,Syscalls.Darwin.timespec*)"],
        // Variadic: the two-argument overload and the one with one nint variadic argument (padded on osx-arm64).
        ["fcntl"] = ["int(int,int)", "int(int,int,nint)"],
        ["setsockopt"] = ["int(int,int,int,void*,uint)"],
        ["getsockopt"] = ["int(int,int,int,void*,uint*)"],
        ["close"] = ["int(int)"],
        // The socket layer (Backends/Kqueue/DarwinSockets).
        ["socket"] = ["int(int,int,int)"],
        ["accept"] = ["int(int,Syscalls.Darwin.sockaddr*,uint*)"],
        ["bind"] = ["int(int,Syscalls.Darwin.sockaddr*,uint)"],
        ["connect"] = ["int(int,Syscalls.Darwin.sockaddr*,uint)"],
        ["listen"] = ["int(int,int)"],
        ["recv"] = ["nint(int,void*,nuint,int)"],
        ["send"] = ["nint(int,void*,nuint,int)"],
        ["sendto"] = ["nint(int,void*,nuint,int,Syscalls.Darwin.sockaddr*,uint)"],
        ["recvmsg"] = ["nint(int,Syscalls.Darwin.msghdr*,int)"],
        ["shutdown"] = ["int(int,int)"],
        ["getsockname"] = ["int(int,Syscalls.Darwin.sockaddr*,uint*)"],
        ["getpeername"] = ["int(int,Syscalls.Darwin.sockaddr*,uint*)"],
    };

    internal static Record RecordNamed(string name) => Records.Single(r => r.Name == name);

    /// <summary>C source whose compilation for a macOS target proves every entry of this table against the SDK headers.</summary>
    internal static string StaticAssertSource()
    {
        var lines = new List<string>
        {
            "#include <sys/types.h>", "#include <sys/event.h>", "#include <sys/time.h>", "#include <sys/socket.h>",
            "#include <fcntl.h>", "#include <errno.h>", "#include <stddef.h>", "#include <netinet/in.h>", "#include <netinet/tcp.h>",
        };
        foreach (Record r in Records)
        {
            lines.Add($"_Static_assert(sizeof(struct {r.Name}) == {r.Size}, \"sizeof {r.Name}\");");
            lines.Add($"_Static_assert(_Alignof(struct {r.Name}) == {r.Align}, \"alignof {r.Name}\");");
            foreach (Field f in r.Fields)
            {
                lines.Add($"_Static_assert(offsetof(struct {r.Name}, {f.Name}) == {f.Offset}, \"offsetof {r.Name}.{f.Name}\");");
                lines.Add($"_Static_assert(sizeof(((struct {r.Name} *)0)->{f.Name}) == {f.Size}, \"sizeof {r.Name}.{f.Name}\");");
            }
        }

        foreach (var (name, value) in Constants)
            lines.Add($"_Static_assert((long long)({name}) == {value}LL, \"{name}\");");
        return string.Join('\n', lines) + '\n';
    }
}
