using System;
using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Syscalls.AspNetCore.Tests.Infrastructure;

/// <summary>Endpoints the tests add in front of the sample's application, under <c>/test/</c>, and what the server saw
/// on them (a body read to the end or cut off, a response written whole or aborted).</summary>
public sealed class TestEndpoints
{
    /// <summary>The piece size of the server's writes: odd, so chunk and frame boundaries fall everywhere.</summary>
    public const int WritePiece = 61 * 1024 + 7;

    private readonly Channel<Outcome> _sinks = Channel.CreateUnbounded<Outcome>();
    private readonly Channel<Outcome> _streams = Channel.CreateUnbounded<Outcome>();
    private readonly Channel<string> _entered = Channel.CreateUnbounded<string>();
    private readonly Channel<Outcome> _holds = Channel.CreateUnbounded<Outcome>();
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>How one request body read (sink) or response body write (stream) ended on the server.</summary>
    public readonly record struct Outcome(long Bytes, Exception? Error);

    public void Map(IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.Use(async (context, next) =>
        {
            switch (context.Request.Path.Value)
            {
                case "/test/bytes":
                    await Bytes(context);
                    break;
                case "/test/connection":
                    await context.Response.WriteAsync(context.Connection.Id, context.RequestAborted);
                    break;
                case "/test/sink":
                    await Sink(context);
                    break;
                case "/test/stream":
                    await Stream(context);
                    break;
                case "/test/gate":
                    await Gate(context);
                    break;
                case "/test/hold":
                    await Hold(context);
                    break;
                default:
                    await next(context);
                    break;
            }
        });
    }

    /// <summary>The next request body the server read on <c>/test/sink</c>: to its end, or until it failed.</summary>
    public ValueTask<Outcome> NextSinkAsync(CancellationToken cancellationToken) => _sinks.Reader.ReadAsync(cancellationToken);

    /// <summary>The next response the server wrote on <c>/test/stream</c>: whole, or until the write failed.</summary>
    public ValueTask<Outcome> NextStreamAsync(CancellationToken cancellationToken) => _streams.Reader.ReadAsync(cancellationToken);

    /// <summary>Completes when a request reached <c>/test/gate</c> and is waiting there; returns its protocol.</summary>
    public ValueTask<string> NextEnteredAsync(CancellationToken cancellationToken) => _entered.Reader.ReadAsync(cancellationToken);

    /// <summary>How the next <c>/test/hold</c> request ended: with its <c>RequestAborted</c> (the client went away) as
    /// the error, or after 60 s with none.</summary>
    public ValueTask<Outcome> NextHoldAsync(CancellationToken cancellationToken) => _holds.Reader.ReadAsync(cancellationToken);

    /// <summary>Lets every request waiting at <c>/test/gate</c> (and every later one) write its response.</summary>
    public void OpenGate() => _gate.TrySetResult();

    private static long Number(HttpContext context, string name) =>
        long.Parse(context.Request.Query[name].ToString(), NumberStyles.None, CultureInfo.InvariantCulture);

    private static int Seed(HttpContext context) =>
        context.Request.Query.ContainsKey("seed") ? (int)Number(context, "seed") : 0;

    /// <summary>GET /test/bytes?n=N[&amp;seed=S][&amp;chunked=1]: N payload bytes, sized or (HTTP/1.1) chunked.</summary>
    private static async Task Bytes(HttpContext context)
    {
        long n = Number(context, "n");
        if (context.Request.Query["chunked"] != "1")
            context.Response.ContentLength = n;
        await WritePayload(context, Seed(context), n, flushEach: true);
    }

    private static async Task<long> WritePayload(HttpContext context, int seed, long n, bool flushEach)
    {
        long written = 0;
        while (written < n)
        {
            int size = (int)Math.Min(WritePiece, n - written);
            Memory<byte> memory = context.Response.BodyWriter.GetMemory(size)[..size];
            Payload.Fill(seed, written, memory.Span);
            context.Response.BodyWriter.Advance(size);
            written += size;
            if (flushEach)
            {
                FlushResult flushed = await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
                if (flushed.IsCanceled || flushed.IsCompleted)
                    break;
            }
        }

        return written;
    }

    /// <summary>POST /test/sink[?seed=S]: reads the body to its end and answers its length; with a seed it checks every
    /// byte against the payload and answers "mismatch at OFFSET" at the first wrong one.</summary>
    private async Task Sink(HttpContext context)
    {
        context.Features.Get<IHttpMaxRequestBodySizeFeature>()!.MaxRequestBodySize = null;
        int? seed = context.Request.Query.ContainsKey("seed") ? Seed(context) : null;
        long bytes = 0, mismatch = -1;
        try
        {
            while (true)
            {
                ReadResult read = await context.Request.BodyReader.ReadAsync(context.RequestAborted);
                foreach (ReadOnlyMemory<byte> segment in read.Buffer)
                {
                    int bad = seed is int s && mismatch < 0 ? Payload.FirstMismatch(s, bytes, segment.Span) : -1;
                    if (bad >= 0)
                        mismatch = bytes + bad;
                    bytes += segment.Length;
                }

                context.Request.BodyReader.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                    break;
            }
        }
        catch (Exception e)
        {
            _sinks.Writer.TryWrite(new Outcome(bytes, e));   // the client is gone: nothing to answer, nothing to drain
            await context.Request.BodyReader.CompleteAsync();
            return;
        }

        _sinks.Writer.TryWrite(new Outcome(bytes, null));
        await context.Response.WriteAsync(mismatch < 0 ? bytes.ToString(CultureInfo.InvariantCulture) : $"mismatch at {mismatch}",
            context.RequestAborted);
    }

    private async Task Stream(HttpContext context)
    {
        long n = Number(context, "n");
        context.Response.ContentLength = n;
        long written = 0;
        try
        {
            while (written < n)
            {
                int size = (int)Math.Min(WritePiece, n - written);
                Memory<byte> memory = context.Response.BodyWriter.GetMemory(size)[..size];
                Payload.Fill(0, written, memory.Span);
                context.Response.BodyWriter.Advance(size);
                FlushResult flushed = await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
                written += size;
                if (flushed.IsCanceled || flushed.IsCompleted)
                    throw new OperationCanceledException($"the response pipe ended after {written} bytes");
            }
        }
        catch (Exception e)
        {
            _streams.Writer.TryWrite(new Outcome(written, e));   // the client is gone: nothing to answer
            return;
        }

        _streams.Writer.TryWrite(new Outcome(written, null));
    }

    /// <summary>Sends its headers, then waits for the request to be aborted (60 s at most) without reading or writing:
    /// only the transport's word tells it that the client is gone.</summary>
    private async Task Hold(HttpContext context)
    {
        await context.Response.StartAsync(context.RequestAborted);
        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
        _entered.Writer.TryWrite(context.Request.Protocol);
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(60), context.RequestAborted);
        }
        catch (OperationCanceledException e)
        {
            _holds.Writer.TryWrite(new Outcome(0, e));
            return;
        }

        _holds.Writer.TryWrite(new Outcome(0, null));
    }

    private async Task Gate(HttpContext context)
    {
        _entered.Writer.TryWrite(context.Request.Protocol);
        await _gate.Task.WaitAsync(context.RequestAborted);
        long n = Number(context, "n");
        context.Response.ContentLength = n;
        await WritePayload(context, Seed(context), n, flushEach: true);
    }
}
