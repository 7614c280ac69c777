using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Net;
using Syscalls.Runtime.Sockets;
using Syscalls.Runtime.Tests.Infrastructure;
using Xunit;

namespace Syscalls.Runtime.Tests.Ring;

/// <summary>Theory data and helpers for the ring tests: every ring backend (io_uring is skipped, saying why, where the
/// host lacks it; SYSCALLS_RING narrows the list to the forced one for the CI's fallback pass).</summary>
public static class RingKit
{
    public static TheoryData<string> Backends
    {
        get
        {
            BackendKind forced = BackendSelector.ForcedRingBackend;
            var data = new TheoryData<string>();
            if (forced is BackendKind.Auto or BackendKind.IoUring)
                data.Add("uring");
            if (forced is BackendKind.Auto or BackendKind.Emulated)
                data.Add("emulated");
            return data;
        }
    }

    /// <summary>A ring of the named backend, exactly that one: skips (with the probe's reason) when io_uring is not
    /// usable here instead of testing the fallback under the io_uring name.</summary>
    public static IRing Create(string backend, int entries = 256, RingFeatures required = RingFeatures.None)
    {
        BackendKind kind = BackendSelector.Parse(backend);
        var options = new RingOptions { Entries = entries, RequiredFeatures = required };
        if (kind == BackendKind.IoUring)
        {
            Platform.RequireLinux("io_uring");
            foreach (BackendProbe p in BackendSelector.Probe())
            {
                if (p.Backend == BackendKind.IoUring && !p.Available)
                    Assert.Skip("io_uring is not usable on this host: " + p);
            }
        }

        IRing ring = BackendSelector.CreateRing(options, kind);
        bool isUring = ring.Name == "io_uring";
        if (isUring != (kind == BackendKind.IoUring))
        {
            ring.Dispose();
            Assert.Fail($"asked for {backend}, got {ring.Name}");
        }

        return ring;
    }

    /// <summary>Submits and harvests until <paramref name="done"/> holds; every completion goes to <paramref name="sink"/>.</summary>
    public static void Drive(IRing ring, List<RingCompletion> sink, Func<bool> done, int timeoutMs = 10000, Action<RingCompletion>? onEach = null)
    {
        var buffer = new RingCompletion[256];
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            if (clock.ElapsedMilliseconds > timeoutMs)
                Assert.Fail($"ring did not finish in {timeoutMs} ms; completions so far: {string.Join("; ", sink)}");
            int n = ring.SubmitAndWait(buffer, 50).Value;
            for (int i = 0; i < n; i++)
            {
                sink.Add(buffer[i]);
                onEach?.Invoke(buffer[i]);
            }
        }
    }

    /// <summary>Drives until a completion tagged <paramref name="userData"/> arrives and returns it.</summary>
    public static RingCompletion WaitFor(IRing ring, List<RingCompletion> sink, UserData userData, int timeoutMs = 10000)
    {
        Drive(ring, sink, () => sink.Exists(c => c.UserData == userData), timeoutMs);
        return sink.Find(c => c.UserData == userData);
    }

    public static void Enqueue(IRing ring, in RingOperation op)
    {
        Result r = ring.Enqueue(op);
        if (r.Error.Kind == ErrorKind.WouldBlock)
        {
            ring.Submit().Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
            r = ring.Enqueue(op);
        }

        r.ThrowIfFailed();
    }

    public static UserData Tag(uint slot, byte tag = 0, uint generation = 1) => UserData.Create(slot, generation, tag);

    public static (SocketHandle Listener, IPEndPoint EndPoint) Listen()
    {
        SocketHandle listener = SocketOps.Listen(NetEndpoint.Loopback(0)).Value;
        return (listener, SocketOps.GetLocalEndpoint(listener).Value.ToIPEndPoint());
    }
}
