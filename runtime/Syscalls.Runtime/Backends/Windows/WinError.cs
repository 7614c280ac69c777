using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using static Syscalls.Windows.Kernel32;
using static Syscalls.Windows.Ws2_32;

namespace Syscalls.Runtime.Backends.Windows;

/// <summary>Winsock and Win32 error numbers to <see cref="OsError"/>: the one place that knows Windows error codes.
/// Both number spaces meet here because a socket call reports WSAE* while a completion packet reports the Win32 code
/// the kernel's NTSTATUS became (ERROR_NETNAME_DELETED for a reset, ERROR_OPERATION_ABORTED for a cancel).</summary>
[SupportedOSPlatform("windows")]
internal static class WinError
{
    /// <summary>The error of the last P/Invoke (GetLastError, which WSAGetLastError reads too), classified.</summary>
    internal static OsError Last() => ToError(Marshal.GetLastPInvokeError());

    /// <summary>The thread's error after a call through a function pointer (AcceptEx, ConnectEx): those calls are
    /// not marshalled, so the error is read from the thread at once.</summary>
    internal static OsError LastSystem() => ToError(Marshal.GetLastSystemError());

    internal static OsError ToError(int code) => new(Classify(code), code);

    internal static ErrorKind Classify(int code) => code switch
    {
        0 => ErrorKind.None,
        WSAEWOULDBLOCK => ErrorKind.WouldBlock,
        WSAEINTR => ErrorKind.Interrupted,
        WSAEINPROGRESS or WSAEALREADY => ErrorKind.InProgress,
        WSAECONNRESET or WSAENETRESET or ERROR_NETNAME_DELETED => ErrorKind.ConnectionReset,
        WSAECONNREFUSED or ERROR_CONNECTION_REFUSED => ErrorKind.ConnectionRefused,
        WSAECONNABORTED or ERROR_CONNECTION_ABORTED => ErrorKind.ConnectionAborted,
        // A send after shutdown(SD_SEND) is WSAESHUTDOWN: the Windows spelling of EPIPE (there is no SIGPIPE here).
        WSAESHUTDOWN => ErrorKind.BrokenPipe,
        WSAENOTCONN or WSAEDISCON => ErrorKind.NotConnected,
        WSAEMFILE => ErrorKind.TooManyOpenFiles,
        WSAENOBUFS => ErrorKind.OutOfMemory,
        WSAETIMEDOUT or WAIT_TIMEOUT => ErrorKind.TimedOut,
        // WSA_OPERATION_ABORTED == ERROR_OPERATION_ABORTED (995): CancelIoEx, or the socket closed under the operation.
        ERROR_OPERATION_ABORTED => ErrorKind.Canceled,
        WSAEOPNOTSUPP or WSAEAFNOSUPPORT => ErrorKind.NotSupported,
        WSAEACCES => ErrorKind.PermissionDenied,
        WSAEADDRINUSE => ErrorKind.AddressInUse,
        WSAEADDRNOTAVAIL => ErrorKind.AddressNotAvailable,
        WSAEINVAL or ERROR_INVALID_PARAMETER => ErrorKind.InvalidArgument,
        WSAENOTSOCK or WSAEBADF or ERROR_INVALID_HANDLE => ErrorKind.BadDescriptor,
        ERROR_NOT_FOUND => ErrorKind.NotFound,
        WSAENETUNREACH or WSAEHOSTUNREACH => ErrorKind.Unreachable,
        WSAEMSGSIZE => ErrorKind.MessageTooLong,
        _ => ErrorKind.Other,
    };
}
