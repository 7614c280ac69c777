using System;
using Syscalls.Runtime.Sockets;
using Syscalls.Runtime.Tests.Infrastructure;
using Xunit;

namespace Syscalls.Runtime.Tests;

/// <summary>What a server leaves behind when it cannot start, and when it stops: counted in descriptors, so this class
/// runs alone (other collections open and close sockets all the time).</summary>
[Collection(nameof(ServerLifetimeTests))]
[CollectionDefinition(nameof(ServerLifetimeTests), DisableParallelization = true)]
public class ServerLifetimeTests
{
    [Theory]
    [MemberData(nameof(TestBackends.Servers), MemberType = typeof(TestBackends))]
    public void CreateServer_PortInUse_FailsNamingTheAddressAndLeaksNoDescriptor(string backend)
    {
        if (!Descriptors.Available)
            Assert.Skip(Descriptors.Unavailable!);
        using SocketHandle taken = SocketOps.Listen(NetEndpoint.Loopback(0)).Value;
        NetEndpoint endpoint = SocketOps.GetLocalEndpoint(taken).Value;
        OsException? failure = null;
        int growth = Descriptors.GrowthOver(10, () =>
        {
            failure = Assert.Throws<OsException>(() => BackendSelector.CreateServer(
                new ServerOptions { Backend = TestBackends.Kind(backend), Endpoint = endpoint }, new EchoHandler()));
        });
        Assert.Equal(ErrorKind.AddressInUse, failure!.Error.Kind);
        Assert.Contains(": " + endpoint + " (AddressInUse", failure.Message, StringComparison.Ordinal);   // "...: 127.0.0.1:N (AddressInUse, 98)"
        Assert.True(growth <= 0, $"{growth} descriptors more after 10 failed starts");
    }
}
