using System;
using System.Runtime.InteropServices;
using Syscalls.Runtime.Backends.Common;

namespace Syscalls.Runtime.Sockets;

/// <summary>Owns one socket descriptor (a Unix file descriptor, or a Winsock SOCKET): closed exactly once (Dispose or
/// finalizer), never while a call that took a reference (a poller registration, a ring operation, a helper call) still
/// uses it.</summary>
public sealed class SocketHandle : SafeHandle
{
    /// <summary>An invalid handle (for marshalling).</summary>
    public SocketHandle()
        : base(-1, ownsHandle: true)
    {
    }

    /// <summary>Wraps a descriptor, e.g. one accepted through a ring (<see cref="RingCompletion.Result"/>).</summary>
    public SocketHandle(int descriptor, bool ownsHandle = true)
        : base(-1, ownsHandle) => SetHandle(OperatingSystem.IsWindows() && descriptor != -1 ? (nint)(uint)descriptor : descriptor);

    /// <inheritdoc/>
    public override bool IsInvalid => (int)handle < 0 || (handle == 0 && OperatingSystem.IsWindows());

    /// <summary>The descriptor number, for logs and for code that keeps this handle alive itself.</summary>
    public int Descriptor => (int)handle;

    /// <inheritdoc/>
    protected override bool ReleaseHandle()
    {
        // A failed close (EIO, EINTR) has still released the descriptor on Linux, as closesocket has the SOCKET on
        // Windows; reporting false would only raise an MDA.
        SocketCalls.Close((int)handle);
        return true;
    }
}
