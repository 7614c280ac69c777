using System;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Syscalls.AspNetCore;

namespace Microsoft.AspNetCore.Hosting;

/// <summary><c>UseSyscalls</c>: Kestrel on the Syscalls runtime's event loops (beside <c>UseSockets</c>, in the same
/// namespace).</summary>
public static class SyscallsWebHostBuilderExtensions
{
    /// <summary>Serves Kestrel's IP end points through the Syscalls transport (other end points, such as Unix sockets,
    /// stay with the transport registered before it), and offers <see cref="SyscallsConnectionFactory"/> as the
    /// <see cref="IConnectionFactory"/>.</summary>
    public static IWebHostBuilder UseSyscalls(this IWebHostBuilder hostBuilder, Action<SyscallsTransportOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(hostBuilder);
        return hostBuilder.ConfigureServices(services =>
        {
            // Kestrel takes the last registered factory that can bind an end point.
            services.AddSingleton<SyscallsTransportFactory>();
            services.AddSingleton<IConnectionListenerFactory>(static sp => sp.GetRequiredService<SyscallsTransportFactory>());
            services.AddSingleton<IConnectionFactory, SyscallsConnectionFactory>();
            if (configure is not null)
                services.Configure(configure);
        });
    }
}
