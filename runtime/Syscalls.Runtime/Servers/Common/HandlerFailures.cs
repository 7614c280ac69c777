using System;

namespace Syscalls.Runtime.Servers.Common;

/// <summary>What every server does when a handler callback throws: the exception is reported (to
/// <see cref="ServerOptions.OnHandlerError"/> and the log) and that connection alone is aborted with
/// <see cref="Reason"/>; the loop, and every other connection, goes on.</summary>
internal static class HandlerFailures
{
    /// <summary>The close reason of a connection whose handler threw.</summary>
    internal static readonly OsError Reason = OsError.FromKind(ErrorKind.HandlerFailed);

    /// <summary>Reports <paramref name="exception"/>, thrown by <paramref name="callback"/> for
    /// <paramref name="connection"/>. Never throws: a throwing report callback is only logged.</summary>
    internal static void Report(ServerOptions options, string server, Connection connection, string callback, Exception exception)
    {
        try
        {
            options.Log?.Invoke($"{server}: {callback} of connection {connection} threw; closing it: {exception}");
            options.OnHandlerError?.Invoke(connection, exception);
        }
#pragma warning disable CA1031 // the report of a failure must not become a second one that ends the loop
        catch (Exception e)
#pragma warning restore CA1031
        {
            try
            {
                options.Log?.Invoke($"{server}: the handler-error callback threw too: {e}");
            }
#pragma warning disable CA1031
            catch
#pragma warning restore CA1031
            {
                // The log itself threw: nothing is left to tell.
            }
        }
    }
}
