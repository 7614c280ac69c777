using System;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Threading;
using Syscalls.Linux;
using Syscalls.Runtime.Backends.Common;
using Syscalls.Runtime.Backends.Linux;
using static Syscalls.Linux.LibC;

namespace Syscalls.Runtime.Backends.Epoll;

/// <summary>epoll(7) poller: level, edge (EPOLLET) and oneshot (EPOLLONESHOT); an eventfd is the waker.</summary>
[SupportedOSPlatform("linux")]
internal sealed class EpollPoller : IPoller
{
    /// <summary>Token of the waker's registration; user tokens may not use it.</summary>
    internal const ulong WakeToken = ulong.MaxValue;

    private readonly int _ep;
    private readonly int _wakeFd;
    private readonly Registrations _registrations = new();
    private unsafe epoll_event* _native;   // the kernel writes ready events here; Grow/Dispose own it
    private int _nativeCapacity;
    private int _wakePending;
    private int _disposed;

    private EpollPoller(int ep, int wakeFd)
    {
        _ep = ep;
        _wakeFd = wakeFd;
    }

    public string Name => "epoll";

    public PollerCapabilities Capabilities
        => PollerCapabilities.EdgeTriggered | PollerCapabilities.Oneshot | PollerCapabilities.ReadClosed | PollerCapabilities.ScalableWait;

    internal static Result<EpollPoller> Create()
    {
        int ep = epoll_create1((int)EPOLL_CLOEXEC);
        if (ep < 0)
            return LinuxErrno.Last();
        Result<int> wake = Sys.EventFd();
        if (!wake.IsSuccess)
        {
            Sys.Close(ep);
            return wake.Error;
        }

        Result r = Ctl(ep, EPOLL_CTL_ADD, wake.Value, EPOLLIN, WakeToken);
        if (!r.IsSuccess)
        {
            Sys.Close(wake.Value);
            Sys.Close(ep);
            return r.Error;
        }

        return new EpollPoller(ep, wake.Value);
    }

    public Result Register(SafeHandle handle, ulong token, Interest interest, TriggerMode mode = TriggerMode.Level)
    {
        if (token == WakeToken)
            return OsError.FromKind(ErrorKind.InvalidArgument);
        Result<int> acquired = _registrations.Acquire(handle);
        if (!acquired.TryGetValue(out int fd))
            return acquired.Error;
        Result r = Ctl(_ep, EPOLL_CTL_ADD, fd, Events(interest, mode), token);
        if (!r.IsSuccess)
        {
            handle.DangerousRelease();
            return r;
        }

        _registrations.Add(fd, handle);
        return Result.Success;
    }

    public Result Modify(SafeHandle handle, ulong token, Interest interest, TriggerMode mode = TriggerMode.Level)
    {
        if (token == WakeToken)
            return OsError.FromKind(ErrorKind.InvalidArgument);
        Result<int> found = _registrations.Find(handle);
        return found.TryGetValue(out int fd) ? Ctl(_ep, EPOLL_CTL_MOD, fd, Events(interest, mode), token) : found.Error;
    }

    public Result Deregister(SafeHandle handle)
    {
        Result<int> found = _registrations.Find(handle);
        if (!found.TryGetValue(out int fd))
            return found.Error;
        Result r;
        // reason: EPOLL_CTL_DEL ignores the event argument since 2.6.9, so null is never dereferenced
        unsafe
        {
            r = epoll_ctl(_ep, EPOLL_CTL_DEL, fd, null) == 0 ? Result.Success : LinuxErrno.Last();
        }

        _registrations.Remove(fd);
        return r;
    }

    public Result<int> Wait(Span<PollEvent> events, int timeoutMilliseconds)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (events.Length == 0)
            return 0;
        if (events.Length > _nativeCapacity)
            Grow(events.Length);
        ReadOnlySpan<epoll_event> ready;
        // reason: _native has >= events.Length entries (grown above), waiting thread only; the span dies with this call
        unsafe
        {
            int n = epoll_wait(_ep, _native, events.Length, timeoutMilliseconds);
            if (n < 0)
            {
                OsError e = LinuxErrno.Last();
                return e.Kind == ErrorKind.Interrupted ? 0 : e;
            }

            ready = new ReadOnlySpan<epoll_event>(_native, n);
        }

        int k = 0;
        for (int i = 0; i < ready.Length; i++)
        {
            // epoll_event is packed on x86-64 (12 bytes) and natural on arm64 (16): the bindings carry the layout.
            ref readonly epoll_event ev = ref ready[i];
            ulong token = ev.data.u64;
            if (token == WakeToken)
            {
                Sys.EventFdDrain(_wakeFd);
                Volatile.Write(ref _wakePending, 0);
                continue;
            }

            events[k++] = new PollEvent(token, Map(ev.events));
        }

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
        Sys.Close(_ep);
        // reason: _disposed is set, so no Wait can be using the buffer any more; freed once, then forgotten
        unsafe
        {
            if (_native != null)
                NativeMemory.Free(_native);
            _native = null;
        }
    }

    private void Grow(int capacity)
    {
        // reason: the buffer is owned by this poller, freed in Dispose, and only touched by the waiting thread
        unsafe
        {
            _native = (epoll_event*)NativeMemory.Realloc(_native, (nuint)(capacity * sizeof(epoll_event)));
        }

        _nativeCapacity = capacity;
    }

    private static Result Ctl(int ep, int op, int fd, uint events, ulong token)
    {
        epoll_event ev = default;
        ev.events = events;
        ev.data.u64 = token;
        // reason: &ev is a stack local that outlives the call; the kernel copies it
        unsafe
        {
            return epoll_ctl(ep, op, fd, &ev) == 0 ? Result.Success : LinuxErrno.Last();
        }
    }

    private static uint Events(Interest interest, TriggerMode mode)
    {
        uint e = 0;
        if ((interest & Interest.Readable) != 0)
            e |= EPOLLIN | EPOLLRDHUP;
        if ((interest & Interest.Writable) != 0)
            e |= EPOLLOUT;
        if ((mode & TriggerMode.Edge) != 0)
            e |= EPOLLET;
        if ((mode & TriggerMode.Oneshot) != 0)
            e |= EPOLLONESHOT;
        return e;
    }

    private static Readiness Map(uint e)
    {
        Readiness r = Readiness.None;
        if ((e & EPOLLIN) != 0)
            r |= Readiness.Readable;
        if ((e & EPOLLOUT) != 0)
            r |= Readiness.Writable;
        if ((e & EPOLLRDHUP) != 0)
            r |= Readiness.ReadClosed;
        if ((e & EPOLLHUP) != 0)
            r |= Readiness.Closed;
        if ((e & EPOLLERR) != 0)
            r |= Readiness.Error;
        if ((e & EPOLLPRI) != 0)
            r |= Readiness.Priority;
        return r;
    }
}
