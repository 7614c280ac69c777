using System;
using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Syscalls.Samples.Web;

/// <summary>The application: <c>GET /plaintext</c> and <c>GET /json</c> (TechEmpower's), <c>POST /echo</c> (the request
/// body streamed back) and a WebSocket echo at <c>/ws</c>.</summary>
/// <remarks>One terminal middleware that switches on the path, no routing: the http benchmark's Kestrel peer
/// (../shared/bench/http/kestrel_plain) is written the same way, so this app costs what it costs per request.</remarks>
public static class WebApp
{
    private static readonly byte[] s_plaintext = "Hello, World!"u8.ToArray();

    /// <summary>Adds the application to <paramref name="app"/> as its last middleware.</summary>
    public static void Map(IApplicationBuilder app)
    {
        app.UseWebSockets();
        app.Run(Handle);
    }

    private static Task Handle(HttpContext context) => context.Request.Path.Value switch
    {
        "/plaintext" => Only(context, HttpMethods.Get, Plaintext),
        "/json" => Only(context, HttpMethods.Get, Json),
        "/echo" => Only(context, HttpMethods.Post, Echo),
        "/ws" => WebSocketEcho(context),
        _ => Status(context, StatusCodes.Status404NotFound),
    };

    private static Task Only(HttpContext context, string method, Func<HttpContext, Task> handler)
    {
        if (HttpMethods.Equals(context.Request.Method, method))
            return handler(context);
        context.Response.Headers.Allow = method;
        return Status(context, StatusCodes.Status405MethodNotAllowed);
    }

    private static Task Status(HttpContext context, int status)
    {
        context.Response.StatusCode = status;
        return Task.CompletedTask;
    }

    private static Task Plaintext(HttpContext context)
    {
        HttpResponse response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/plain";
        response.ContentLength = s_plaintext.Length;
        return response.Body.WriteAsync(s_plaintext, 0, s_plaintext.Length);
    }

    private static Task Json(HttpContext context)
    {
        // Serialized per request, as TechEmpower's rules ask.
        byte[] body = JsonSerializer.SerializeToUtf8Bytes(new JsonMessage("Hello, World!"), WebJsonContext.Default.JsonMessage);
        HttpResponse response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json";
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, 0, body.Length);
    }

    private static async Task Echo(HttpContext context)
    {
        // Any size: the body goes through one pipe segment at a time and is never held whole, so the size limit goes.
        IHttpMaxRequestBodySizeFeature? limit = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (limit is { IsReadOnly: false })
            limit.MaxRequestBodySize = null;
        HttpResponse response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/octet-stream";
        // A sized request gets a sized response; a chunked one (no length) a chunked one on HTTP/1.1.
        response.ContentLength = context.Request.ContentLength;
        await context.Request.BodyReader.CopyToAsync(response.BodyWriter, context.RequestAborted);
    }

    private static async Task WebSocketEcho(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await Status(context, StatusCodes.Status400BadRequest);
            return;
        }

        using WebSocket socket = await context.WebSockets.AcceptWebSocketAsync();
        CancellationToken aborted = context.RequestAborted;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            while (true)
            {
                // Fragments go back as they come (EndOfMessage passed on): a message of any size, never held whole.
                ValueWebSocketReceiveResult got = await socket.ReceiveAsync(buffer.AsMemory(), aborted);
                if (got.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure,
                        socket.CloseStatusDescription, aborted);
                    return;
                }

                await socket.SendAsync(buffer.AsMemory(0, got.Count), got.MessageType, got.EndOfMessage, aborted);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            // The client went away without a close handshake: nothing to answer.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary>The body of <c>GET /json</c>.</summary>
public sealed record JsonMessage(string Message);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(JsonMessage))]
internal sealed partial class WebJsonContext : JsonSerializerContext
{
}
