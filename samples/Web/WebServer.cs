using System;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Syscalls.Samples.Web;

/// <summary>The sample's host: Kestrel on 127.0.0.1 over the chosen transport, serving <see cref="WebApp"/>. The tests
/// start their servers here too, so they run exactly this host.</summary>
/// <remarks>Endpoints. Without TLS: HTTP/1.1 on <see cref="WebSettings.Port"/> and HTTP/2 by prior knowledge (h2c) on
/// <see cref="WebSettings.H2cPort"/>: Kestrel cannot tell the two apart on one cleartext port (it falls back to HTTP/1.1
/// without ALPN, dotnet/aspnetcore#56984). With TLS: HTTP/1.1 and HTTP/2 on one port, chosen by ALPN.</remarks>
public sealed class WebServer : IAsyncDisposable
{
    private readonly Func<IServiceProvider, string> _describeTransport;
    private readonly ListenOptions _main;
    private readonly ListenOptions? _h2c;

    private WebServer(WebApplication app, WebStats stats, Func<IServiceProvider, string> describeTransport,
        ListenOptions main, ListenOptions? h2c, bool tls)
    {
        App = app;
        Stats = stats;
        _describeTransport = describeTransport;
        _main = main;
        _h2c = h2c;
        Tls = tls;
    }

    public WebApplication App { get; }

    public WebStats Stats { get; }

    public bool Tls { get; }

    /// <summary>The main endpoint (HTTP/1.1; with TLS also HTTP/2): the bound port once started.</summary>
    public IPEndPoint Endpoint => _main.IPEndPoint!;

    /// <summary>The cleartext HTTP/2 (prior knowledge) endpoint, or null (TLS, or <c>--h2c-port off</c>).</summary>
    public IPEndPoint? H2cEndpoint => _h2c?.IPEndPoint;

    /// <summary><c>http://127.0.0.1:PORT</c> or <c>https://...</c> of the main endpoint.</summary>
    public Uri Address => new($"{(Tls ? "https" : "http")}://127.0.0.1:{Endpoint.Port}");

    /// <summary><c>http://127.0.0.1:PORT</c> of the h2c endpoint.</summary>
    public Uri H2cAddress => new($"http://127.0.0.1:{H2cEndpoint?.Port ?? throw new InvalidOperationException("No h2c endpoint.")}");

    /// <summary>The transport actually in use, as the transport describes itself (valid once built).</summary>
    public string Transport => _describeTransport(App.Services);

    /// <summary>The host for <paramref name="settings"/>, not started; null (and <paramref name="error"/>) when the
    /// transport is not available. <paramref name="certificate"/> is required with <see cref="WebSettings.Tls"/>;
    /// <paramref name="first"/> adds middleware before the application (the tests' own endpoints).</summary>
    public static WebServer? Create(WebSettings settings, X509Certificate2? certificate, Action<IApplicationBuilder>? first,
        out string? error)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Tls && certificate is null)
            throw new ArgumentException("TLS needs a certificate.", nameof(certificate));
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        error = Program.UseTransport(builder.WebHost, settings, out Func<IServiceProvider, string> describe);
        if (error is not null)
            return null;
        var stats = new WebStats();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);   // no per-request hosting lines
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.ShutdownTimeout);
        ListenOptions? main = null, h2c = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, settings.Port, listen =>
            {
                main = listen;
                Count(listen, stats);
                if (certificate is null)
                {
                    listen.Protocols = HttpProtocols.Http1;
                    return;
                }

                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(certificate);
            });
            if (certificate is null && settings.H2cPort is int h2cPort)
            {
                kestrel.Listen(IPAddress.Loopback, h2cPort, listen =>
                {
                    h2c = listen;
                    Count(listen, stats);
                    listen.Protocols = HttpProtocols.Http2;
                });
            }
        });
        WebApplication app = builder.Build();
        app.Use((context, next) =>
        {
            stats.CountRequest();
            return next(context);
        });
        first?.Invoke(app);
        WebApp.Map(app);
        // Kestrel runs the Configure callback while the host is built: the listen options exist now.
        return new WebServer(app, stats, describe, main!, h2c, certificate is not null);
    }

    public Task StartAsync(CancellationToken cancellationToken = default) => App.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken = default) => App.StopAsync(cancellationToken);

    public ValueTask DisposeAsync() => App.DisposeAsync();

    private static void Count(ListenOptions listen, WebStats stats) => listen.Use(next => connection =>
    {
        stats.CountConnection();
        return next(connection);
    });
}

/// <summary>What the host served: requests, and connections the transport accepted.</summary>
public sealed class WebStats
{
    private long _requests;
    private long _connections;

    public long Requests => Interlocked.Read(ref _requests);

    public long Connections => Interlocked.Read(ref _connections);

    internal void CountRequest() => Interlocked.Increment(ref _requests);

    internal void CountConnection() => Interlocked.Increment(ref _connections);
}
