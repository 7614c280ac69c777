using System;
using System.IO;
using System.Runtime.InteropServices;

namespace Syscalls.Runtime;

/// <summary>Portable classification of an operating-system error; the native number stays in <see cref="OsError.Code"/>.</summary>
public enum ErrorKind
{
    /// <summary>No error.</summary>
    None = 0,
    /// <summary>The operation would block (EAGAIN/EWOULDBLOCK, WSAEWOULDBLOCK).</summary>
    WouldBlock,
    /// <summary>A signal interrupted the call (EINTR).</summary>
    Interrupted,
    /// <summary>A non-blocking connect is under way (EINPROGRESS).</summary>
    InProgress,
    /// <summary>The peer reset the connection (ECONNRESET).</summary>
    ConnectionReset,
    /// <summary>Nothing listens at the address (ECONNREFUSED).</summary>
    ConnectionRefused,
    /// <summary>The connection was aborted locally (ECONNABORTED).</summary>
    ConnectionAborted,
    /// <summary>Write to a connection the peer closed (EPIPE); never raised as SIGPIPE by this runtime.</summary>
    BrokenPipe,
    /// <summary>The socket is not connected (ENOTCONN).</summary>
    NotConnected,
    /// <summary>The process or system descriptor table is full (EMFILE, ENFILE).</summary>
    TooManyOpenFiles,
    /// <summary>The kernel is out of memory or buffers (ENOMEM, ENOBUFS).</summary>
    OutOfMemory,
    /// <summary>The operation timed out (ETIMEDOUT, ETIME).</summary>
    TimedOut,
    /// <summary>The operation was canceled (ECANCELED) or its owner stopped.</summary>
    Canceled,
    /// <summary>The kernel, the backend or the descriptor does not support the operation (ENOSYS, EOPNOTSUPP).</summary>
    NotSupported,
    /// <summary>Not permitted (EPERM, EACCES), e.g. io_uring disabled by sysctl or seccomp.</summary>
    PermissionDenied,
    /// <summary>The address is in use (EADDRINUSE).</summary>
    AddressInUse,
    /// <summary>The address is not available here (EADDRNOTAVAIL).</summary>
    AddressNotAvailable,
    /// <summary>An argument was invalid (EINVAL).</summary>
    InvalidArgument,
    /// <summary>The descriptor is not open (EBADF).</summary>
    BadDescriptor,
    /// <summary>Already registered or already exists (EEXIST).</summary>
    AlreadyExists,
    /// <summary>Not registered or not found (ENOENT).</summary>
    NotFound,
    /// <summary>The network or host cannot be reached (ENETUNREACH, EHOSTUNREACH).</summary>
    Unreachable,
    /// <summary>A datagram was larger than the buffer or the protocol allows (EMSGSIZE).</summary>
    MessageTooLong,
    /// <summary>Any other error; see <see cref="OsError.Code"/>.</summary>
    Other,
}

/// <summary>An operating-system error: a portable <see cref="Kind"/> plus the native number (errno, Win32 error).</summary>
/// <remarks>8 bytes, no allocation; <c>default</c> means success.</remarks>
public readonly struct OsError : IEquatable<OsError>
{
    /// <summary>Creates an error from its kind and native number (0 when the error did not come from the OS).</summary>
    public OsError(ErrorKind kind, int code)
    {
        Kind = kind;
        Code = code;
    }

    /// <summary>The portable classification.</summary>
    public ErrorKind Kind { get; }

    /// <summary>The native error number (errno on Unix, the Win32/WSA error on Windows); 0 when not from the OS.</summary>
    public int Code { get; }

    /// <summary>True when this value means "no error".</summary>
    public bool IsNone => Kind == ErrorKind.None;

    /// <summary>The native message for <see cref="Code"/> (strerror / FormatMessage), or the kind's name.</summary>
    public string Message => Code != 0 ? Marshal.GetPInvokeErrorMessage(Code) : Kind.ToString();

    /// <summary>An error with no native number (raised by the runtime itself).</summary>
    public static OsError FromKind(ErrorKind kind) => new(kind, 0);

    /// <summary>Throws <see cref="OsException"/> unless this is <see cref="ErrorKind.None"/>.</summary>
    public void ThrowIfError()
    {
        if (Kind != ErrorKind.None)
            throw new OsException(this);
    }

    /// <inheritdoc/>
    public bool Equals(OsError other) => Kind == other.Kind && Code == other.Code;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is OsError e && Equals(e);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Kind, Code);

    /// <summary>Equality.</summary>
    public static bool operator ==(OsError left, OsError right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(OsError left, OsError right) => !left.Equals(right);

    /// <inheritdoc/>
    public override string ToString() => Code != 0 ? $"{Kind} ({Code}: {Message})" : Kind.ToString();
}

/// <summary>Thrown by <see cref="OsError.ThrowIfError"/> and <see cref="Result{T}.Value"/> on a failed result.</summary>
public sealed class OsException : IOException
{
    /// <summary>Wraps an error.</summary>
    public OsException(OsError error)
        : base(error.ToString()) => Error = error;

    /// <summary>Wraps an error with a message that says what failed (e.g. the address).</summary>
    public OsException(OsError error, string message)
        : base(message) => Error = error;

    /// <summary>The error.</summary>
    public OsError Error { get; }
}
