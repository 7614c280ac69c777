using System;
using System.Collections.Generic;
using System.Runtime.Versioning;
using Syscalls.Runtime.Backends.Epoll;
using Syscalls.Runtime.Backends.Poll;
using Syscalls.Runtime.Backends.Threads;
using Syscalls.Runtime.Servers;

namespace Syscalls.Runtime;

/// <summary>The one place that chooses backends: OS checks, the environment overrides, io_uring feature probes and
/// the fallbacks. Every probe result is visible through <see cref="Probe"/> and, optionally, as log lines.</summary>
/// <remarks>
/// <para><c>SYSCALLS_BACKEND=epoll|poll|uring|emulated|threads</c> forces the server backend (and the poller kind when
/// it names one) wherever code asks for <see cref="BackendKind.Auto"/>; <c>SYSCALLS_RING=uring|emulated</c> forces the
/// ring backend. <c>SYSCALLS_LOG=1</c> writes the selector's lines to stderr.</para>
/// <para>io_uring falls back automatically (server: to the epoll loop; ring: to the emulated ring) when setup fails
/// with ENOSYS, EPERM or ENOMEM, or when an opcode or feature the caller needs is missing.</para>
/// <para>Ring backends plug in through the partial methods below (implemented beside each backend), so this file
/// compiles whether or not they are present.</para>
/// </remarks>
public static partial class BackendSelector
{
    /// <summary>Environment variable that forces the server backend.</summary>
    public const string BackendVariable = "SYSCALLS_BACKEND";

    /// <summary>Environment variable that forces the ring backend.</summary>
    public const string RingVariable = "SYSCALLS_RING";

    /// <summary>Environment variable that turns on the selector's log lines on stderr.</summary>
    public const string LogVariable = "SYSCALLS_LOG";

    private static readonly object s_gate = new();
    private static List<BackendProbe>? s_probes;

    /// <summary>Receives the selector's log lines (in addition to stderr when SYSCALLS_LOG=1).</summary>
    public static Action<string>? Log { get; set; }

    /// <summary>Parses a backend name as used by SYSCALLS_BACKEND and the samples.</summary>
    public static BackendKind Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "" or "auto" or "default" => BackendKind.Auto,
        "epoll" => BackendKind.Epoll,
        "poll" => BackendKind.Poll,
        "uring" or "io_uring" or "iouring" => BackendKind.IoUring,
        "emulated" => BackendKind.Emulated,
        "threads" or "thread" => BackendKind.Threads,
        _ => throw new ArgumentException($"Unknown backend '{name}' (epoll, poll, uring, emulated, threads).", nameof(name)),
    };

    /// <summary>The short name of a backend, as <see cref="Parse"/> accepts it.</summary>
    public static string NameOf(BackendKind kind) => kind switch
    {
        BackendKind.IoUring => "uring",
        _ => kind.ToString().ToLowerInvariant(),
    };

    /// <summary>The backend SYSCALLS_BACKEND forces, or <see cref="BackendKind.Auto"/>.</summary>
    public static BackendKind ForcedServerBackend => FromEnvironment(BackendVariable);

    /// <summary>The ring backend SYSCALLS_RING forces, or <see cref="BackendKind.Auto"/>.</summary>
    public static BackendKind ForcedRingBackend => FromEnvironment(RingVariable);

    /// <summary>Probes every backend once (cached) and returns the results: one line per backend and per io_uring
    /// feature.</summary>
    public static IReadOnlyList<BackendProbe> Probe(bool refresh = false)
    {
        lock (s_gate)
        {
            if (s_probes is not null && !refresh)
                return s_probes;
            var probes = new List<BackendProbe>();
            if (OperatingSystem.IsLinux())
            {
                probes.Add(ProbePoller(BackendKind.Epoll));
                probes.Add(ProbePoller(BackendKind.Poll));
                probes.Add(new BackendProbe(BackendKind.Threads, "blocking sockets", true, default, ""));
                probes.AddRange(ProbeRing(BackendKind.IoUring, new RingOptions()));
                probes.AddRange(ProbeRing(BackendKind.Emulated, new RingOptions()));
            }

            foreach (BackendProbe p in probes)
                Emit(null, "probe: " + p);
            s_probes = probes;
            return probes;
        }
    }

    /// <summary>Server backends usable on this host without fallback (for tests and tools).</summary>
    public static IReadOnlyList<BackendKind> SupportedServerBackends()
    {
        var kinds = new List<BackendKind>();
        foreach (BackendKind kind in new[] { BackendKind.Epoll, BackendKind.Poll, BackendKind.IoUring, BackendKind.Emulated, BackendKind.Threads })
        {
            if (IsUsable(kind, out _))
                kinds.Add(kind);
        }

        return kinds;
    }

    /// <summary>The server backend <paramref name="requested"/> resolves to on this host, and why.</summary>
    public static BackendKind ResolveServerBackend(BackendKind requested, out string reason)
    {
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException("Syscalls.Runtime has backends for Linux only so far.");
        string origin = "requested";
        if (requested == BackendKind.Auto)
        {
            requested = ForcedServerBackend;
            origin = $"forced by {BackendVariable}";
        }

        if (requested == BackendKind.Auto)
        {
            requested = BackendKind.Epoll;
            origin = "default";
        }

        BackendKind chosen = requested;
        reason = origin;
        while (!IsUsable(chosen, out string why))
        {
            BackendKind next = chosen switch
            {
                BackendKind.IoUring or BackendKind.Emulated => BackendKind.Epoll,
                BackendKind.Epoll => BackendKind.Poll,
                _ => BackendKind.Threads,
            };
            reason += $"; {NameOf(chosen)} unavailable ({why}), falling back to {NameOf(next)}";
            chosen = next;
        }

        return chosen;
    }

    /// <summary>Creates a listening server (bound when this returns); call <see cref="IServer.Run"/> to serve.</summary>
    public static IServer CreateServer(ServerOptions options, IConnectionHandler handler)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(handler);
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException("Syscalls.Runtime has servers for Linux only so far.");
        BackendKind kind = ResolveServerBackend(options.Backend, out string reason);
        if (kind is BackendKind.IoUring or BackendKind.Emulated)
        {
            string why = "ring server model not built";
            if (RingServerFactory is { } factory && TryCreateRing(kind, new RingOptions(), out IRing? ring, out why))
            {
                Emit(options.Log, $"server backend: {NameOf(kind)} ({reason})");
                return factory(kind, reason, ring!, options, handler);
            }

            reason += $"; {NameOf(kind)} ring setup failed ({why}), falling back to epoll";
            kind = BackendKind.Epoll;
        }

        Emit(options.Log, $"server backend: {NameOf(kind)} ({reason})");
        return CreateServerCore(kind, reason, options, handler);
    }

    /// <summary>Creates a poller: <paramref name="kind"/> Epoll or Poll, or Auto (SYSCALLS_BACKEND if it names a
    /// poller, else epoll, falling back to poll).</summary>
    public static IPoller CreatePoller(BackendKind kind = BackendKind.Auto)
    {
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException("Syscalls.Runtime has pollers for Linux only so far.");
        if (kind == BackendKind.Auto)
            kind = ForcedServerBackend == BackendKind.Poll ? BackendKind.Poll : BackendKind.Epoll;
        return kind switch
        {
            BackendKind.Epoll => EpollPoller.Create() is { IsSuccess: true } ep ? ep.Value : PollPoller.Create().Value,
            BackendKind.Poll => PollPoller.Create().Value,
            _ => throw new ArgumentException($"{kind} is not a poller.", nameof(kind)),
        };
    }

    /// <summary>Creates a completion ring: <paramref name="kind"/> IoUring or Emulated, or Auto (SYSCALLS_RING, else
    /// io_uring when its probes pass, else emulated).</summary>
    public static IRing CreateRing(RingOptions? options = null, BackendKind kind = BackendKind.Auto)
    {
        options ??= new RingOptions();
        if (kind == BackendKind.Auto)
            kind = ForcedRingBackend;
        if (kind == BackendKind.Auto)
            kind = BackendKind.IoUring;
        if (kind == BackendKind.IoUring)
        {
            if (TryCreateRing(BackendKind.IoUring, options, out IRing? ring, out string why))
            {
                Emit(null, "ring backend: uring");
                return ring!;
            }

            Emit(null, $"ring backend: emulated (io_uring unavailable: {why})");
            kind = BackendKind.Emulated;
        }

        if (kind == BackendKind.Emulated && TryCreateRing(BackendKind.Emulated, options, out IRing? emulated, out string reason))
            return emulated!;
        throw new PlatformNotSupportedException($"No ring backend for {kind}: " + (kind == BackendKind.Emulated ? "the emulated ring is not built" : "not a ring backend"));
    }

    // ---------------------------------------------------------------- ring providers

    /// <summary>Implemented beside the io_uring backend: hands out its provider.</summary>
    static partial void GetIoUringProvider(ref IRingProvider? provider);

    /// <summary>Implemented beside the emulated ring: hands out its provider.</summary>
    static partial void GetEmulatedProvider(ref IRingProvider? provider);

    internal static IRingProvider? RingProvider(BackendKind kind)
    {
        IRingProvider? provider = null;
        if (kind == BackendKind.IoUring)
            GetIoUringProvider(ref provider);
        else if (kind == BackendKind.Emulated)
            GetEmulatedProvider(ref provider);
        return provider;
    }

    /// <summary>Hook for the ring server model: set by the ring author once a ring-driven server exists.</summary>
    internal static Func<BackendKind, string, IRing, ServerOptions, IConnectionHandler, IServer>? RingServerFactory { get; set; }

    private static bool TryCreateRing(BackendKind kind, RingOptions options, out IRing? ring, out string why)
    {
        ring = null;
        IRingProvider? provider = RingProvider(kind);
        if (provider is null)
        {
            why = "backend not built";
            return false;
        }

        foreach (BackendProbe p in provider.Probe(options))
        {
            if (!p.Available)
            {
                why = p.ToString();
                return false;
            }
        }

        Result<IRing> created = provider.Create(options);
        if (!created.TryGetValue(out ring))
        {
            why = $"setup failed: {created.Error}";
            return false;
        }

        why = "";
        return true;
    }

    // ---------------------------------------------------------------- internals

    [SupportedOSPlatform("linux")]
    private static IServer CreateServerCore(BackendKind kind, string reason, ServerOptions options, IConnectionHandler handler)
    {
        switch (kind)
        {
            case BackendKind.Epoll:
                return new PollerServer(kind, reason, EpollPoller.Create().Value, options, handler);
            case BackendKind.Poll:
                return new PollerServer(kind, reason, PollPoller.Create().Value, options, handler);
            case BackendKind.Threads:
                return new ThreadServer(reason, options, handler);
            default:
                throw new PlatformNotSupportedException($"No server for backend {kind}.");
        }
    }

    private static bool IsUsable(BackendKind kind, out string why)
    {
        why = "";
        if (!OperatingSystem.IsLinux())
        {
            why = "not Linux";
            return false;
        }

        if (kind is BackendKind.IoUring or BackendKind.Emulated)
        {
            if (RingServerFactory is null)
            {
                why = "ring server model not built";
                return false;
            }

            IRingProvider? provider = RingProvider(kind);
            if (provider is null)
            {
                why = "backend not built";
                return false;
            }

            foreach (BackendProbe p in provider.Probe(new RingOptions()))
            {
                if (!p.Available)
                {
                    why = p.ToString();
                    return false;
                }
            }

            return true;
        }

        foreach (BackendProbe p in Probe())
        {
            if (p.Backend == kind && !p.Available)
            {
                why = p.ToString();
                return false;
            }
        }

        return true;
    }

    [SupportedOSPlatform("linux")]
    private static BackendProbe ProbePoller(BackendKind kind)
    {
        try
        {
            IPoller poller = CreatePollerExact(kind, out OsError error);
            if (poller is null)
                return new BackendProbe(kind, "create", false, error, "");
            poller.Dispose();
            return new BackendProbe(kind, "create", true, default, "");
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return new BackendProbe(kind, "create", false, OsError.FromKind(ErrorKind.NotSupported), e.Message);
        }
    }

    [SupportedOSPlatform("linux")]
    private static IPoller CreatePollerExact(BackendKind kind, out OsError error)
    {
        error = default;
        if (kind == BackendKind.Epoll)
        {
            Result<EpollPoller> ep = EpollPoller.Create();
            error = ep.Error;
            return ep.IsSuccess ? ep.Value : null!;
        }

        Result<PollPoller> p = PollPoller.Create();
        error = p.Error;
        return p.IsSuccess ? p.Value : null!;
    }

    private static IEnumerable<BackendProbe> ProbeRing(BackendKind kind, RingOptions options)
    {
        IRingProvider? provider = RingProvider(kind);
        if (provider is null)
            return new[] { new BackendProbe(kind, "setup", false, OsError.FromKind(ErrorKind.NotSupported), "backend not built") };
        return provider.Probe(options);
    }

    private static BackendKind FromEnvironment(string variable)
    {
        string? value = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrWhiteSpace(value))
            return BackendKind.Auto;
        try
        {
            return Parse(value);
        }
        catch (ArgumentException)
        {
            Emit(null, $"ignoring {variable}={value}: unknown backend");
            return BackendKind.Auto;
        }
    }

    internal static void Emit(Action<string>? extra, string line)
    {
        line = "syscalls: " + line;
        Log?.Invoke(line);
        extra?.Invoke(line);
        if (Environment.GetEnvironmentVariable(LogVariable) is "1" or "true")
            Console.Error.WriteLine(line);
    }
}

/// <summary>What a ring backend supplies to the selector (implemented in Backends/IoUring and Backends/Emulated).</summary>
internal interface IRingProvider
{
    /// <summary>The backend.</summary>
    BackendKind Kind { get; }

    /// <summary>Probes setup and every opcode/feature <paramref name="options"/> needs; each result is one line.
    /// Any unavailable entry makes the selector fall back. Must not throw.</summary>
    IReadOnlyList<BackendProbe> Probe(RingOptions options);

    /// <summary>Creates the ring.</summary>
    Result<IRing> Create(RingOptions options);
}
