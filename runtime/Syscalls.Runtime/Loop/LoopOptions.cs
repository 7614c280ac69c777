using System;

namespace Syscalls.Runtime;

/// <summary>Options for <see cref="EventLoop.Create"/> and <see cref="EventLoop.Start"/>.</summary>
public sealed class LoopOptions
{
    /// <summary>The backend: a poller (epoll, poll, kqueue, AFD, WSAPoll) or a ring (io_uring, IOCP, emulated);
    /// <see cref="BackendKind.Auto"/> lets the selector (and SYSCALLS_BACKEND) choose, with the usual fallbacks.
    /// <see cref="BackendKind.Threads"/> gives the plain poller a thread-per-connection loop uses (poll on Linux,
    /// WSAPoll on Windows, kqueue on macOS).</summary>
    public BackendKind Backend { get; set; } = BackendKind.Auto;

    /// <summary>The loop thread's name (<see cref="EventLoop.Start"/>).</summary>
    public string ThreadName { get; set; } = "syscalls-loop";

    /// <summary>Stack size of the thread <see cref="EventLoop.Start"/> creates; 0: the runtime's default.</summary>
    public int ThreadStackSize { get; set; }

    /// <summary>Size of each receive buffer of a ring loop's shared buffer group (multishot receives land there and
    /// are copied into the caller's memory): idle connections hold none.</summary>
    public int ReceiveBufferSize { get; set; } = 4096;

    /// <summary>Number of buffers in a ring loop's receive group (the memory is pinned for the loop's lifetime).</summary>
    public int ReceiveBufferCount { get; set; } = 1024;

    /// <summary>Default send window of the loop's connections: bytes a connection buffers beyond what the kernel took
    /// before <see cref="AsyncConnection.SendAsync(ReadOnlyMemory{byte}, System.Threading.CancellationToken)"/> waits
    /// (back-pressure).</summary>
    public int SendWindow { get; set; } = 64 * 1024;

    /// <summary>A loop index for metrics and logs (<see cref="EventLoop.Id"/>); -1 assigns the next free number.</summary>
    public int Id { get; set; } = -1;

    /// <summary>Receives the selector's and the loop's log lines.</summary>
    public Action<string>? Log { get; set; }

    internal LoopOptions Clone() => (LoopOptions)MemberwiseClone();
}
