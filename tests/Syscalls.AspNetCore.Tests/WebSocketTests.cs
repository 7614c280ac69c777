using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.WebSockets;
using System.Threading;
using System.Threading.Tasks;
using Syscalls.AspNetCore.Tests.Infrastructure;
using Xunit;

namespace Syscalls.AspNetCore.Tests;

/// <summary>The WebSocket echo at /ws with ClientWebSocket: over HTTP/1.1 (Upgrade), HTTP/2 (extended CONNECT, h2c)
/// and TLS; messages of every shape come back whole and the close handshake completes.</summary>
public class WebSocketTests
{
    public static TheoryData<string, string> TransportsAndModes => WebTransports.CrossSome(["http1", "h2c", "tls"]);

    [Theory(Timeout = WebTransports.TestTimeoutMs)]
    [MemberData(nameof(TransportsAndModes))]
    public async Task WebSocket_Mode_EchoesEveryMessageAndCloses(string transport, string mode)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        CancellationToken ct = timeout.Token;
        await using TestServer server = await TestServer.StartAsync(transport, tls: mode == "tls");
        Version version = mode == "h2c" ? HttpVersion.Version20 : HttpVersion.Version11;
        using HttpClient invoker = server.Client(version);
        Uri http = mode == "h2c" ? server.H2cAddress : server.Address;
        var uri = new Uri($"{(mode == "tls" ? "wss" : "ws")}://127.0.0.1:{http.Port}/ws");
        using var socket = new ClientWebSocket();
        socket.Options.HttpVersion = version;
        socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        socket.Options.CollectHttpResponseDetails = true;
        await socket.ConnectAsync(uri, invoker, ct);
        Assert.Equal(mode == "h2c" ? HttpStatusCode.OK : HttpStatusCode.SwitchingProtocols, socket.HttpStatusCode);

        var messages = new List<(WebSocketMessageType Type, byte[] Body, int Fragments)>
        {
            (WebSocketMessageType.Text, "hello"u8.ToArray(), 1),
            (WebSocketMessageType.Binary, [], 1),
            (WebSocketMessageType.Binary, [42], 1),
            (WebSocketMessageType.Binary, Payload.Create(1, 70_000), 3),
            (WebSocketMessageType.Binary, Payload.Create(2, 1024 * 1024), 1),
            (WebSocketMessageType.Text, Text(100_000), 5),
        };
        foreach ((WebSocketMessageType type, byte[] body, int fragments) in messages)
        {
            // Receive while sending: the echo of a message larger than the flow-control windows (HTTP/2) comes back
            // while it is still going out.
            Task<(WebSocketMessageType, byte[])> receiving = ReceiveMessage(socket, ct);
            int piece = Math.Max(1, (body.Length + fragments - 1) / fragments);
            for (int off = 0, f = 0; f < fragments; f++, off += piece)
            {
                int n = Math.Clamp(body.Length - off, 0, piece);
                await socket.SendAsync(body.AsMemory(Math.Min(off, body.Length), n), type, f == fragments - 1, ct);
            }

            (WebSocketMessageType gotType, byte[] got) = await receiving;
            Assert.Equal(type, gotType);
            Payload.Equal(body, got, $"{type} message of {body.Length} B");
        }

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", ct);
        Assert.Equal(WebSocketState.Closed, socket.State);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
        Assert.Equal("bye", socket.CloseStatusDescription);
    }

    private static byte[] Text(int length)
    {
        var text = new byte[length];
        for (int i = 0; i < text.Length; i++)
            text[i] = (byte)('a' + i % 26);
        return text;
    }

    private static async Task<(WebSocketMessageType, byte[])> ReceiveMessage(WebSocket socket, CancellationToken ct)
    {
        var message = new MemoryStream();
        var buffer = new byte[8 * 1024];
        while (true)
        {
            ValueWebSocketReceiveResult got = await socket.ReceiveAsync(buffer.AsMemory(), ct);
            Assert.NotEqual(WebSocketMessageType.Close, got.MessageType);
            message.Write(buffer, 0, got.Count);
            if (got.EndOfMessage)
                return (got.MessageType, message.ToArray());
        }
    }
}
