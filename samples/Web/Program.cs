using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Syscalls.AspNetCore;
using Syscalls.Runtime;

namespace Syscalls.Samples.Web;

/// <summary>The web sample: Kestrel on 127.0.0.1 serving <see cref="WebApp"/> over the transport <c>--backend</c>
/// names, in the foreground until SIGINT or SIGTERM (the generic host's console lifetime stops it gracefully).</summary>
public static class Program
{
    /// <summary>The listen backlog: the http benchmark opens thousands of connections at once (the kernel caps it at
    /// net.core.somaxconn), as its peers do.</summary>
    public const int Backlog = 65535;

    private const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    public static async Task<int> Main(string[] args)
    {
        WebSettings? settings = WebSettings.Parse(args, out string? error);
        if (settings is null)
        {
            Console.Error.WriteLine($"web: {error}");
            return 2;
        }

        // Read once, when System.Net.Sockets makes its first socket: set before anything does.
        if (settings.Inline && settings.Backend == "sockets")
            Environment.SetEnvironmentVariable(InlineCompletionsVariable, "1");
        using X509Certificate2? certificate = settings.Tls ? SelfSignedCertificate.Create() : null;
        WebServer? server = WebServer.Create(settings, certificate, first: null, out error);
        if (server is null)
        {
            Console.Error.WriteLine($"web: {error}");
            return 2;
        }

        await using (server)
        {
            try
            {
                await server.StartAsync();
            }
            catch (IOException e)
            {
                Console.Error.WriteLine($"web: cannot listen: {e.Message}");
                return 1;
            }

            Console.WriteLine($"backend: {server.Transport}");
            if (certificate is null)
            {
                Console.WriteLine($"web listening on {server.Address} (HTTP/1.1)");
                if (server.H2cEndpoint is not null)
                    Console.WriteLine($"web listening on {server.H2cAddress} (HTTP/2 by prior knowledge, h2c)");
            }
            else
            {
                Console.WriteLine($"web listening on {server.Address} (HTTP/1.1 and HTTP/2 by ALPN; self-signed certificate, " +
                    $"SHA-256 {certificate.GetCertHashString(HashAlgorithmName.SHA256)})");
            }

            await server.App.WaitForShutdownAsync();
        }

        Console.WriteLine($"stopped: {server.Stats.Requests} requests on {server.Stats.Connections} connections");
        return 0;
    }

    /// <summary>Puts the transport <paramref name="settings"/> names under <paramref name="web"/>; returns null and a
    /// way to describe it once the host is built (the backend actually in use), or returns why it cannot.</summary>
    public static string? UseTransport(IWebHostBuilder web, WebSettings settings, out Func<IServiceProvider, string> describe)
    {
        ArgumentNullException.ThrowIfNull(settings);
        describe = _ => settings.Backend;
        if (settings.Backend == "sockets")
        {
            web.UseSockets(o =>
            {
                o.Backlog = Backlog;
                if (settings.Loops is int loops)
                    o.IOQueueCount = loops;
                if (settings.Inline)
                {
                    o.UnsafePreferInlineScheduling = true;
                    o.WaitForDataBeforeAllocatingBuffer = false;
                }
            });
            describe = services =>
            {
                SocketTransportOptions o = services.GetRequiredService<IOptions<SocketTransportOptions>>().Value;
                return $"sockets (Kestrel's Sockets transport, {o.IOQueueCount} I/O queues, " + (o.UnsafePreferInlineScheduling
                    ? $"inline: UnsafePreferInlineScheduling, WaitForDataBeforeAllocatingBuffer={o.WaitForDataBeforeAllocatingBuffer}, " +
                      $"{InlineCompletionsVariable}={Environment.GetEnvironmentVariable(InlineCompletionsVariable) ?? "unset"})"
                    : "defaults)");
            };
            return null;
        }

        BackendKind kind;
        try
        {
            kind = BackendSelector.Parse(settings.Backend);
        }
        catch (ArgumentException)
        {
            return $"unknown backend '{settings.Backend}'\n{WebSettings.Usage}";
        }

        string onHost = string.Join(", ", BackendSelector.SupportedServerBackends().Select(BackendSelector.NameOf));
        if (kind != BackendKind.Auto && !BackendSelector.SupportedServerBackends().Contains(kind))
            return $"backend '{settings.Backend}' is not one of this OS's ({onHost}); --backend sockets runs this app on " +
                "Kestrel's own Sockets transport";
        web.UseSyscalls(o =>
        {
            o.Backend = kind;
            o.Backlog = Backlog;
            if (settings.Loops is int loops)
                o.Loops = loops;
            if (settings.Inline)
            {
                o.UnsafePreferInlineScheduling = true;
                o.WaitForDataBeforeAllocatingBuffer = false;
            }
        });
        describe = services =>
        {
            SyscallsTransportFactory t = services.GetRequiredService<SyscallsTransportFactory>();
            string spread = t.Backend == BackendKind.Threads ? "a thread per connection"
                : $"{t.LoopCount} loops, {(t.UsesReusePort ? "SO_REUSEPORT listeners" : "one acceptor")}";
            return $"{(t.Backend is BackendKind b ? BackendSelector.NameOf(b) : "unbound")} (Syscalls transport, {spread}, " +
                $"{(settings.Inline ? "inline scheduling" : "thread-pool scheduling")}; {t.SelectionReason})";
        };
        return null;
    }
}
