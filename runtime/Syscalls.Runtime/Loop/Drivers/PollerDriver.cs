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
    private readonly TargetTable<IReadinessTarget> _targets = new(uint.MaxValue);
    private int _disposed;

    internal PollerDriver(BackendKind backend, string reason, IPoller poller)
        : base(backend, reason)
    {
        _poller = poller;
    }

    internal override string Name => _poller.Name;

    internal PollerCapabilities Capabilities => _poller.Capabilities;

    /// <summary>True when registrations can be edge-triggered (register once for both directions).</summary>
    internal bool EdgeTriggered => (_poller.Capabilities & PollerCapabilities.EdgeTriggered) != 0;

    /// <summary>Registers <paramref name="handle"/>; returns the token to modify and deregister it with.</summary>
    internal Result<ulong> Register(SafeHandle handle, IReadinessTarget target, Interest interest, TriggerMode mode)
    {
        (int slot, uint generation) = _targets.Add(target);
        ulong token = ((ulong)generation << 32) | (uint)slot;
        Result r = _poller.Register(handle, token, interest, mode);
        if (!r.IsSuccess)
        {
            _targets.Remove(slot, generation);
            return r.Error;
        }

        return token;
    }

    internal Result Modify(SafeHandle handle, ulong token, Interest interest, TriggerMode mode)
        => _poller.Modify(handle, token, interest, mode);

    /// <summary>Deregisters and forgets the target; later events for its token are dropped.</summary>
    internal Result Deregister(SafeHandle handle, ulong token)
    {
        _targets.Remove((int)(uint)token, (uint)(token >> 32));
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
            IReadinessTarget? target = _targets.Find((int)(uint)ev.Token, (uint)(ev.Token >> 32));
            if (target is null)
                continue;   // deregistered earlier in this batch
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
}
