using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Syscalls.Windows;

namespace Syscalls.Runtime.Backends.Iocp;

/// <summary>The native half of one in-flight operation: the OVERLAPPED the kernel writes, and everything else the
/// kernel reads or writes while the operation runs (the WSABUF, the flags word, AcceptEx's address area, ConnectEx's
/// target). Allocated once per slot in native memory, so it never moves and outlives any cancellation: it is reused
/// only after the operation's completion packet has been dequeued (or the operation completed inline).</summary>
[SupportedOSPlatform("windows")]
[StructLayout(LayoutKind.Sequential)]
// reason: a native layout holder (OVERLAPPED first, fixed address area), only ever used through pointers into native memory
internal unsafe struct IocpOperation
{
    /// <summary>Bytes AcceptEx needs per address: the largest sockaddr plus the 16 bytes its documentation demands.</summary>
    internal const int AcceptAddressLength = 128 + 16;

    /// <summary>Local then remote address of AcceptEx (the target sockaddr of ConnectEx, WSASendTo and WSARecvFrom uses
    /// the start).</summary>
    internal const int AddressBytes = 2 * AcceptAddressLength;

    // First field: a completion's lpOverlapped is then the address of the whole block.
    internal OVERLAPPED Overlapped;

    /// <summary>The ring slot this block belongs to.</summary>
    internal int Slot;

    /// <summary>WSARecv's in/out flags.</summary>
    internal uint Flags;

    /// <summary>Bytes of an operation that succeeded at once.</summary>
    internal uint Bytes;

    /// <summary>WSARecvFrom's in/out address length (the address itself goes to <see cref="Addresses"/>).</summary>
    internal int AddressLength;

    internal WSABUF Buffer;

    internal fixed byte Addresses[AddressBytes];
}

/// <summary>Where a slot's operation is.</summary>
internal enum IocpPhase : byte
{
    /// <summary>The slot is unused.</summary>
    Free,
    /// <summary>Enqueued, not submitted.</summary>
    Queued,
    /// <summary>Issued; its completion packet has not been dequeued yet.</summary>
    Kernel,
    /// <summary>A Timeout waiting for its deadline (emulated: IOCP has no timeout operation).</summary>
    Timer,
}
