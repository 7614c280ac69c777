using System.Linq;
using System.Net;
using System.Net.Http;
using System.Security.Authentication;
using System.Threading.Tasks;
using Syscalls.AspNetCore.Tests.Infrastructure;
using Xunit;

namespace Syscalls.AspNetCore.Tests;

/// <summary>HTTPS with a self-signed certificate made by the test: HTTP/1.1 and HTTP/2 (chosen by ALPN) on one port.</summary>
public class TlsTests
{
    public static TheoryData<string, string> TransportsAndVersions => WebTransports.CrossSome(["1.1", "2.0"]);

    [Theory(Timeout = WebTransports.TestTimeoutMs)]
    [MemberData(nameof(TransportsAndVersions))]
    public async Task Tls_Version_ServesPlaintextAnd16MiBEcho(string transport, string version)
    {
        await using TestServer server = await TestServer.StartAsync(transport, tls: true);
        var v = System.Version.Parse(version);
        var opened = new ConnectionCounter();
        using HttpClient client = server.Client(v, opened);
        Assert.Equal("https", client.BaseAddress!.Scheme);
        using HttpResponseMessage plain = await client.GetAsync("/plaintext", TestContext.Current.CancellationToken);
        Assert.Equal(v, plain.Version);
        Assert.Equal("Hello, World!", await plain.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        const int size = 16 * 1024 * 1024;
        if (v == HttpVersion.Version20)
        {
            using HttpResponseMessage echo = await Echo.ViaClientAsync(client, 21, size);
        }
        else
        {
            using RawHttpConnection raw = await server.RawAsync();   // TLS, ALPN http/1.1
            await Echo.ViaRawAsync(raw, 21, size);
        }

        if (v == HttpVersion.Version20)
        {
            // Many streams on the one TLS connection.
            string[] bodies = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ =>
                client.GetStringAsync("/json", TestContext.Current.CancellationToken)));
            Assert.All(bodies, b => Assert.Equal("""{"message":"Hello, World!"}""", b));
            Assert.Equal(1, opened.Count);
        }
    }

    [Theory(Timeout = WebTransports.TestTimeoutMs)]
    [MemberData(nameof(WebTransports.Some), MemberType = typeof(WebTransports))]
    public async Task Tls_ClientThatDoesNotTrustTheCertificate_FailsHandshakeServerGoesOn(string transport)
    {
        await using TestServer server = await TestServer.StartAsync(transport, tls: true);
        using (var untrusting = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = server.Address })
        {
            HttpRequestException e = await Assert.ThrowsAsync<HttpRequestException>(() =>
                untrusting.GetAsync("/plaintext", TestContext.Current.CancellationToken));
            Assert.IsType<AuthenticationException>(e.InnerException);
        }

        using HttpClient client = server.Client(HttpVersion.Version11);
        Assert.Equal("Hello, World!", await client.GetStringAsync("/plaintext", TestContext.Current.CancellationToken));
    }
}
