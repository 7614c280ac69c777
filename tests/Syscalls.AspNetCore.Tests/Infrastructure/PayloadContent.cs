using System;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

namespace Syscalls.AspNetCore.Tests.Infrastructure;

/// <summary>A request body of <see cref="Payload"/> bytes written in odd-sized pieces, generated as it goes: any size
/// without holding it. Of unknown length (HTTP/1.1 sends it chunked) unless <see cref="Sized"/>. HttpClient sends a
/// content type of its own (like this one) full duplex on HTTP/2, reading the response while the upload goes on; its
/// built-in contents are sent whole before the response is read, which deadlocks an echo larger than the flow-control
/// windows. <see cref="PauseAt"/> stops the upload there until <see cref="Resume"/> completes, to prove the server
/// answers before the request has ended.</summary>
public sealed class PayloadContent(int seed, long length, int piece = 40_009) : HttpContent
{
    private readonly long _length = length;

    public bool Sized { get; init; }

    public long PauseAt { get; init; } = -1;

    public Func<Task> Resume { get; init; } = () => Task.CompletedTask;

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        var buffer = new byte[piece];
        for (long sent = 0; sent < _length;)
        {
            if (sent == PauseAt || (sent < PauseAt && sent + piece > PauseAt))
            {
                int head = (int)(PauseAt - sent);
                Payload.Fill(seed, sent, buffer.AsSpan(0, head));
                await stream.WriteAsync(buffer.AsMemory(0, head), cancellationToken);
                await stream.FlushAsync(cancellationToken);
                sent += head;
                await Resume().WaitAsync(cancellationToken);
            }

            int n = (int)Math.Min(piece, _length - sent);
            Payload.Fill(seed, sent, buffer.AsSpan(0, n));
            await stream.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
            sent += n;
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override bool TryComputeLength(out long length)
    {
        length = Sized ? _length : -1;
        return Sized;
    }
}
