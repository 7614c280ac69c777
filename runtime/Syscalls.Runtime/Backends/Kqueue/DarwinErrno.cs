using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using static Syscalls.Darwin.LibC;

namespace Syscalls.Runtime.Backends.Kqueue;

/// <summary>errno to <see cref="OsError"/> on macOS: the numbers are BSD's, not Linux's (EAGAIN is 35, EINPROGRESS 36,
/// ECONNRESET 54), so the Linux table must never classify a Darwin errno.</summary>
[SupportedOSPlatform("macos")]
internal static class DarwinErrno
{
    /// <summary>The errno of the last P/Invoke, classified. Call right after the failing call.</summary>
    internal static OsError Last() => ToError(Marshal.GetLastPInvokeError());

    internal static OsError ToError(int errno) => new(Classify(errno), errno);

    internal static ErrorKind Classify(int errno)
    {
        // EWOULDBLOCK == EAGAIN on Darwin (one case label); ENOTSUP (45) and EOPNOTSUPP (102) differ, unlike Linux.
        return errno switch
        {
            0 => ErrorKind.None,
            EAGAIN => ErrorKind.WouldBlock,
            EINTR => ErrorKind.Interrupted,
            EINPROGRESS or EALREADY => ErrorKind.InProgress,
            ECONNRESET => ErrorKind.ConnectionReset,
            ECONNREFUSED => ErrorKind.ConnectionRefused,
            ECONNABORTED => ErrorKind.ConnectionAborted,
            EPIPE => ErrorKind.BrokenPipe,
            ENOTCONN => ErrorKind.NotConnected,
            EMFILE or ENFILE => ErrorKind.TooManyOpenFiles,
            ENOMEM or ENOBUFS => ErrorKind.OutOfMemory,
            ETIMEDOUT or ETIME => ErrorKind.TimedOut,
            ECANCELED => ErrorKind.Canceled,
            ENOSYS or ENOTSUP or EOPNOTSUPP or EPROTONOSUPPORT or EAFNOSUPPORT => ErrorKind.NotSupported,
            EPERM or EACCES => ErrorKind.PermissionDenied,
            EADDRINUSE => ErrorKind.AddressInUse,
            EADDRNOTAVAIL => ErrorKind.AddressNotAvailable,
            EINVAL => ErrorKind.InvalidArgument,
            EBADF => ErrorKind.BadDescriptor,
            EEXIST => ErrorKind.AlreadyExists,
            ENOENT => ErrorKind.NotFound,
            ENETUNREACH or EHOSTUNREACH => ErrorKind.Unreachable,
            EMSGSIZE => ErrorKind.MessageTooLong,
            _ => ErrorKind.Other,
        };
    }
}
