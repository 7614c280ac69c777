using System;

namespace Syscalls.Runtime.Servers.Common;

/// <summary>How long a server stops accepting after EMFILE, ENFILE, ENOMEM or an unexpected accept error: 50 ms, then
/// twice as long each time it fails again, up to a second; back to 50 ms once a connection is accepted. EMFILE leaves
/// the connection queued, so accepting again at once would spin at 100% CPU.</summary>
internal struct AcceptBackoff
{
    private const int MinMs = 50, MaxMs = 1000;
    private int _nextMs;

    /// <summary>True between <see cref="Pause"/> and <see cref="Resume"/>.</summary>
    internal bool Paused { get; private set; }

    /// <summary>Pauses (again) and returns how long for; <paramref name="first"/> tells whether it was running, so the
    /// caller logs and stops watching the listener only then.</summary>
    internal int Pause(out bool first)
    {
        first = !Paused;
        Paused = true;
        int ms = _nextMs == 0 ? MinMs : _nextMs;
        _nextMs = Math.Min(ms * 2, MaxMs);
        return ms;
    }

    /// <summary>Accepting again (the pause ended, or a descriptor was freed).</summary>
    internal void Resume() => Paused = false;

    /// <summary>A connection was accepted: the next pause starts short again.</summary>
    internal void Reset() => _nextMs = 0;
}
