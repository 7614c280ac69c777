using System;
using System.Runtime.InteropServices;

namespace Syscalls.Runtime.Backends.Common;

/// <summary>The reference a registration or an operation in flight holds on its handle, so that the descriptor is
/// not closed, and its number not reused, until the matching DangerousRelease.</summary>
internal static class HandleRefs
{
    /// <summary>DangerousAddRef; false (and no reference) when the handle is already closed.</summary>
    internal static bool TryAddRef(SafeHandle handle)
    {
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            return false;
        }

        return added;
    }
}
