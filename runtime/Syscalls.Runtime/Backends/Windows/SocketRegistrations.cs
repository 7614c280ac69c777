using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using Syscalls.Runtime.Backends.Common;

namespace Syscalls.Runtime.Backends.Windows;

/// <summary>The first step of a Windows poller's Register (AFD, WSAPoll): a reference on the handle, so that its
/// SOCKET cannot be closed, and the value reused, while registered; refused when the poller already knows it.</summary>
internal static class SocketRegistrations
{
    /// <summary>Takes a reference on <paramref name="handle"/> and returns its SOCKET, or
    /// <see cref="ErrorKind.BadDescriptor"/> / <see cref="ErrorKind.AlreadyExists"/> (then holding no
    /// reference).</summary>
    internal static Result<nuint> Acquire<T>(SafeHandle handle, Dictionary<nuint, T> registered)
    {
        ArgumentNullException.ThrowIfNull(handle);
        if (!HandleRefs.TryAddRef(handle))
            return OsError.FromKind(ErrorKind.BadDescriptor);

        nuint s = (nuint)handle.DangerousGetHandle();
        if (handle.IsInvalid || registered.ContainsKey(s))
        {
            handle.DangerousRelease();
            return OsError.FromKind(handle.IsInvalid ? ErrorKind.BadDescriptor : ErrorKind.AlreadyExists);
        }

        return s;
    }
}
