using System;
using System.Runtime.InteropServices;
using Syscalls.Runtime.Backends.Kqueue;
using Syscalls.Runtime.Backends.Linux;
using Syscalls.Runtime.Backends.Windows;

namespace Syscalls.Runtime.Backends.Common;

/// <summary>What a <see cref="SharedHandle"/> holds, which decides how it is closed.</summary>
internal enum SharedHandleKind : byte
{
    /// <summary>A Unix file descriptor (an eventfd, a kqueue): close(2).</summary>
    Descriptor,
    /// <summary>A Windows kernel handle (a completion port): CloseHandle.</summary>
    KernelHandle,
    /// <summary>A Winsock SOCKET: closesocket.</summary>
    Socket,
}

/// <summary>A descriptor or handle that a backend owns and that other threads use: the waker (an eventfd, a kqueue, a
/// completion port, a socket) that <see cref="IPoller.Wake"/> and <see cref="IRing.Wake"/> signal from any thread.
/// Such a call takes a reference (<see cref="TryUse"/>) for its length, so Dispose on the owning thread closes the
/// handle only after the last call is done: a Wake racing Dispose never reaches a closed number, nor one that
/// something else has taken meanwhile.</summary>
internal sealed class SharedHandle : SafeHandle
{
    private readonly SharedHandleKind _kind;

    internal SharedHandle(nint value, SharedHandleKind kind)
        : base(-1, ownsHandle: true)
    {
        _kind = kind;
        SetHandle(value);
    }

    /// <inheritdoc/>
    public override bool IsInvalid => handle == -1 || (handle == 0 && _kind != SharedHandleKind.Descriptor);

    /// <summary>The number, for the owning thread (which disposes it, so it cannot race its own close).</summary>
    internal nint Value => handle;

    /// <summary>A reference for one call from any thread, and the number to make it with; false once disposed. Pair
    /// with <see cref="SafeHandle.DangerousRelease"/>.</summary>
    internal bool TryUse(out nint value)
    {
        value = -1;
        if (!HandleRefs.TryAddRef(this))
            return false;
        value = handle;
        return true;
    }

    /// <inheritdoc/>
    protected override bool ReleaseHandle()
    {
        if (_kind == SharedHandleKind.Descriptor)
        {
            if (OperatingSystem.IsLinux())
                Sys.Close((int)handle);
            else if (OperatingSystem.IsMacOS())
                DarwinSockets.Close((int)handle);
        }
        else if (OperatingSystem.IsWindows())
        {
            if (_kind == SharedHandleKind.Socket)
                Winsock.Close((nuint)handle);
            else
                Syscalls.Windows.Kernel32.CloseHandle(handle);
        }

        return true;
    }
}
