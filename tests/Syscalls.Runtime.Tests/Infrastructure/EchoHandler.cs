using System;
using System.Collections.Concurrent;
using System.Threading;

namespace Syscalls.Runtime.Tests.Infrastructure;

/// <summary>Echoes every byte; records opens, closes and their reasons.</summary>
public class EchoHandler : IConnectionHandler
{
    private long _bytes;
    private int _opened;
    private int _closed;

    public long Bytes => Interlocked.Read(ref _bytes);

    public int Opened => Volatile.Read(ref _opened);

    public int Closed => Volatile.Read(ref _closed);

    public ConcurrentQueue<OsError> CloseReasons { get; } = new();

    public ConcurrentQueue<OsError> SendErrors { get; } = new();

    public virtual void OnOpened(Connection connection) => Interlocked.Increment(ref _opened);

    public virtual void OnData(Connection connection, ReadOnlySpan<byte> data)
    {
        Interlocked.Add(ref _bytes, data.Length);
        Result r = connection.Send(data);
        if (!r.IsSuccess)
            SendErrors.Enqueue(r.Error);
    }

    public virtual void OnClosed(Connection connection, OsError reason)
    {
        CloseReasons.Enqueue(reason);
        Interlocked.Increment(ref _closed);
    }

    /// <summary>Spins until <paramref name="condition"/> holds or the timeout passes.</summary>
    public static bool WaitFor(Func<bool> condition, int timeoutMs = 10000)
    {
        return SpinWait.SpinUntil(condition, timeoutMs);
    }
}
