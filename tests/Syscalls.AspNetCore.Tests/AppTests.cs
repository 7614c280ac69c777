using System.Net;
using System.Net.Http;
using System.Threading.Tasks;
using Syscalls.AspNetCore.Tests.Infrastructure;
using Xunit;

namespace Syscalls.AspNetCore.Tests;

/// <summary>The sample's endpoints answer as TechEmpower's rules and the README say.</summary>
public class AppTests
{
    [Theory(Timeout = WebTransports.TestTimeoutMs)]
    [MemberData(nameof(WebTransports.All), MemberType = typeof(WebTransports))]
    public async Task Plaintext_Get_HelloWorldAsTextPlainWithLength13(string transport)
    {
        await using TestServer server = await TestServer.StartAsync(transport);
        using HttpClient client = server.Client(HttpVersion.Version11);
        using HttpResponseMessage response = await client.GetAsync("/plaintext", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.ToString());
        Assert.Equal(13, response.Content.Headers.ContentLength);
        Assert.Equal("Hello, World!", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Theory(Timeout = WebTransports.TestTimeoutMs)]
    [MemberData(nameof(WebTransports.All), MemberType = typeof(WebTransports))]
    public async Task Json_Get_MessageHelloWorld(string transport)
    {
        await using TestServer server = await TestServer.StartAsync(transport);
        using HttpClient client = server.Client(HttpVersion.Version11);
        using HttpResponseMessage response = await client.GetAsync("/json", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.ToString());
        Assert.Equal("""{"message":"Hello, World!"}""", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Theory(Timeout = WebTransports.TestTimeoutMs)]
    [MemberData(nameof(WebTransports.All), MemberType = typeof(WebTransports))]
    public async Task WrongMethodOrPath_405WithAllowOr404(string transport)
    {
        await using TestServer server = await TestServer.StartAsync(transport);
        using HttpClient client = server.Client(HttpVersion.Version11);
        using HttpResponseMessage getEcho = await client.GetAsync("/echo", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, getEcho.StatusCode);
        Assert.Equal("POST", string.Join(",", getEcho.Content.Headers.Allow));
        using HttpResponseMessage postPlain = await client.PostAsync("/plaintext", new ByteArrayContent([1]), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, postPlain.StatusCode);
        using HttpResponseMessage missing = await client.GetAsync("/nothing-here", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using HttpResponseMessage wsAsGet = await client.GetAsync("/ws", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, wsAsGet.StatusCode);
    }
}
