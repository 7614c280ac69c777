namespace Syscalls.Runtime;

/// <summary>The backends the selector knows. Values are stable; new OSes add members.</summary>
public enum BackendKind
{
    /// <summary>Let the selector choose (honours SYSCALLS_BACKEND / SYSCALLS_RING).</summary>
    Auto = 0,
    /// <summary>Linux epoll poller.</summary>
    Epoll = 1,
    /// <summary>poll(2) poller: the portable fallback.</summary>
    Poll = 2,
    /// <summary>Linux io_uring completion ring.</summary>
    IoUring = 3,
    /// <summary>A completion ring emulated on a poller with non-blocking calls.</summary>
    Emulated = 4,
    /// <summary>Blocking sockets, one thread per connection.</summary>
    Threads = 5,
    /// <summary>macOS kqueue poller.</summary>
    Kqueue = 6,
    /// <summary>Windows WSAPoll poller.</summary>
    WsaPoll = 7,
    /// <summary>Windows I/O completion port ring (overlapped Winsock).</summary>
    Iocp = 8,
    /// <summary>Windows poller on the AFD driver (IOCTL_AFD_POLL through a completion port), as in wepoll and
    /// mio.</summary>
    Afd = 9,
}

/// <summary>The outcome of probing one backend (or one of its features) on this host.</summary>
public sealed class BackendProbe
{
    /// <summary>Creates a probe result.</summary>
    public BackendProbe(BackendKind backend, string feature, bool available, OsError error, string detail)
    {
        Backend = backend;
        Feature = feature;
        Available = available;
        Error = error;
        Detail = detail;
    }

    /// <summary>The backend probed.</summary>
    public BackendKind Backend { get; }

    /// <summary>What was probed: "setup", an opcode name, "multishot-accept", ...</summary>
    public string Feature { get; }

    /// <summary>True when usable.</summary>
    public bool Available { get; }

    /// <summary>The error the probe met, if any.</summary>
    public OsError Error { get; }

    /// <summary>Human-readable detail.</summary>
    public string Detail { get; }

    /// <inheritdoc/>
    public override string ToString()
        => $"{Backend.ToString().ToLowerInvariant()} {Feature}: {(Available ? "yes" : "no")}{(Error.IsNone ? "" : " (" + Error + ")")}{(Detail.Length > 0 ? " " + Detail : "")}";
}
