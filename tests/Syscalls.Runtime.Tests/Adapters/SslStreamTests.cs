using System;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Tasks;
using Syscalls.Runtime.Tests.Infrastructure;
using Syscalls.Runtime.Tests.Loop;
using Xunit;

namespace Syscalls.Runtime.Tests.Adapters;

/// <summary>TLS through <see cref="SslStream"/> over <see cref="ConnectionStream"/>: a self-signed certificate made
/// here, payloads of 1 B to 1 MiB echoed and checked byte for byte; both sides ours, and our server against a
/// System.Net.Sockets + SslStream client.</summary>
public class SslStreamTests
{
    private static readonly int[] s_sizes = { 1, 100, 16 * 1024 - 1, 16 * 1024 + 1, 100_000, 1024 * 1024 };
    private static readonly Lazy<X509Certificate2> s_certificate = new(MakeCertificate);

    [Theory]
    [MemberData(nameof(TestBackends.Servers), MemberType = typeof(TestBackends))]
    public async Task Tls_BothSidesOurs_EchoesEveryByte(string backend)
    {
        SkipWithoutCertificate();
        using var server = new AdapterServer(backend);
        using EventLoop clientLoop = LoopKit.Start(backend);
        (AsyncConnection client, AsyncConnection connection) = await server.ConnectOurs(clientLoop);
        Task serving = LoopKit.On(server.Loop, () => ServeTlsEcho(connection));
        await LoopKit.Off(LoopKit.On(clientLoop, async () =>
        {
            await using var tls = new SslStream(client.AsStream());
            await tls.AuthenticateAsClientAsync(ClientOptions());
            await EchoEverySize(tls);
            await tls.ShutdownAsync();   // close_notify, then our FIN: the server's read ends
            Assert.Equal(0, await tls.ReadAsync(new byte[1]));
        }));
        await LoopKit.Off(serving);
    }

    [Theory]
    [MemberData(nameof(TestBackends.Servers), MemberType = typeof(TestBackends))]
    public async Task Tls_SocketsClientAgainstOurServer_EchoesEveryByte(string backend)
    {
        SkipWithoutCertificate();
        using var server = new AdapterServer(backend);
        (Socket client, AsyncConnection connection) = await server.ConnectSocket();
        using Socket clientSocket = client;
        Task serving = LoopKit.On(server.Loop, () => ServeTlsEcho(connection));
        await using var tls = new SslStream(new NetworkStream(client, ownsSocket: false));
        await tls.AuthenticateAsClientAsync(ClientOptions(), AdapterKit.Ct).Within();
        await EchoEverySize(tls);
        await tls.ShutdownAsync();
        Assert.Equal(0, await tls.ReadAsync(new byte[1], AdapterKit.Ct).Within());
        await LoopKit.Off(serving);
    }

    /// <summary>Wine 8's CNG makes no key for the certificate (ECDsa.Create fails in NCryptCreatePersistedKey with
    /// NTE_NOT_SUPPORTED, 0x80090029; an RSA key fails BCryptGetProperty), so no TLS server can start there, on
    /// System.Net.Sockets alone either: the server side used to drop the connection and the client read an early EOF.</summary>
    private static void SkipWithoutCertificate()
    {
        try
        {
            _ = s_certificate.Value;
        }
        catch (CryptographicException e) when (Platform.IsWine)
        {
            Assert.Skip($"Wine's CNG cannot make the test certificate's key ({e.Message}), so no TLS server starts");
        }
    }

    /// <summary>TLS echo on the connection's loop until the client's close_notify.</summary>
    private static async Task ServeTlsEcho(AsyncConnection connection)
    {
        await using var tls = new SslStream(connection.AsStream());
        var options = new SslServerAuthenticationOptions { ServerCertificate = s_certificate.Value };
        await tls.AuthenticateAsServerAsync(options);
        var buffer = new byte[32 * 1024];
        int n;
        while ((n = await tls.ReadAsync(buffer)) > 0)
            await tls.WriteAsync(buffer.AsMemory(0, n));
        await tls.ShutdownAsync();
    }

    private static async Task EchoEverySize(SslStream tls)
    {
        for (int i = 0; i < s_sizes.Length; i++)
        {
            byte[] sent = Peers.Payload(7, i, s_sizes[i]);
            var back = new byte[sent.Length];
            Task reading = tls.ReadExactlyAsync(back).AsTask();
            await tls.WriteAsync(sent).Within();
            await reading.Within();
            Assert.True(sent.AsSpan().SequenceEqual(back), $"{sent.Length} bytes: the echo differs");
        }
    }

    /// <summary>Accepts the test's own certificate and nothing else.</summary>
    private static SslClientAuthenticationOptions ClientOptions() => new()
    {
        TargetHost = "localhost",
        RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            certificate is not null && certificate.GetCertHashString() == s_certificate.Value.GetCertHashString(),
    };

    /// <summary>A self-signed ECDSA P-256 server certificate for "localhost", valid for a day. Exported and loaded back
    /// through PKCS#12 because Windows' TLS (SChannel) needs a private key it can reach outside this process.</summary>
    private static X509Certificate2 MakeCertificate()
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            new OidCollection { new Oid("1.3.6.1.5.5.7.3.1") }, critical: false));   // server authentication
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using X509Certificate2 ephemeral = request.CreateSelfSigned(now.AddHours(-1), now.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
    }
}
