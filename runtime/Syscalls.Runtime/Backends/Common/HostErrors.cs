using System;
using Syscalls.Runtime.Backends.Kqueue;
using Syscalls.Runtime.Backends.Linux;
using Syscalls.Runtime.Backends.Windows;
using DarwinC = Syscalls.Darwin.LibC;
using LinuxC = Syscalls.Linux.LibC;
using WinK = Syscalls.Windows.Kernel32;
using WinS = Syscalls.Windows.Ws2_32;

namespace Syscalls.Runtime.Backends.Common;

/// <summary>The errors the runtime reports on its own (an emulated completion, a server's decision) with the number
/// the OS at hand uses for them, so that <see cref="OsError.Code"/> and its message are this OS's: ECANCELED is 125
/// on Linux, 89 on macOS, and ERROR_OPERATION_ABORTED (995) on Windows. Compare with these values, never with one
/// OS's constants.</summary>
internal static class HostErrors
{
    /// <summary>The operation was canceled: ECANCELED, ERROR_OPERATION_ABORTED.</summary>
    internal static readonly OsError Canceled;

    /// <summary>No buffer to receive into (a provided-buffer group ran dry): ENOBUFS, WSAENOBUFS.</summary>
    internal static readonly OsError NoBuffers;

    /// <summary>Nothing matched (a cancel found no operation): ENOENT, ERROR_NOT_FOUND.</summary>
    internal static readonly OsError NotFound;

    /// <summary>A timer expired: ETIME (io_uring's timeout result), WAIT_TIMEOUT.</summary>
    internal static readonly OsError TimerExpired;

#pragma warning disable CA1810 // one OS check for all four, instead of four field initialisers that repeat it
    static HostErrors()
#pragma warning restore CA1810
    {
        if (OperatingSystem.IsLinux())
        {
            Canceled = LinuxErrno.ToError(LinuxC.ECANCELED);
            NoBuffers = LinuxErrno.ToError(LinuxC.ENOBUFS);
            NotFound = LinuxErrno.ToError(LinuxC.ENOENT);
            TimerExpired = LinuxErrno.ToError(LinuxC.ETIME);
        }
        else if (OperatingSystem.IsMacOS())
        {
            Canceled = DarwinErrno.ToError(DarwinC.ECANCELED);
            NoBuffers = DarwinErrno.ToError(DarwinC.ENOBUFS);
            NotFound = DarwinErrno.ToError(DarwinC.ENOENT);
            TimerExpired = DarwinErrno.ToError(DarwinC.ETIME);
        }
        else if (OperatingSystem.IsWindows())
        {
            Canceled = WinError.ToError(WinK.ERROR_OPERATION_ABORTED);
            NoBuffers = WinError.ToError(WinS.WSAENOBUFS);
            NotFound = WinError.ToError(WinK.ERROR_NOT_FOUND);
            TimerExpired = WinError.ToError(WinK.WAIT_TIMEOUT);
        }
        else
        {
            Canceled = OsError.FromKind(ErrorKind.Canceled);
            NoBuffers = OsError.FromKind(ErrorKind.OutOfMemory);
            NotFound = OsError.FromKind(ErrorKind.NotFound);
            TimerExpired = OsError.FromKind(ErrorKind.TimedOut);
        }
    }
}
