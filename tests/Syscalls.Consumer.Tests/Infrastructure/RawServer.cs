using System;
using System.Runtime.Versioning;
using System.Threading.Tasks;
using RawEcho;
using Syscalls.Windows;
using Xunit;

namespace Syscalls.Consumer.Tests.Infrastructure;

/// <summary>One of samples/RawEcho's servers, serving on a thread of this process on a port the kernel picked:
/// the epoll server on Linux, the WSAPoll server on Windows (Wine here), the kqueue server on macOS.</summary>
public abstract class RawServer : IDisposable
{
    private Task<int>? _serve;

    /// <summary>The server's name, as samples/RawEcho prints it: epoll, WSAPoll, kqueue.</summary>
    public abstract string Name { get; }

    /// <summary>The port it listens on, at 127.0.0.1.</summary>
    public ushort Port { get; private set; }

    /// <summary>The server of this OS, listening and serving.</summary>
    public static RawServer Start()
    {
        RawServer server;
        if (OperatingSystem.IsLinux())
            server = new Epoll();
        else if (OperatingSystem.IsWindows())
            server = new Winsock();
        else if (OperatingSystem.IsMacOS())
            server = new Kqueue();
        else
            throw new PlatformNotSupportedException("samples/RawEcho has servers for Linux, Windows and macOS");
        server.Port = server.Listen();
        server._serve = Task.Factory.StartNew(server.Serve, TaskCreationOptions.LongRunning);
        return server;
    }

    /// <summary>Listens on <paramref name="port"/> as the server does, expecting failure: the error it
    /// captured.</summary>
    public abstract Errno ListenFails(ushort port);

    /// <summary>Wakes the server and waits for its loop to return; what it returned (0 when woken).</summary>
    public int Stop()
    {
        Wake();
        Assert.True(_serve!.Wait(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken),
            $"the {Name} server did not return within 30 s of its wake-up");
        return _serve.Result;
    }

    public void Dispose()
    {
        if (_serve is { IsCompleted: false })
        {
            Wake();
            _serve.Wait(TimeSpan.FromSeconds(10));
        }
        GC.SuppressFinalize(this);
    }

    /// <summary>Opens the listener and the wake-up; the port.</summary>
    protected abstract ushort Listen();

    /// <summary>The server's loop (on its own thread).</summary>
    protected abstract int Serve();

    protected abstract void Wake();

    [SupportedOSPlatform("linux")]
    private sealed class Epoll : RawServer
    {
        private int _listener = -1, _wake = -1;

        public override string Name => "epoll";

        public override Errno ListenFails(ushort port)
        {
            int fd = EpollEcho.Listen(port, out var error);
            Assert.True(fd < 0, $"a second listener on port {port} succeeded");
            return error;
        }

        protected override ushort Listen()
        {
            _listener = EpollEcho.Listen(0, out var error);
            Assert.True(_listener >= 0, $"listen: {error}");
            _wake = EpollEcho.CreateWake();
            Assert.True(_wake >= 0, $"eventfd: {Errno.Last()}");
            return EpollEcho.LocalPort(_listener);
        }

        protected override int Serve() => EpollEcho.Serve(_listener, _wake);

        protected override void Wake() => EpollEcho.Wake(_wake);
    }

    [SupportedOSPlatform("windows")]
    private sealed class Winsock : RawServer
    {
        private nuint _listener, _wake;

        public override string Name => "WSAPoll";

        public override Errno ListenFails(ushort port)
        {
            nuint s = WinsockEcho.Listen(port, out var error);
            Assert.True(s == Ws2_32.INVALID_SOCKET, $"a second listener on port {port} succeeded");
            return error;
        }

        protected override ushort Listen()
        {
            Assert.True(WinsockEcho.Startup(out var error), $"WSAStartup: {error}");
            _listener = WinsockEcho.Listen(0, out error);
            Assert.True(_listener != Ws2_32.INVALID_SOCKET, $"listen: {error}");
            _wake = WinsockEcho.CreateWake();
            Assert.True(_wake != Ws2_32.INVALID_SOCKET, $"wake-up socket: {Errno.Last()}");
            return WinsockEcho.LocalPort(_listener);
        }

        protected override int Serve() => WinsockEcho.Serve(_listener, _wake);

        protected override void Wake() => WinsockEcho.Wake(_wake);
    }

    [SupportedOSPlatform("macos")]
    private sealed class Kqueue : RawServer
    {
        private int _listener = -1, _kq = -1;

        public override string Name => "kqueue";

        public override Errno ListenFails(ushort port)
        {
            int fd = KqueueEcho.Listen(port, out var error);
            Assert.True(fd < 0, $"a second listener on port {port} succeeded");
            return error;
        }

        protected override ushort Listen()
        {
            _listener = KqueueEcho.Listen(0, out var error);
            Assert.True(_listener >= 0, $"listen: {error}");
            _kq = KqueueEcho.CreateWake();
            Assert.True(_kq >= 0, $"kqueue: {Errno.Last()}");
            return KqueueEcho.LocalPort(_listener);
        }

        protected override int Serve() => KqueueEcho.Serve(_listener, _kq);

        protected override void Wake() => KqueueEcho.Wake(_kq);
    }
}
