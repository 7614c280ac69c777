using System;
using System.Collections.Generic;
using System.Runtime.Versioning;
using System.Linq;
using Syscalls.Runtime.Backends.Afd;
using Syscalls.Runtime.Backends.Epoll;
using Syscalls.Runtime.Backends.Kqueue;
using Syscalls.Runtime.Backends.Poll;
using Syscalls.Runtime.Backends.WindowsPoll;
using Syscalls.Runtime.Servers;

namespace Syscalls.Runtime;

/// <summary>The one place that chooses backends: OS checks, the environment overrides, io_uring feature probes and
/// the fallbacks. Every probe result is visible through <see cref="Probe"/> and, optionally, as log lines.</summary>
/// <remarks>
/// <para>Per OS, in order of preference (server: the default first; ring: what <see cref="CreateRing"/> picks):
/// Linux: epoll, poll, io_uring, emulated (on epoll), threads. Windows: AFD, WSAPoll, IOCP, emulated (on AFD), threads.
/// macOS: kqueue, emulated (on kqueue), threads. Other OSes have no backend.</para>
/// <para><c>SYSCALLS_BACKEND=epoll|poll|kqueue|afd|wsapoll|uring|iocp|emulated|threads</c> forces the server backend
/// (and the poller kind when it names one) wherever code asks for <see cref="BackendKind.Auto"/>;
/// <c>SYSCALLS_RING=uring|iocp|emulated</c> forces the ring backend. A name this OS does not have, or no backend's
/// name at all, is an error (<see cref="PlatformNotSupportedException"/> naming the variable, its value and the backends
/// this OS has), never a silent fallback.
/// <c>SYSCALLS_LOG=1</c> writes the selector's lines to stderr.</para>
/// <para>io_uring falls back automatically (server: to the epoll loop; ring: to the emulated ring) when setup fails
/// with ENOSYS, EPERM or ENOMEM, or when an opcode or feature the caller needs is missing; IOCP falls back the same
/// way to the emulated ring, and the AFD poller (which needs the \Device\Afd driver) to WSAPoll.</para>
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

    /// <summary>Parses a backend name as used by SYSCALLS_BACKEND and the samples; an unknown name is an
    /// <see cref="ArgumentException"/> that lists this OS's backends.</summary>
    public static BackendKind Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return TryParse(name, out BackendKind kind)
            ? kind
            : throw new ArgumentException($"Unknown backend '{name}'; {HostDescription()}.");
    }

    /// <summary>Parses a backend name (any OS's: "iocp" parses on Linux too); false for an unknown name.</summary>
    public static bool TryParse(string name, out BackendKind kind)
    {
        ArgumentNullException.ThrowIfNull(name);
        kind = name.Trim().ToLowerInvariant() switch
        {
            "" or "auto" or "default" => BackendKind.Auto,
            "epoll" => BackendKind.Epoll,
            "poll" => BackendKind.Poll,
            "uring" or "io_uring" or "iouring" => BackendKind.IoUring,
            "emulated" => BackendKind.Emulated,
            "threads" or "thread" => BackendKind.Threads,
            "kqueue" => BackendKind.Kqueue,
            "wsapoll" or "wsa_poll" => BackendKind.WsaPoll,
            "iocp" => BackendKind.Iocp,
            "afd" => BackendKind.Afd,
            _ => (BackendKind)(-1),
        };
        if ((int)kind >= 0)
            return true;
        kind = BackendKind.Auto;
        return false;
    }

    /// <summary>The short name of a backend, as <see cref="Parse"/> accepts it.</summary>
    public static string NameOf(BackendKind kind) => kind switch
    {
        BackendKind.IoUring => "uring",
        _ => kind.ToString().ToLowerInvariant(),
    };

    /// <summary>The backend SYSCALLS_BACKEND forces, or <see cref="BackendKind.Auto"/>. A value that names no backend
    /// of this OS is a <see cref="PlatformNotSupportedException"/> naming the variable, the value and this OS's
    /// backends.</summary>
    public static BackendKind ForcedServerBackend => FromEnvironment(BackendVariable, HostBackends());

    /// <summary>The ring backend SYSCALLS_RING forces, or <see cref="BackendKind.Auto"/>; a value that names no ring
    /// backend of this OS is an error, as for <see cref="ForcedServerBackend"/>.</summary>
    public static BackendKind ForcedRingBackend => FromEnvironment(RingVariable, HostBackends().Where(IsRing).ToArray());

    /// <summary>Probes every backend once (cached) and returns the results: one line per backend and per io_uring
    /// feature.</summary>
    public static IReadOnlyList<BackendProbe> Probe(bool refresh = false)
    {
        lock (s_gate)
        {
            if (s_probes is not null && !refresh)
                return s_probes;
            var probes = new List<BackendProbe>();
            foreach (BackendKind kind in HostBackends())
            {
                if (kind == BackendKind.Threads)
                    probes.Add(new BackendProbe(BackendKind.Threads, "blocking sockets", true, default, ""));
                else if (IsRing(kind))
                    probes.AddRange(ProbeRing(kind, new RingOptions()));
                else
                    probes.Add(ProbePoller(kind));
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
        foreach (BackendKind kind in HostBackends())
        {
            if (IsUsable(kind, out _))
                kinds.Add(kind);
        }

        return kinds;
    }

    /// <summary>The server backend <paramref name="requested"/> resolves to on this host, and why.</summary>
    public static BackendKind ResolveServerBackend(BackendKind requested, out string reason)
    {
        IReadOnlyList<BackendKind> host = HostBackends();
        if (host.Count == 0)
            throw new PlatformNotSupportedException("Syscalls.Runtime has backends for Linux, Windows and macOS only.");
        string origin = "requested";
        if (requested == BackendKind.Auto)
        {
            requested = ForcedServerBackend;
            origin = $"forced by {BackendVariable}";
        }

        if (requested == BackendKind.Auto)
        {
            requested = host[0];
            origin = "default";
        }

        EnsureOnHost(requested, origin == "requested" ? null : BackendVariable);
        reason = origin;
        return FirstUsable(requested, ref reason);
    }

    /// <summary><paramref name="kind"/>, or the first usable backend of its fallback chain; each step is added to
    /// <paramref name="reason"/>.</summary>
    internal static BackendKind FirstUsable(BackendKind kind, ref string reason)
    {
        while (!IsUsable(kind, out string why))
        {
            BackendKind next = FallbackOf(kind);
            reason += $"; {NameOf(kind)} unavailable ({why}), falling back to {NameOf(next)}";
            kind = next;
        }

        return kind;
    }

    /// <summary>The server backend to try when <paramref name="kind"/> cannot be used; threads always can.</summary>
    internal static BackendKind FallbackOf(BackendKind kind) => kind switch
    {
        BackendKind.IoUring or BackendKind.Emulated when OperatingSystem.IsLinux() => BackendKind.Epoll,
        BackendKind.Epoll => BackendKind.Poll,
        BackendKind.Iocp => BackendKind.Emulated,
        BackendKind.Emulated when OperatingSystem.IsWindows() => BackendKind.Afd,
        BackendKind.Afd => BackendKind.WsaPoll,
        BackendKind.Emulated when OperatingSystem.IsMacOS() => BackendKind.Kqueue,
        _ => BackendKind.Threads,
    };

    /// <summary>Creates a listening server (bound when this returns); call <see cref="IServer.Run"/> to serve.</summary>
    public static IServer CreateServer(ServerOptions options, IConnectionHandler handler)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(handler);
        BackendKind kind = ResolveServerBackend(options.Backend, out string reason);
        return ServerFactory.Create(kind, reason, options, handler);
    }

    /// <summary>What the callback server needs from a ring of <paramref name="kind"/> to be chosen: the multishot model
    /// (an io_uring without it falls back to the epoll server), except on IOCP, which has none and is served
    /// single-shot.</summary>
    internal static RingFeatures ServerRingFeatures(BackendKind kind) => kind == BackendKind.Iocp
        ? RingFeatures.None
        : RingFeatures.MultishotAccept | RingFeatures.MultishotRecv | RingFeatures.ProvidedBuffers;

    /// <summary>Creates a poller: <paramref name="kind"/> Epoll, Poll, Afd, WsaPoll or Kqueue, or Auto
    /// (SYSCALLS_BACKEND if it names a poller of this OS, else Linux: epoll, falling back to poll; Windows: AFD,
    /// falling back to WSAPoll; macOS: kqueue).</summary>
    public static IPoller CreatePoller(BackendKind kind = BackendKind.Auto)
    {
        if (HostBackends().Count == 0)
            throw new PlatformNotSupportedException("Syscalls.Runtime has pollers for Linux, Windows and macOS only.");
        bool auto = kind == BackendKind.Auto;
        if (auto)
        {
            BackendKind forced = ForcedServerBackend;
            kind = IsPoller(forced) && HostBackends().Contains(forced) ? forced : DefaultPoller();
        }

        if (!IsPoller(kind))
            throw new ArgumentException($"{kind} is not a poller.", nameof(kind));
        EnsureOnHost(kind, null);
        IPoller? poller = CreatePollerExact(kind, out OsError error);
        // A poller that cannot start falls back along the servers' chain (epoll -> poll, AFD -> WSAPoll): always for
        // epoll, otherwise only when the caller left the choice to us.
        while (poller is null && (auto || kind == BackendKind.Epoll) && IsPoller(FallbackOf(kind)))
        {
            BackendKind next = FallbackOf(kind);
            Emit(null, $"poller: {NameOf(next)} ({NameOf(kind)} unavailable: {error})");
            kind = next;
            poller = CreatePollerExact(kind, out error);
        }

        return poller ?? throw new OsException(error);
    }

    /// <summary>Creates a completion ring: <paramref name="kind"/> IoUring or Emulated, or Auto (SYSCALLS_RING, else
    /// io_uring when its probes pass, else emulated).</summary>
    public static IRing CreateRing(RingOptions? options = null, BackendKind kind = BackendKind.Auto)
    {
        options ??= new RingOptions();
        string? variable = null;
        if (kind == BackendKind.Auto)
        {
            kind = ForcedRingBackend;
            variable = RingVariable;
        }

        if (kind == BackendKind.Auto)
            kind = OperatingSystem.IsLinux() ? BackendKind.IoUring : OperatingSystem.IsWindows() ? BackendKind.Iocp : BackendKind.Emulated;
        if (!IsRing(kind))
            throw new ArgumentException($"{kind} is not a ring backend.", nameof(kind));
        EnsureOnHost(kind, variable);
        if (kind is BackendKind.IoUring or BackendKind.Iocp)
        {
            if (TryCreateRing(kind, options, out IRing? ring, out string why))
            {
                Emit(null, $"ring backend: {NameOf(kind)}");
                return ring!;
            }

            Emit(null, kind == BackendKind.IoUring
                ? $"ring backend: emulated (io_uring unavailable: {why})"
                : $"ring backend: emulated (iocp unavailable: {why})");
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

    /// <summary>Implemented beside the IOCP ring: hands out its provider.</summary>
    static partial void GetIocpProvider(ref IRingProvider? provider);

    internal static IRingProvider? RingProvider(BackendKind kind)
    {
        IRingProvider? provider = null;
        if (kind == BackendKind.IoUring)
            GetIoUringProvider(ref provider);
        else if (kind == BackendKind.Emulated)
            GetEmulatedProvider(ref provider);
        else if (kind == BackendKind.Iocp)
            GetIocpProvider(ref provider);
        return provider;
    }

    internal static bool TryCreateRing(BackendKind kind, RingOptions options, out IRing? ring, out string why)
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

    /// <summary>The backends of this OS, the default server backend first (see the remarks of this class).</summary>
    private static IReadOnlyList<BackendKind> HostBackends()
    {
        if (OperatingSystem.IsLinux())
            return s_linux;
        if (OperatingSystem.IsWindows())
            return s_windows;
        if (OperatingSystem.IsMacOS())
            return s_macos;
        return [];
    }

    private static readonly BackendKind[] s_linux = [BackendKind.Epoll, BackendKind.Poll, BackendKind.IoUring, BackendKind.Emulated, BackendKind.Threads];
    private static readonly BackendKind[] s_windows = [BackendKind.Afd, BackendKind.WsaPoll, BackendKind.Iocp, BackendKind.Emulated, BackendKind.Threads];
    private static readonly BackendKind[] s_macos = [BackendKind.Kqueue, BackendKind.Emulated, BackendKind.Threads];

    private static BackendKind DefaultPoller() => OperatingSystem.IsWindows() ? BackendKind.Afd : OperatingSystem.IsMacOS() ? BackendKind.Kqueue : BackendKind.Epoll;

    internal static bool IsRing(BackendKind kind) => kind is BackendKind.IoUring or BackendKind.Emulated or BackendKind.Iocp;

    internal static bool IsPoller(BackendKind kind) => kind is BackendKind.Epoll or BackendKind.Poll or BackendKind.Afd or BackendKind.WsaPoll or BackendKind.Kqueue;

    /// <summary>A backend of another OS is a configuration error, named as such (and where it came from).</summary>
    private static void EnsureOnHost(BackendKind kind, string? variable)
    {
        if (HostBackends().Contains(kind))
            return;
        string source = variable is null ? "" : $" ({variable}={Environment.GetEnvironmentVariable(variable)})";
        throw new PlatformNotSupportedException($"Backend {NameOf(kind)}{source} is not available on {OsName()}; {HostDescription()}.");
    }

    private static bool IsUsable(BackendKind kind, out string why)
    {
        why = "";
        if (!HostBackends().Contains(kind))
        {
            why = "not on this OS";
            return false;
        }

        if (IsRing(kind))
        {
            IRingProvider? provider = RingProvider(kind);
            if (provider is null)
            {
                why = "backend not built";
                return false;
            }

            // Probed with what the ring server needs, so a ring that lacks it is passed over here, not after setup.
            foreach (BackendProbe p in provider.Probe(new RingOptions { RequiredFeatures = ServerRingFeatures(kind) }))
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

    private static BackendProbe ProbePoller(BackendKind kind)
    {
        try
        {
            IPoller? poller = CreatePollerExact(kind, out OsError error);
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

    /// <summary>Exactly <paramref name="kind"/> (no fallback), or null with the error.</summary>
    internal static IPoller? CreatePollerExact(BackendKind kind, out OsError error)
    {
        error = OsError.FromKind(ErrorKind.NotSupported);
        if (kind == BackendKind.Epoll && OperatingSystem.IsLinux())
        {
            Result<EpollPoller> ep = EpollPoller.Create();
            error = ep.Error;
            return ep.IsSuccess ? ep.Value : null;
        }

        if (kind == BackendKind.Poll && OperatingSystem.IsLinux())
        {
            Result<PollPoller> p = PollPoller.Create();
            error = p.Error;
            return p.IsSuccess ? p.Value : null;
        }

        if (kind == BackendKind.Afd && OperatingSystem.IsWindows())
        {
            Result<AfdPoller> a = AfdPoller.TryCreate();
            error = a.Error;
            return a.IsSuccess ? a.Value : null;
        }

        if (kind == BackendKind.WsaPoll && OperatingSystem.IsWindows())
        {
            Result<WindowsPoller> w = WindowsPoller.TryCreate();
            error = w.Error;
            return w.IsSuccess ? w.Value : null;
        }

        if (kind == BackendKind.Kqueue && OperatingSystem.IsMacOS())
            return KqueuePoller.TryCreate(out IPoller? kq, out error) ? kq : null;
        return null;
    }

    private static IEnumerable<BackendProbe> ProbeRing(BackendKind kind, RingOptions options)
    {
        IRingProvider? provider = RingProvider(kind);
        if (provider is null)
            return new[] { new BackendProbe(kind, "setup", false, OsError.FromKind(ErrorKind.NotSupported), "backend not built") };
        return provider.Probe(options);
    }

    private static BackendKind FromEnvironment(string variable, IReadOnlyList<BackendKind> allowed)
    {
        string? value = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrWhiteSpace(value))
            return BackendKind.Auto;
        if (TryParse(value, out BackendKind kind) && (kind == BackendKind.Auto || allowed.Contains(kind)))
            return kind;
        string what = TryParse(value, out _) ? $"is not {(variable == RingVariable ? "a ring backend" : "a backend")} of {OsName()}"
            : "is not a backend";
        throw new PlatformNotSupportedException(
            $"{variable}={value} {what}; {OsName()} has: {(allowed.Count == 0 ? "none" : string.Join(", ", allowed.Select(NameOf)))}.");
    }

    private static string OsName()
        => OperatingSystem.IsLinux() ? "Linux" : OperatingSystem.IsWindows() ? "Windows" : OperatingSystem.IsMacOS() ? "macOS" : "this OS";

    /// <summary>"Linux has: epoll, poll, uring, emulated, threads" (or that this OS has none).</summary>
    private static string HostDescription()
    {
        IReadOnlyList<BackendKind> host = HostBackends();
        return host.Count == 0 ? $"{OsName()} has no backend" : $"{OsName()} has: {string.Join(", ", host.Select(NameOf))}";
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
