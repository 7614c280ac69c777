using System;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Threading;
using Syscalls.Linux;
using Syscalls.Runtime.Backends.Common;
using Syscalls.Runtime.Backends.Linux;
using static Syscalls.Linux.LibC;

namespace Syscalls.Runtime.Backends.Poll;

/// <summary>poll(2) poller, the portable fallback: level-triggered, plus oneshot emulated in the table (a reported
/// entry is disabled until <see cref="Modify"/>). Edge triggering cannot be emulated faithfully and is refused.
/// Entry 0 of the pollfd array is the waker's eventfd.</summary>
[SupportedOSPlatform("linux")]
internal sealed class PollPoller : IPoller
{
    private readonly int _wakeFd;
    private readonly Registrations _registrations = new();
    private unsafe pollfd* _fds;   // the array poll(2) reads and writes; Grow/Dispose own it, Fds views it
    private ulong[] _tokens = new ulong[64];
    private byte[] _oneshot = new byte[64];
    private int[] _indexOfFd = new int[256];
    private int _count;
    private int _capacity;
    private int _cursor;
    private int _wakePending;
    private int _disposed;

    private PollPoller(int wakeFd)
    {
        _wakeFd = wakeFd;
        Grow(64);
        Fds[0] = new pollfd { fd = wakeFd, events = (short)POLLIN };
        _count = 1;
    }

    public string Name => "poll";

    public PollerCapabilities Capabilities => PollerCapabilities.Oneshot | PollerCapabilities.ReadClosed;

    internal static Result<PollPoller> Create()
    {
        Result<int> wake = Sys.EventFd();
        return wake.IsSuccess ? new PollPoller(wake.Value) : wake.Error;
    }

    public Result Register(SafeHandle handle, ulong token, Interest interest, TriggerMode mode = TriggerMode.Level)
    {
        if ((mode & TriggerMode.Edge) != 0)
            return OsError.FromKind(ErrorKind.NotSupported);
        Result<int> acquired = _registrations.Acquire(handle);
        if (!acquired.TryGetValue(out int fd))
            return acquired.Error;
        if (_count == _capacity)
            Grow(_capacity * 2);
        if (fd >= _indexOfFd.Length)
            Array.Resize(ref _indexOfFd, Math.Max(fd + 1, _indexOfFd.Length * 2));
        int i = _count++;
        Fds[i] = new pollfd { fd = fd, events = Events(interest), revents = 0 };
        _tokens[i] = token;
        _oneshot[i] = (byte)((mode & TriggerMode.Oneshot) != 0 ? 1 : 0);
        _indexOfFd[fd] = i;
        _registrations.Add(fd, handle);
        return Result.Success;
    }

    public Result Modify(SafeHandle handle, ulong token, Interest interest, TriggerMode mode = TriggerMode.Level)
    {
        if ((mode & TriggerMode.Edge) != 0)
            return OsError.FromKind(ErrorKind.NotSupported);
        Result<int> found = _registrations.Find(handle);
        if (!found.TryGetValue(out int fd))
            return found.Error;
        int i = _indexOfFd[fd];
        Fds[i].events = Events(interest);
        _tokens[i] = token;
        _oneshot[i] = (byte)((mode & TriggerMode.Oneshot) != 0 ? 1 : 0);
        return Result.Success;
    }

    public Result Deregister(SafeHandle handle)
    {
        Result<int> found = _registrations.Find(handle);
        if (!found.TryGetValue(out int fd))
            return found.Error;
        int i = _indexOfFd[fd];
        int last = --_count;
        if (i != last)
        {
            // Swap-remove keeps the array dense; the moved entry's index is updated.
            Span<pollfd> fds = Fds;
            fds[i] = fds[last];
            _tokens[i] = _tokens[last];
            _oneshot[i] = _oneshot[last];
            _indexOfFd[fds[i].fd] = i;
        }

        _registrations.Remove(fd);
        return Result.Success;
    }

    public Result<int> Wait(Span<PollEvent> events, int timeoutMilliseconds)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (events.Length == 0)
            return 0;
        int n;
        // reason: _fds holds _count initialised entries, owned by this poller and touched only by the waiting thread
        unsafe
        {
            n = poll(_fds, (ulong)_count, timeoutMilliseconds);
        }

        if (n < 0)
        {
            OsError e = LinuxErrno.Last();
            return e.Kind == ErrorKind.Interrupted ? 0 : e;
        }

        if (n == 0)
            return 0;
        Span<pollfd> fds = Fds;
        if (fds[0].revents != 0)
        {
            fds[0].revents = 0;
            Sys.EventFdDrain(_wakeFd);
            Volatile.Write(ref _wakePending, 0);
            n--;
        }

        // Scan from a rotating cursor so that a span smaller than the ready set does not starve the table's tail. The
        // index wraps by comparison, not by a division per entry: a wait over 10,000 descriptors scans up to all of them.
        int k = 0, count = _count, users = count - 1;
        int i = users > 0 ? 1 + (_cursor % users) : 1;
        for (int step = 0; step < users && k < events.Length && n > 0; step++, i = i + 1 == count ? 1 : i + 1)
        {
            short re = fds[i].revents;
            if (re == 0)
                continue;
            fds[i].revents = 0;
            n--;
            events[k++] = new PollEvent(_tokens[i], Map(re));
            if (_oneshot[i] != 0)
                fds[i].events = 0;
        }

        if (users > 0)
            _cursor = (_cursor + 1) % users;
        return k;
    }

    public void Wake()
    {
        if (Interlocked.Exchange(ref _wakePending, 1) == 0 && Volatile.Read(ref _disposed) == 0)
            Sys.EventFdSignal(_wakeFd);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _registrations.ReleaseAll();
        Sys.Close(_wakeFd);
        // reason: _disposed is set, so no Wait can be using the array any more; freed once, then forgotten
        unsafe
        {
            NativeMemory.Free(_fds);
            _fds = null;
        }
    }

    /// <summary>The pollfd array as a span: every access is bounds-checked against the allocated capacity.</summary>
    private Span<pollfd> Fds
    {
        get
        {
            // reason: _fds has _capacity entries until the next Grow/Dispose, and no caller holds the span across one
            unsafe
            {
                return new Span<pollfd>(_fds, _capacity);
            }
        }
    }

    private void Grow(int capacity)
    {
        // reason: the array is owned by this poller, freed in Dispose, and only touched by the waiting thread
        unsafe
        {
            _fds = (pollfd*)NativeMemory.Realloc(_fds, (nuint)(capacity * sizeof(pollfd)));
        }

        Array.Resize(ref _tokens, capacity);
        Array.Resize(ref _oneshot, capacity);
        _capacity = capacity;
    }

    private static short Events(Interest interest)
    {
        int e = 0;
        if ((interest & Interest.Readable) != 0)
            e |= POLLIN | POLLRDHUP;
        if ((interest & Interest.Writable) != 0)
            e |= POLLOUT;
        return (short)e;
    }

    private static Readiness Map(short revents)
    {
        int e = revents;
        Readiness r = Readiness.None;
        if ((e & POLLIN) != 0)
            r |= Readiness.Readable;
        if ((e & POLLOUT) != 0)
            r |= Readiness.Writable;
        if ((e & POLLRDHUP) != 0)
            r |= Readiness.ReadClosed;
        if ((e & POLLHUP) != 0)
            r |= Readiness.Closed;
        if ((e & (POLLERR | POLLNVAL)) != 0)
            r |= Readiness.Error;
        if ((e & POLLPRI) != 0)
            r |= Readiness.Priority;
        return r;
    }
}
