using System;
using System.IO.Pipelines;

namespace Syscalls.Runtime;

/// <summary>The adapters the .NET ecosystem expects of a connection: a pipe for Pipelines code, a stream for
/// stream code (TLS through <see cref="System.Net.Security.SslStream"/>), the loop as a pipe scheduler. Each may be
/// called from any thread.</summary>
public static class ConnectionAdapters
{
    /// <summary>The connection as an <see cref="System.IO.Pipelines.IDuplexPipe"/> that owns it
    /// (<see cref="ConnectionPipe.Create"/>).</summary>
    public static ConnectionPipe AsPipe(this AsyncConnection connection, ConnectionPipeOptions? options = null)
        => ConnectionPipe.Create(connection, options);

    /// <summary>The connection as a <see cref="System.IO.Stream"/> (<see cref="ConnectionStream"/>).</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="leaveOpen">True: disposing the stream leaves the connection open.</param>
    public static ConnectionStream AsStream(this AsyncConnection connection, bool leaveOpen = false)
        => new(connection, leaveOpen);

    /// <summary>The loop as a <see cref="PipeScheduler"/>: scheduled continuations are posted to it without allocating
    /// (after it stopped, they run on the thread pool). One instance per loop.</summary>
    public static PipeScheduler AsPipeScheduler(this EventLoop loop)
    {
        ArgumentNullException.ThrowIfNull(loop);
        return LoopPipeScheduler.For(loop);
    }
}
