using System;
using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using System.Runtime.InteropServices;
using System.Threading;
using Syscalls.Runtime;

namespace Syscalls.Samples.Echo;

/// <summary>An echo server: every byte a client sends comes back. One loop thread for the loop backends.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        string backend = "auto";
        int port = 9000;
        bool async = false;
        int loops = 1;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--backend" when i + 1 < args.Length:
                    backend = args[++i];
                    break;
                case "--port" when i + 1 < args.Length:
                    port = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--async":
                    async = true;
                    break;
                case "--loops" when i + 1 < args.Length:
                    loops = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "-h" or "--help":
                    Console.WriteLine("usage: Echo [--backend epoll|poll|uring|emulated|threads] [--port N] [--async] [--loops N]");
                    Console.WriteLine("  --async    the same echo written with await (AsyncServer), on any backend");
                    Console.WriteLine("  --loops N  loops serving the port (0: one per processor; default 1)");
                    return 0;
                default:
                    Console.Error.WriteLine($"unknown argument '{args[i]}' (try --help)");
                    return 2;
            }
        }

        if (async)
            return AsyncEcho.Run(backend, port, loops);
        if (loops != 1)
        {
            Console.Error.WriteLine("echo: --loops needs --async (the callback server runs one loop)");
            return 2;
        }

        var handler = new EchoHandler();
        IServer server;
        try
        {
            server = BackendSelector.CreateServer(new ServerOptions
            {
                Backend = BackendSelector.Parse(backend),
                Endpoint = NetEndpoint.Loopback(port),
                Log = Console.Error.WriteLine,
            }, handler);
        }
        catch (Exception e) when (e is OsException or ArgumentException or PlatformNotSupportedException)
        {
            Console.Error.WriteLine($"echo: cannot start: {e.Message}");
            return 1;
        }

        using (server)
        {
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
            Console.WriteLine($"backend: {BackendSelector.NameOf(server.Backend)} ({server.SelectionReason})");
            Console.WriteLine($"echo listening on {server.LocalEndpoint}");
            Console.Out.Flush();
            server.Run();

            void Stop(PosixSignalContext context)
            {
                context.Cancel = true;   // exit through the normal path: Run returns, connections close
                server.Stop();
            }
        }

        Console.WriteLine($"stopped: {handler.Connections} connections, {handler.Messages} messages, {handler.Bytes} bytes");
        Console.WriteLine(handler.AllocationReport());
        return 0;
    }
}

/// <summary>Echoes what it gets and measures the loop thread's managed allocations per message in steady state.</summary>
internal sealed class EchoHandler : IConnectionHandler
{
    private const long SampleEvery = 1024;
    private const long WarmupMs = 2000;   // JIT tiers, pools and slot arrays settle; the harness warms up 1 s
    private long _messages;
    private long _firstMessageAt = -1;
    private long _baseMessages = -1, _baseAllocated;
    private long _lastMessages, _lastAllocated;
    private int _connections;

    public long Messages => Interlocked.Read(ref _messages);

    public long Bytes { get; private set; }

    public int Connections => Volatile.Read(ref _connections);

    public void OnOpened(Connection connection) => Interlocked.Increment(ref _connections);

    public void OnData(Connection connection, ReadOnlySpan<byte> data)
    {
        connection.Send(data);
        Bytes += data.Length;
        long n = Interlocked.Increment(ref _messages);
        if (n % SampleEvery != 0)
            return;
        long now = Environment.TickCount64;
        if (_firstMessageAt < 0)
            _firstMessageAt = now;
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        if (_baseMessages < 0)
        {
            if (now - _firstMessageAt >= WarmupMs)
            {
                _baseMessages = n;
                _baseAllocated = allocated;
            }

            return;
        }

        _lastMessages = n;
        _lastAllocated = allocated;
    }

    public string AllocationReport()
    {
        long window = _lastMessages - _baseMessages;
        if (_baseMessages < 0 || window <= 0)
            return "allocations: not enough messages for a steady-state window";
        long bytes = _lastAllocated - _baseAllocated;
        return string.Create(CultureInfo.InvariantCulture,
            $"allocations: {bytes} bytes on the loop thread over {window} messages in steady state ({(double)bytes / window:F4} B/message)");
    }
}

/// <summary>The same echo written with <c>await</c> on <see cref="AsyncServer"/>: an idle connection waits with a
/// zero-byte receive (holding no buffer) and borrows one from the pool only while a message passes through.</summary>
internal static class AsyncEcho
{
    public static int Run(string backend, int port, int loops)
    {
        var counters = new ConcurrentDictionary<EventLoop, LoopCounters>();
        AsyncServer server;
        try
        {
            server = AsyncServer.Start(new AsyncServerOptions
            {
                Backend = BackendSelector.Parse(backend),
                Endpoint = NetEndpoint.Loopback(port),
                Loops = loops,
                Loop = new LoopOptions { Log = Console.Error.WriteLine },
            }, c => Echo(c, counters.GetOrAdd(c.Loop, static _ => new LoopCounters())));
        }
        catch (Exception e) when (e is OsException or ArgumentException or PlatformNotSupportedException)
        {
            Console.Error.WriteLine($"echo: cannot start: {e.Message}");
            return 1;
        }

        using var stop = new System.Threading.ManualResetEventSlim();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        Console.WriteLine($"backend: {BackendSelector.NameOf(server.Backend)} ({server.SelectionReason}), async, {server.Loops.Count} loop(s)"
                          + (server.UsesReusePort ? " on SO_REUSEPORT listeners" : ""));
        Console.WriteLine($"echo listening on {server.LocalEndpoint}");
        Console.Out.Flush();
        stop.Wait();
        server.Dispose();
        long messages = counters.Values.Sum(c => c.Messages), bytes = counters.Values.Sum(c => c.Bytes);
        long connections = counters.Values.Sum(c => c.Connections);
        if (server.Backend == BackendKind.Threads)
        {
            Console.WriteLine($"loops: {counters.Count} (one per connection), {messages} messages");
        }
        else
        {
            for (int i = 0; i < server.Loops.Count; i++)
            {
                counters.TryGetValue(server.Loops[i], out LoopCounters? c);
                Console.WriteLine($"loop {i}: {c?.Connections ?? 0} connections, {c?.Messages ?? 0} messages");
            }
        }

        Console.WriteLine($"stopped: {connections} connections, {messages} messages, {bytes} bytes");
        Console.WriteLine(LoopCounters.AllocationReport(counters.Values));
        return 0;

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Set();
        }
    }

    private static async ValueTask Echo(AsyncConnection c, LoopCounters counters)
    {
        counters.Connections++;
        try
        {
            await EchoUntilEnd(c, counters);
        }
        catch (OsException e) when (e.Error.Kind is ErrorKind.ConnectionReset or ErrorKind.BrokenPipe)
        {
            // A client that resets instead of closing: the end of this connection, nothing to report.
        }
    }

    private static async ValueTask EchoUntilEnd(AsyncConnection c, LoopCounters counters)
    {
        while (true)
        {
            await c.ReceiveAsync(Memory<byte>.Empty);   // wait for data holding no buffer
            byte[] buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
            try
            {
                int n = await c.ReceiveAsync(buffer);
                if (n == 0)
                    return;
                await c.SendAsync(buffer.AsMemory(0, n));
                counters.Message(n);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>One loop's counts, touched only on that loop's thread; samples the thread's allocations in steady
    /// state as the callback echo does.</summary>
    private sealed class LoopCounters
    {
        private const long SampleEvery = 1024, WarmupMs = 2000;
        private long _firstMessageAt = -1, _baseMessages = -1, _baseAllocated, _lastMessages, _lastAllocated;

        public long Connections;
        public long Messages;
        public long Bytes;

        public void Message(int bytes)
        {
            Bytes += bytes;
            if (++Messages % SampleEvery != 0)
                return;
            long now = Environment.TickCount64;
            if (_firstMessageAt < 0)
                _firstMessageAt = now;
            long allocated = GC.GetAllocatedBytesForCurrentThread();
            if (_baseMessages < 0)
            {
                if (now - _firstMessageAt >= WarmupMs)
                {
                    _baseMessages = Messages;
                    _baseAllocated = allocated;
                }

                return;
            }

            _lastMessages = Messages;
            _lastAllocated = allocated;
        }

        public static string AllocationReport(System.Collections.Generic.IEnumerable<LoopCounters> loops)
        {
            long window = 0, bytes = 0;
            foreach (LoopCounters c in loops)
            {
                if (c._baseMessages < 0 || c._lastMessages <= c._baseMessages)
                    continue;
                window += c._lastMessages - c._baseMessages;
                bytes += c._lastAllocated - c._baseAllocated;
            }

            if (window <= 0)
                return "allocations: not enough messages for a steady-state window";
            return string.Create(CultureInfo.InvariantCulture,
                $"allocations: {bytes} bytes on the loop threads over {window} messages in steady state ({(double)bytes / window:F4} B/message)");
        }
    }
}
