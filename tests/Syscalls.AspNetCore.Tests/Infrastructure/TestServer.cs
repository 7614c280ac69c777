using System;
using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using Syscalls.Samples.Web;

namespace Syscalls.AspNetCore.Tests.Infrastructure;

/// <summary>The sample's host (<see cref="WebServer"/>) on one transport, in this process, on 127.0.0.1 port 0: HTTP/1.1
/// plus an h2c port in cleartext, or HTTP/1.1 and HTTP/2 by ALPN with a certificate made for this server.</summary>
public sealed class TestServer : IAsyncDisposable
{
    private TestServer(WebServer web, TestEndpoints endpoints, X509Certificate2? certificate)
    {
        Web = web;
        Endpoints = endpoints;
        Certificate = certificate;
    }

    public WebServer Web { get; }

    public TestEndpoints Endpoints { get; }

    /// <summary>The self-signed certificate of a TLS server (made by the test), else null.</summary>
    public X509Certificate2? Certificate { get; }

    public Uri Address => Web.Address;

    public Uri H2cAddress => Web.H2cAddress;

    public IPEndPoint Endpoint => Web.Endpoint;

    public WebStats Stats => Web.Stats;

    /// <summary>Starts the host on <paramref name="transport"/>; <paramref name="adjust"/> changes its settings.</summary>
    public static async Task<TestServer> StartAsync(string transport, bool tls = false, Func<WebSettings, WebSettings>? adjust = null)
    {
        if (tls)
            TlsKeys.SkipUnlessAvailable();
        X509Certificate2? certificate = tls ? SelfSignedCertificate.Create() : null;
        var endpoints = new TestEndpoints();
        var settings = new WebSettings { Backend = transport, Port = 0, H2cPort = tls ? null : 0, Tls = tls };
        settings = adjust?.Invoke(settings) ?? settings;
        WebServer web = WebServer.Create(settings, certificate, endpoints.Map, out string? error)
            ?? throw new InvalidOperationException($"transport {transport}: {error}");
        try
        {
            await web.StartAsync(Xunit.TestContext.Current.CancellationToken);
            // Every test proves which transport served it: the one asked for, with no silent fallback.
            if (!web.Transport.StartsWith(transport + " ", StringComparison.Ordinal))
                throw new InvalidOperationException($"asked for transport {transport}, got: {web.Transport}");
        }
        catch
        {
            await web.DisposeAsync();
            certificate?.Dispose();
            throw;
        }

        return new TestServer(web, endpoints, certificate);
    }

    /// <summary>An HttpClient for this server that speaks exactly <paramref name="version"/> (h2c by prior knowledge when
    /// that is 2.0 in cleartext), trusts only this server's certificate, uses no proxy and counts the connections it
    /// opens in <paramref name="connections"/>.</summary>
    public HttpClient Client(Version version, ConnectionCounter? connections = null, int maxConnections = int.MaxValue)
    {
        string? thumbprint = Certificate?.GetCertHashString(HashAlgorithmName.SHA256);
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            MaxConnectionsPerServer = maxConnections,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            ConnectCallback = async (context, cancellationToken) =>
            {
                connections?.Increment();
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
            SslOptions = new SslClientAuthenticationOptions
            {
                // Trust this server's certificate and nothing else, by its hash: a real check, not "accept all".
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    thumbprint is not null && certificate?.GetCertHashString(HashAlgorithmName.SHA256) == thumbprint,
            },
        };
        Uri address = version == HttpVersion.Version20 && Certificate is null ? H2cAddress : Address;
        return new HttpClient(handler)
        {
            BaseAddress = address,
            DefaultRequestVersion = version,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = TimeSpan.FromSeconds(60),
        };
    }

    /// <summary>A connection to the HTTP/1.1 endpoint (TLS on a TLS server), for clients that write the protocol by hand.</summary>
    public Task<RawHttpConnection> RawAsync() =>
        RawHttpConnection.ConnectAsync(Endpoint, Certificate, Xunit.TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        await Web.DisposeAsync();
        Certificate?.Dispose();
    }
}

/// <summary>Connections a client opened.</summary>
public sealed class ConnectionCounter
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public void Increment() => Interlocked.Increment(ref _count);
}
