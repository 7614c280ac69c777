using System;
using System.Globalization;
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
                case "-h" or "--help":
                    Console.WriteLine("usage: Echo [--backend epoll|poll|uring|emulated|threads] [--port N]");
                    return 0;
                default:
                    Console.Error.WriteLine($"unknown argument '{args[i]}' (try --help)");
                    return 2;
            }
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
