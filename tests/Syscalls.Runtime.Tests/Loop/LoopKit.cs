using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Syscalls.Runtime.Tests.Infrastructure;

namespace Syscalls.Runtime.Tests.Loop;

/// <summary>Helpers for loop tests: loops of a named backend, bodies run on a loop, waits that come back off it.</summary>
internal static class LoopKit
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>The host's default backend (the selector's choice, or what SYSCALLS_BACKEND forces), for tests of the
    /// loop itself: a backend named here would be missing on some OS ("poll" on Windows, "epoll" on macOS).</summary>
    public const string DefaultBackend = "auto";

    /// <summary>A loop on its own thread for the backend named as TestBackends names it ("threads": the plain poller a
    /// thread-per-connection loop uses).</summary>
    public static EventLoop Start(string backend, Action<LoopOptions>? configure = null)
    {
        var options = new LoopOptions { Backend = TestBackends.Kind(backend) };
        configure?.Invoke(options);
        return EventLoop.Start(options);
    }

    /// <summary>Runs <paramref name="body"/> on <paramref name="loop"/> (its awaits resume there) and returns a task the
    /// test awaits with <see cref="Off"/>.</summary>
    public static Task<T> On<T>(EventLoop loop, Func<Task<T>> body)
    {
        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        loop.Post(async _ =>
        {
            try
            {
                result.TrySetResult(await body());
            }
            catch (Exception e)
            {
                result.TrySetException(e);
            }
        }, null);
        return result.Task;
    }

    public static Task On(EventLoop loop, Func<Task> body) => On(loop, async () =>
    {
        await body();
        return true;
    });

    /// <summary>Waits for <paramref name="task"/> with a deadline, resuming on the thread pool (never on a loop).</summary>
    public static async Task<T> Off<T>(Task<T> task)
        => await task.WaitAsync(Patience).ConfigureAwait(ConfigureAwaitOptions.ForceYielding);

    public static async Task Off(Task task)
        => await task.WaitAsync(Patience).ConfigureAwait(ConfigureAwaitOptions.ForceYielding);

    /// <summary>Echoes every connection the listener accepts until it is disposed (runs on the listener's loop).</summary>
    public static async Task ServeEcho(AsyncListener listener, int bufferSize = 4096)
    {
        while (await listener.AcceptAsync() is { } c)
            _ = EchoOne(c, bufferSize);
    }

    public static async Task EchoOne(AsyncConnection c, int bufferSize = 4096)
    {
        var buffer = new byte[bufferSize];
        try
        {
            int n;
            while ((n = await c.ReceiveAsync(buffer)) > 0)
                await c.SendAsync(buffer.AsMemory(0, n));
        }
        catch (OsException)
        {
        }
        finally
        {
            await c.CloseAsync();
        }
    }

    /// <summary>This process's TCP sockets whose local or remote port is <paramref name="port"/> (Linux: the socket
    /// inodes of /proc/net/tcp and tcp6 matched with /proc/self/fd), or -1 where that cannot be read. Unlike a count
    /// of every descriptor, other tests running in parallel do not move it.</summary>
    public static int SocketsOnPort(int port)
    {
        if (!OperatingSystem.IsLinux())
            return -1;
        var inodes = new HashSet<string>();
        foreach (string table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(table))
                continue;
            foreach (string line in File.ReadLines(table).Skip(1))
            {
                // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
                string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length > 9 && (PortOf(f[1]) == port || PortOf(f[2]) == port))
                    inodes.Add($"socket:[{f[9]}]");
            }
        }

        int count = 0;
        foreach (string fd in Directory.GetFiles("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is { } target && inodes.Contains(target))
                    count++;
            }
            catch (IOException)
            {
                // closed while we looked
            }
        }

        return count;

        static int PortOf(string address) => Convert.ToInt32(address[(address.IndexOf(':') + 1)..], 16);
    }

    /// <summary>Waits (up to 10 s) until <see cref="SocketsOnPort"/> is at most <paramref name="count"/>; true where it
    /// cannot be read.</summary>
    public static bool SocketsOnPortDropTo(int port, int count)
    {
        for (int i = 0; i < 200; i++)
        {
            int now = SocketsOnPort(port);
            if (now <= count)
                return true;
            Thread.Sleep(50);
        }

        return false;
    }

    /// <summary>Receives exactly <paramref name="buffer"/>.Length bytes.</summary>
    public static async Task ReceiveExactly(AsyncConnection c, Memory<byte> buffer)
    {
        int got = 0;
        while (got < buffer.Length)
        {
            int n = await c.ReceiveAsync(buffer[got..]);
            if (n == 0)
                throw new InvalidOperationException($"end of stream after {got} of {buffer.Length} bytes");
            got += n;
        }
    }
}
