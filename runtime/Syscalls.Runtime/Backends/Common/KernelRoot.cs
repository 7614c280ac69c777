using System.Runtime.InteropServices;

namespace Syscalls.Runtime.Backends.Common;

/// <summary>Keeps a ring or poller reachable from its creation until its Dispose, whatever the user does with it: the
/// kernel holds addresses of its memory (io_uring's buffer slabs and provided-buffer rings, IOCP's OVERLAPPEDs and the
/// buffers they name, AFD's poll blocks) for as long as operations are in flight, and a collected owner would let the
/// GC hand that memory to someone else while the kernel still writes it. One dropped without Dispose is leaked
/// instead: its descriptors and memory stay until the process exits.</summary>
internal struct KernelRoot
{
    private GCHandle _handle;

    /// <summary>Roots <paramref name="owner"/> (a strong GC handle). Once, from its constructor.</summary>
    internal void Hold(object owner) => _handle = GCHandle.Alloc(owner);

    /// <summary>Lets the owner be collected again; once, at the end of its Dispose, when the kernel holds nothing of
    /// it any more. An owner whose in-flight operations did not drain never calls it.</summary>
    internal void Release()
    {
        if (_handle.IsAllocated)
            _handle.Free();
    }
}
