using System;
using System.Runtime.InteropServices;

namespace Syscalls.Runtime.Backends.Common;

/// <summary>The handles a poller has registered, indexed by descriptor number (small, dense integers), each holding
/// one DangerousAddRef so that the descriptor cannot be closed, and its number reused, while registered.</summary>
internal sealed class Registrations
{
    private SafeHandle?[] _byFd = new SafeHandle?[256];

    internal int Count { get; private set; }

    internal SafeHandle? Get(int fd) => (uint)fd < (uint)_byFd.Length ? _byFd[fd] : null;

    /// <summary>Takes a reference on <paramref name="handle"/> and returns its descriptor, or an error.</summary>
    internal Result<int> Acquire(SafeHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        if (!HandleRefs.TryAddRef(handle))
            return OsError.FromKind(ErrorKind.BadDescriptor);

        int fd = (int)handle.DangerousGetHandle();
        if (fd < 0)
        {
            handle.DangerousRelease();
            return OsError.FromKind(ErrorKind.BadDescriptor);
        }

        if (Get(fd) is not null)
        {
            handle.DangerousRelease();
            return OsError.FromKind(ErrorKind.AlreadyExists);
        }

        return fd;
    }

    /// <summary>Records a registration whose <see cref="Acquire"/> succeeded and whose kernel side is in place.</summary>
    internal void Add(int fd, SafeHandle handle)
    {
        if (fd >= _byFd.Length)
            Array.Resize(ref _byFd, Math.Max(fd + 1, _byFd.Length * 2));
        _byFd[fd] = handle;
        Count++;
    }

    /// <summary>The descriptor of a registered handle, or <see cref="ErrorKind.NotFound"/>.</summary>
    internal Result<int> Find(SafeHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        int fd = (int)handle.DangerousGetHandle();
        return fd >= 0 && ReferenceEquals(Get(fd), handle) ? fd : OsError.FromKind(ErrorKind.NotFound);
    }

    /// <summary>Forgets a registration and drops its reference (this may close the descriptor).</summary>
    internal void Remove(int fd)
    {
        SafeHandle? h = _byFd[fd];
        _byFd[fd] = null;
        Count--;
        h?.DangerousRelease();
    }

    internal void ReleaseAll()
    {
        for (int fd = 0; fd < _byFd.Length; fd++)
        {
            if (_byFd[fd] is not null)
                Remove(fd);
        }
    }
}
