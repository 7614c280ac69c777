using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;

namespace Syscalls.Runtime.Tests.Infrastructure;

/// <summary>A server of one backend running on its own thread in the test process.</summary>
public sealed class InProcessServer : IDisposable
{
    private readonly Thread _thread;
    private Exception? _failure;

    public InProcessServer(string backend, IConnectionHandler handler, Action<ServerOptions>? configure = null)
        : this(handler, options =>
        {
            options.Backend = TestBackends.Kind(backend);
            configure?.Invoke(options);
            return BackendSelector.CreateServer(options, handler);
        })
    {
    }

    /// <summary>A server built by <paramref name="create"/> from default options (loopback, any port).</summary>
    public InProcessServer(IConnectionHandler handler, Func<ServerOptions, IServer> create)
    {
        Server = create(new ServerOptions());
        Handler = handler;
        _thread = new Thread(() =>
        {
            try
            {
                Server.Run();
            }
            catch (Exception e)
            {
                _failure = e;
            }
        })
        { IsBackground = true, Name = "test-server" };
        _thread.Start();
    }

    public IServer Server { get; }

    public IConnectionHandler Handler { get; }

    public IPEndPoint EndPoint => Server.LocalEndpoint.ToIPEndPoint();

    /// <summary>A connected System.Net.Sockets client (an independent peer).</summary>
    public Socket Connect()
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        s.Connect(EndPoint);
        return s;
    }

    /// <summary>Stops the server and waits for its loop to return; rethrows a loop failure.</summary>
    public void Stop()
    {
        Server.Stop();
        if (!_thread.Join(TimeSpan.FromSeconds(20)))
            throw new TimeoutException("server loop did not stop");
        if (_failure is not null)
            throw new InvalidOperationException("server loop failed", _failure);
    }

    public void Dispose()
    {
        if (_thread.IsAlive)
            Stop();
        Server.Dispose();
    }
}
