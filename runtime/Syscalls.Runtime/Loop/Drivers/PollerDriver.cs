using System;
using System.Runtime.InteropServices;

namespace Syscalls.Runtime;

/// <summary>What a poller loop reports readiness to: a connection, a listener, a datagram socket. Loop thread.</summary>
internal interface IReadinessTarget
{
    /// <summary>The descriptor is ready for <paramref name="readiness"/>.</summary>
    void OnReadiness(Readiness readiness);

    /// <summary><see cref="OnReadiness"/> threw: the target fails alone (aborts itself and reports).</summary>
    void OnDispatchFailed(Exception error);
}

/// <summary>A loop's readiness backend: one <see cref="IPoller"/>, its registrations keyed by a token that carries a
/// slot and the slot's generation, so an event for a target deregistered earlier in the same batch is dropped.</summary>
internal sealed class PollerDriver : LoopDriver
{
    private readonly IPoller _poller;
    private readonly PollEvent[] _events = new PollEvent[1024];
    private IReadinessTarget?[] _targets = new IReadinessTarget?[64];
    private uint[] _generations = new uint[64];
    private int[] _free = new int[64];
    private int _freeCount;
    private int _disposed;

    internal PollerDriver(BackendKind backend, string reason, IPoller poller)
        : base(backend, reason)
    {
        _poller = poller;
        for (int i = _targets.Length - 1; i >= 0; i--)
            _free[_freeCount++] = i;
    }

    internal override string Name => _poller.Name;

    internal PollerCapabilities Capabilities => _poller.Capabilities;

    /// <summary>True when registrations can be edge-triggered (register once for both directions).</summary>
    internal bool EdgeTriggered => (_poller.Capabilities & PollerCapabilities.EdgeTriggered) != 0;

    /// <summary>Registers <paramref name="handle"/>; returns the token to modify and deregister it with.</summary>
    internal Result<ulong> Register(SafeHandle handle, IReadinessTarget target, Interest interest, TriggerMode mode)
    {
        if (_freeCount == 0)
            Grow();
        int slot = _free[--_freeCount];
        uint generation = ++_generations[slot];
        ulong token = ((ulong)generation << 32) | (uint)slot;
        Result r = _poller.Register(handle, token, interest, mode);
        if (!r.IsSuccess)
        {
            _free[_freeCount++] = slot;
            return r.Error;
        }

        _targets[slot] = target;
        return token;
    }

    internal Result Modify(SafeHandle handle, ulong token, Interest interest, TriggerMode mode)
        => _poller.Modify(handle, token, interest, mode);

    /// <summary>Deregisters and forgets the target; later events for its token are dropped.</summary>
    internal Result Deregister(SafeHandle handle, ulong token)
    {
        int slot = (int)(uint)token;
        if ((uint)slot < (uint)_targets.Length && _generations[slot] == (uint)(token >> 32) && _targets[slot] is not null)
        {
            _targets[slot] = null;
            _generations[slot]++;
            _free[_freeCount++] = slot;
        }

        return _disposed != 0 ? Result.Success : _poller.Deregister(handle);
    }

    internal override Result<int> Poll(int timeoutMilliseconds)
    {
        Result<int> waited = _poller.Wait(_events, timeoutMilliseconds);
        if (!waited.TryGetValue(out int n))
            return waited;
        for (int i = 0; i < n; i++)
        {
            ref readonly PollEvent ev = ref _events[i];
            int slot = (int)(uint)ev.Token;
            if ((uint)slot >= (uint)_targets.Length || _generations[slot] != (uint)(ev.Token >> 32))
                continue;   // deregistered earlier in this batch
            IReadinessTarget? target = _targets[slot];
            if (target is null)
                continue;
            try
            {
                target.OnReadiness(ev.Readiness);
            }
            catch (Exception e)
            {
                target.OnDispatchFailed(e);
            }
        }

        return n;
    }

    internal override void Wake() => _poller.Wake();

    public override void Dispose()
    {
        if (System.Threading.Interlocked.Exchange(ref _disposed, 1) == 0)
            _poller.Dispose();
    }

    private void Grow()
    {
        int old = _targets.Length;
        Array.Resize(ref _targets, old * 2);
        Array.Resize(ref _generations, old * 2);
        Array.Resize(ref _free, old * 2);
        for (int i = old * 2 - 1; i >= old; i--)
            _free[_freeCount++] = i;
    }
}
