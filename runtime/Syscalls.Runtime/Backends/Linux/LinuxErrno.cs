using System.Runtime.InteropServices;
using static Syscalls.Linux.LibC;

// CA1416: the Linux errno constants are compile-time numbers; using them off Linux reads no native state. The
// emulated ring reports io_uring's (Linux) error numbers on every OS, and they are classified here.
#pragma warning disable CA1416

namespace Syscalls.Runtime.Backends.Linux;

/// <summary>errno to <see cref="OsError"/>: the one place that knows Linux error numbers. Pure classification, so
/// usable on every OS: the emulated ring reports io_uring's (Linux) numbers wherever it runs.</summary>
internal static class LinuxErrno
{
    /// <summary>The errno of the last P/Invoke, classified. Call right after the failing call.</summary>
    internal static OsError Last() => ToError(Marshal.GetLastPInvokeError());

    internal static OsError ToError(int errno) => new(Classify(errno), errno);

    internal static ErrorKind Classify(int errno)
    {
        // EWOULDBLOCK == EAGAIN and EOPNOTSUPP == ENOTSUP on Linux, so only one of each pair can be a case label.
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
            ENOSYS or EOPNOTSUPP or EPROTONOSUPPORT or EAFNOSUPPORT => ErrorKind.NotSupported,
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
