using System;
using System.Collections.Generic;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Threading;
using Syscalls.Runtime.Backends.Common;
using Syscalls.Runtime.Backends.Windows;
using Syscalls.Windows;
using static Syscalls.Windows.Ws2_32;

namespace Syscalls.Runtime.Backends.WindowsPoll;

/// <summary>A readiness poller for Windows on WSAPoll, with the <see cref="IPoller"/> contract of epoll where WSAPoll
/// can honour it. Entry 0 of the pollfd array is the waker: a non-blocking UDP socket bound to 127.0.0.1 and
/// connected to itself, so <see cref="Wake"/> is one send and the wait drains it.</summary>
/// <remarks>
/// Limits, stated and tested (tests/Syscalls.Runtime.Tests/Windows/WindowsPollerTests.cs):
/// <list type="bullet">
/// <item>Level-triggered. <see cref="TriggerMode.Oneshot"/> is emulated in the table (a reported entry is disabled
/// until <see cref="Modify"/>); <see cref="TriggerMode.Edge"/> cannot be emulated faithfully and is refused with
/// <see cref="ErrorKind.NotSupported"/>.</item>
/// <item>A wait costs O(registered sockets) (no <see cref="PollerCapabilities.ScalableWait"/>): for many connections
/// use the IOCP ring.</item>
/// <item>No <see cref="Readiness.ReadClosed"/>: WSAPoll says POLLHUP for a peer's FIN as for a full close, so a
/// half-close is reported as Readable | Closed and the reader finds end of stream by reading 0 bytes.</item>
/// <item>That POLLHUP is sticky and cannot be masked: after a peer's FIN, WSAPoll returns at once for the socket on
/// every call, whatever it was asked. So once a socket has hung up, a report of nothing but POLLHUP again is not
/// passed on: a socket watched for neither direction leaves the poll set until <see cref="Modify"/> asks for one (a
/// later reset of such an idle half-open socket is seen only at its next send or receive), and a socket watched for
/// writability that is not writable is left out for a back-off of 1 to <see cref="MaxHangupBackoffMs"/> ms, doubling,
/// instead of being polled again at once (a tail drains to a slow half-closed reader that much later at most).
/// Without this a half-open connection turns the wait loop into a spin. (A negative fd does not leave an entry out:
/// Wine answers it with POLLNVAL, so left-out entries are not passed at all.)</item>
/// <item>Sockets only (WSAPoll accepts nothing else), and no <see cref="Readiness.Priority"/> (the Microsoft
/// provider does not support POLLPRI).</item>
/// <item>Windows before 10 version 2004 never reports a failed non-blocking connect (the connection-refused bug
/// curl and libuv work around); check SO_ERROR after a timeout there.</item>
/// </list>
/// </remarks>
[SupportedOSPlatform("windows")]
internal sealed class WindowsPoller : IPoller
{
    /// <summary>The longest pause before a hung-up socket that waits for writability is polled again.</summary>
    internal const int MaxHangupBackoffMs = 64;

    private readonly nuint _waker;                // the owning thread's view of _wakerHandle (drained by Wait)
    private readonly SharedHandle _wakerHandle;   // Wake sends through it under a reference
    private readonly Dictionary<nuint, int> _indexOf = new();
    // reason: the registered entries (_capacity of them); Grow reallocates, Dispose frees, only the waiting thread touches them
    private unsafe WSAPOLLFD* _fds;
    // reason: sized like _fds by Grow and freed in Dispose; rebuilt by Wait, on the waiting thread only
    private unsafe WSAPOLLFD* _set;                       // the entries passed to WSAPoll while some are left out
    private int[] _setIndex = new int[64];         // entry of each _set position
    private byte[] _hungUp = new byte[64];         // POLLHUP was seen: it stays, and says nothing new from then on
    private byte[] _out = new byte[64];            // left out of the poll set (see the remarks)
    private long[] _parkedUntil = new long[64];    // left out while waiting for writability: until this tick
    private int[] _backoffMs = new int[64];
    private int _outCount;
    private int _parkedCount;
    private ulong[] _tokens = new ulong[64];
    private SafeHandle?[] _handles = new SafeHandle?[64];
    private byte[] _oneshot = new byte[64];
    private int _count;
    private int _capacity;
    private int _cursor;
    private int _wakePending;
    private int _disposed;

    // reason: Grow(64) just allocated _fds, so entry 0 exists; the poller owns it until Dispose
    private unsafe WindowsPoller(nuint waker)
    {
        _waker = waker;
        _wakerHandle = new SharedHandle((nint)waker, SharedHandleKind.Socket);
        Grow(64);
        _fds[0] = new WSAPOLLFD { fd = waker, events = (short)POLLRDNORM };
        _count = 1;
    }

    public string Name => "wsapoll";

    public PollerCapabilities Capabilities => PollerCapabilities.Oneshot;

    /// <summary>Creates the poller and its loopback waker.</summary>
    internal static Result<WindowsPoller> TryCreate()
    {
        Result<nuint> created = Winsock.Socket(AddressFamily.InterNetwork, SocketType.Dgram);
        if (!created.TryGetValue(out nuint s))
            return created.Error;
        // Connected to its own address: send() then needs no address, and nothing else can reach it.
        Result r = Winsock.Bind(s, NetEndpoint.Loopback(0));
        Result<NetEndpoint> self = r.IsSuccess ? Winsock.GetSockName(s) : r.Error;
        if (self.IsSuccess)
            r = Winsock.Connect(s, self.Value);
        if (!self.IsSuccess || !r.IsSuccess)
        {
            Winsock.Close(s);
            return self.IsSuccess ? r.Error : self.Error;
        }

        return new WindowsPoller(s);
    }

    // reason: _fds is owned by this poller (Grow reallocates, Dispose frees) and i < _count <= _capacity after the Grow above
    public unsafe Result Register(SafeHandle handle, ulong token, Interest interest, TriggerMode mode = TriggerMode.Level)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if ((mode & TriggerMode.Edge) != 0)
            return OsError.FromKind(ErrorKind.NotSupported);
        Result<nuint> acquired = SocketRegistrations.Acquire(handle, _indexOf);
        if (!acquired.TryGetValue(out nuint s))
            return acquired.Error;

        if (_count == _capacity)
            Grow(_capacity * 2);
        int i = _count++;
        _fds[i] = new WSAPOLLFD { fd = s, events = Events(interest), revents = 0 };
        _tokens[i] = token;
        _handles[i] = handle;
        _oneshot[i] = (byte)((mode & TriggerMode.Oneshot) != 0 ? 1 : 0);
        _hungUp[i] = 0;
        _out[i] = 0;
        _parkedUntil[i] = 0;
        _backoffMs[i] = 0;
        _indexOf[s] = i;
        return Result.Success;
    }

    // reason: _fds is owned by this poller (Grow reallocates, Dispose frees) and TryFind returned an index below _count
    public unsafe Result Modify(SafeHandle handle, ulong token, Interest interest, TriggerMode mode = TriggerMode.Level)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if ((mode & TriggerMode.Edge) != 0)
            return OsError.FromKind(ErrorKind.NotSupported);
        if (!TryFind(handle, out int i))
            return OsError.FromKind(ErrorKind.NotFound);
        _fds[i].events = Events(interest);
        _tokens[i] = token;
        _oneshot[i] = (byte)((mode & TriggerMode.Oneshot) != 0 ? 1 : 0);
        // A new interest is polled afresh, except that a hung-up socket watched for neither direction stays out.
        PutBack(i);
        _backoffMs[i] = 0;
        if (_hungUp[i] != 0 && _fds[i].events == 0)
            LeaveOut(i, 0);
        return Result.Success;
    }

    // reason: _fds is owned by this poller (Grow reallocates, Dispose frees) and i and last are below _count, so both entries exist
    public unsafe Result Deregister(SafeHandle handle)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (!TryFind(handle, out int i))
            return OsError.FromKind(ErrorKind.NotFound);
        _indexOf.Remove(_fds[i].fd);
        PutBack(i);
        SafeHandle? h = _handles[i];
        int last = --_count;
        if (i != last)
        {
            // Swap-remove keeps the array dense; the moved entry's index is updated.
            _fds[i] = _fds[last];
            _tokens[i] = _tokens[last];
            _handles[i] = _handles[last];
            _oneshot[i] = _oneshot[last];
            _hungUp[i] = _hungUp[last];
            _out[i] = _out[last];
            _parkedUntil[i] = _parkedUntil[last];
            _backoffMs[i] = _backoffMs[last];
            _indexOf[_fds[i].fd] = i;
        }

        _handles[last] = null;
        h?.DangerousRelease();
        return Result.Success;
    }

    // reason: the poll set (_fds or _set, _capacity entries each) belongs to this poller and only the waiting thread touches it
    public unsafe Result<int> Wait(Span<PollEvent> events, int timeoutMilliseconds)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (events.Length == 0)
            return 0;
        if (_parkedCount > 0)
            timeoutMilliseconds = PutBackDue(timeoutMilliseconds);
        WSAPOLLFD* set = _fds;
        int setCount = _count;
        if (_outCount > 0)
        {
            set = _set;
            setCount = 0;
            // reason: _set has _capacity entries like _fds (Grow resizes both), and setCount never exceeds _count
            for (int i = 0; i < _count; i++)
            {
                if (_out[i] != 0)
                    continue;
                _set[setCount] = _fds[i];
                _setIndex[setCount++] = i;
            }
        }

        // reason: set holds setCount entries (of _fds or _set), owned by this poller and only touched by this thread
        int n = WSAPoll(set, (uint)setCount, timeoutMilliseconds < 0 ? -1 : timeoutMilliseconds);
        if (n == SOCKET_ERROR)
        {
            OsError e = WinError.Last();
            return e.Kind == ErrorKind.Interrupted ? 0 : e;
        }

        if (n == 0)
            return 0;
        if (set[0].revents != 0)
        {
            set[0].revents = 0;
            DrainWaker();
            n--;
        }

        // Scan from a rotating cursor so that a span smaller than the ready set does not starve the table's tail.
        int k = 0, users = setCount - 1, quiet = 0;
        Span<int> quieted = stackalloc int[Math.Min(users, 64)];
        for (int step = 0; step < users && k < events.Length && n > 0; step++)
        {
            int p = 1 + ((_cursor + step) % users);
            short re = set[p].revents;
            if (re == 0)
                continue;
            set[p].revents = 0;
            n--;
            int i = set == _fds ? p : _setIndex[p];
            bool wasHungUp = _hungUp[i] != 0;
            if ((re & POLLHUP) != 0)
                _hungUp[i] = 1;
            if (wasHungUp && (re & ~POLLHUP) == 0)
            {
                // Only the sticky POLLHUP again: nothing the caller does not know. Left out after the scan, which
                // must not reorder what it walks; more than the scratch holds wait for the next call.
                if (quiet < quieted.Length)
                    quieted[quiet++] = i;
                continue;
            }

            if ((re & POLLWRNORM) != 0)
                _backoffMs[i] = 0;
            events[k++] = new PollEvent(_tokens[i], Map(re));
            if (_oneshot[i] != 0)
                _fds[i].events = 0;
        }

        for (int q = 0; q < quiet; q++)
        {
            int i = quieted[q];
            if ((_fds[i].events & POLLWRNORM) == 0)
            {
                LeaveOut(i, 0);
                continue;
            }

            _backoffMs[i] = Math.Clamp(_backoffMs[i] * 2, 1, MaxHangupBackoffMs);
            LeaveOut(i, Environment.TickCount64 + _backoffMs[i]);
        }

        if (users > 0)
            _cursor = (_cursor + 1) % users;
        return k;
    }

    // reason: &one is a stack local that outlives each call
    public unsafe void Wake()
    {
        // Under a reference: Dispose on the owning thread may be closing the socket, whose handle value could be reused.
        if (Interlocked.Exchange(ref _wakePending, 1) != 0 || !_wakerHandle.TryUse(out nint waker))
            return;
        byte one = 1;
        try
        {
            // The send can refuse for a moment (Wine's non-blocking UDP send reports WSAEWOULDBLOCK now and then under
            // load): a Wake that sent nothing but kept the mark would silence every later Wake, and the owner would
            // sleep with work queued. So a would-block is retried, and a send that never went out clears the mark for
            // the next Wake (if the socket was full, its bytes wake the owner anyway).
            var spin = new SpinWait();
            while (send((nuint)waker, &one, 1, 0) != 1)
            {
                if (WinError.Last().Kind != ErrorKind.WouldBlock || spin.Count >= WakeSendAttempts)
                {
                    Volatile.Write(ref _wakePending, 0);
                    return;
                }

                spin.SpinOnce();
            }
        }
        finally
        {
            _wakerHandle.DangerousRelease();
        }
    }

    // reason: _disposed is set, so no Wait can be using the arrays any more; each is freed once, then forgotten
    public unsafe void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        for (int i = 1; i < _count; i++)
        {
            _handles[i]?.DangerousRelease();
            _handles[i] = null;
        }

        _indexOf.Clear();
        _count = 0;
        _wakerHandle.Dispose();   // closed now, or when the last Wake under way is done
        NativeMemory.Free(_fds);
        NativeMemory.Free(_set);
        _fds = null;
        _set = null;
    }

    /// <summary>Would-block retries of a wake's send before it gives up (SpinWait yields, then sleeps, as they go on).</summary>
    private const int WakeSendAttempts = 100;

    /// <summary>For a test's failure message: the wake flag, and whether the waker socket holds a byte.</summary>
    // reason: b is a stack local that outlives the synchronous peek
    internal unsafe string DescribeWaker()
    {
        byte b;
        int n = recv(_waker, &b, 1, (int)MSG_PEEK);
        return $"wake pending {Volatile.Read(ref _wakePending)}, waker socket {(n > 0 ? "holds a byte" : $"empty ({WinError.Last()})")}";
    }

    // reason: buffer is a 16-byte stackalloc that outlives each synchronous recv
    private unsafe void DrainWaker()
    {
        // Empty the socket, then clear the flag (EventFdWaker.Drain says why in that order: the other way round, the
        // recv can swallow a racing Wake's byte while its flag stays set, and no Wake sends again).
        byte* buffer = stackalloc byte[16];
        while (recv(_waker, buffer, 16, 0) > 0)
        {
        }

        Volatile.Write(ref _wakePending, 0);
    }

    /// <summary>Takes entry <paramref name="i"/> out of the poll set: until <paramref name="until"/> (a tick), or until
    /// Modify when it is 0.</summary>
    private void LeaveOut(int i, long until)
    {
        if (_out[i] != 0)
            return;
        _out[i] = 1;
        _outCount++;
        _parkedUntil[i] = until;
        if (until != 0)
            _parkedCount++;
    }

    private void PutBack(int i)
    {
        if (_out[i] == 0)
            return;
        _out[i] = 0;
        _outCount--;
        if (_parkedUntil[i] != 0)
            _parkedCount--;
        _parkedUntil[i] = 0;
    }

    /// <summary>Puts back the entries whose back-off is over; returns the wait shortened to the next one due.</summary>
    private int PutBackDue(int timeoutMilliseconds)
    {
        long now = Environment.TickCount64;
        for (int i = 1; i < _count; i++)
        {
            long due = _parkedUntil[i];
            if (due == 0)
                continue;
            if (due <= now)
            {
                PutBack(i);
                continue;
            }

            int left = (int)(due - now);
            if (timeoutMilliseconds < 0 || left < timeoutMilliseconds)
                timeoutMilliseconds = left;
        }

        return timeoutMilliseconds;
    }

    private bool TryFind(SafeHandle handle, out int index)
    {
        ArgumentNullException.ThrowIfNull(handle);
        nuint s = (nuint)handle.DangerousGetHandle();
        return _indexOf.TryGetValue(s, out index) && ReferenceEquals(_handles[index], handle);
    }

    // reason: the array is owned by this poller, freed in Dispose, and only touched by the waiting thread
    private unsafe void Grow(int capacity)
    {
        _fds = (WSAPOLLFD*)NativeMemory.Realloc(_fds, (nuint)(capacity * sizeof(WSAPOLLFD)));
        _set = (WSAPOLLFD*)NativeMemory.Realloc(_set, (nuint)(capacity * sizeof(WSAPOLLFD)));
        Array.Resize(ref _setIndex, capacity);
        Array.Resize(ref _hungUp, capacity);
        Array.Resize(ref _out, capacity);
        Array.Resize(ref _parkedUntil, capacity);
        Array.Resize(ref _backoffMs, capacity);
        Array.Resize(ref _tokens, capacity);
        Array.Resize(ref _handles, capacity);
        Array.Resize(ref _oneshot, capacity);
        _capacity = capacity;
    }

    private static short Events(Interest interest)
    {
        // POLLRDNORM/POLLWRNORM only: the Microsoft provider does not support POLLPRI, and TCP has no band data.
        int e = 0;
        if ((interest & Interest.Readable) != 0)
            e |= POLLRDNORM;
        if ((interest & Interest.Writable) != 0)
            e |= POLLWRNORM;
        return (short)e;
    }

    private static Readiness Map(short revents)
    {
        int e = revents;
        Readiness r = Readiness.None;
        if ((e & (POLLRDNORM | POLLRDBAND)) != 0)
            r |= Readiness.Readable;
        if ((e & POLLWRNORM) != 0)
            r |= Readiness.Writable;
        // POLLHUP covers a peer's FIN as well as a reset: report it readable too, so the reader meets the 0-byte
        // read (end of stream) or the error.
        if ((e & POLLHUP) != 0)
            r |= Readiness.Closed | Readiness.Readable;
        if ((e & (POLLERR | POLLNVAL)) != 0)
            r |= Readiness.Error;
        return r;
    }
}
