using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Syscalls.Runtime.Backends.Windows;

/// <summary>Owns one Winsock SOCKET: closed exactly once (Dispose or finalizer), never while a call that took a
/// reference (a poller registration, a ring operation) still uses it. The Windows counterpart of SocketHandle.</summary>
[SupportedOSPlatform("windows")]
internal sealed class WinSocketHandle : SafeHandle
{
    /// <summary>An invalid handle.</summary>
    public WinSocketHandle()
        : base(-1, ownsHandle: true)
    {
    }

    /// <summary>Wraps a SOCKET, e.g. one accepted through the IOCP ring (<see cref="RingCompletion.Result"/>).</summary>
    public WinSocketHandle(nuint socket, bool ownsHandle = true)
        : base(-1, ownsHandle) => SetHandle((nint)socket);

    /// <summary>Wraps the SOCKET an IOCP Accept completion carries in <see cref="RingCompletion.Result"/>: kernel
    /// handles are 32-bit values on 64-bit Windows (so that 32- and 64-bit processes can share them).</summary>
    public static WinSocketHandle FromCompletion(int result) => new((nuint)(uint)result);

    /// <inheritdoc/>
    public override bool IsInvalid => handle == 0 || handle == -1;   // INVALID_SOCKET is ~0

    /// <summary>The SOCKET value, for code that keeps this handle alive itself.</summary>
    public nuint Socket => (nuint)handle;

    /// <inheritdoc/>
    protected override bool ReleaseHandle()
    {
        // closesocket releases the handle even when it reports an error (WSAEWOULDBLOCK only with a linger timeout).
        Winsock.Close((nuint)handle);
        return true;
    }
}
