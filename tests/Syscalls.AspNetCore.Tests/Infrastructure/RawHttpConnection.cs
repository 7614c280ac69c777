using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Syscalls.AspNetCore.Tests.Infrastructure;

/// <summary>HTTP/1.1 written and parsed by hand over one TCP (or TLS) connection: pipelined requests, bodies cut off,
/// resets, chunked framing seen on the wire, and full duplex (a send and a read may run at once).</summary>
public sealed class RawHttpConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start, _end;

    private RawHttpConnection(Socket socket, Stream stream)
    {
        _socket = socket;
        _stream = stream;
    }

    /// <summary>A parsed response: status, headers (names lower-case; repeated ones joined by ", "), body, and whether
    /// the body came chunked.</summary>
    public sealed record Response(int Status, IReadOnlyDictionary<string, string> Headers, byte[] Body, bool Chunked);

    /// <summary>Connects; with <paramref name="trusted"/>, over TLS (ALPN http/1.1) trusting that certificate only.</summary>
    public static async Task<RawHttpConnection> ConnectAsync(IPEndPoint endpoint, X509Certificate2? trusted, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint, cancellationToken);
            var stream = new NetworkStream(socket, ownsSocket: false);
            if (trusted is null)
                return new RawHttpConnection(socket, stream);
            string thumbprint = trusted.GetCertHashString(HashAlgorithmName.SHA256);
            var tls = new SslStream(stream, leaveInnerStreamOpen: false);
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                ApplicationProtocols = [SslApplicationProtocol.Http11],
                RemoteCertificateValidationCallback = (_, c, _, _) => c?.GetCertHashString(HashAlgorithmName.SHA256) == thumbprint,
            }, cancellationToken);
            return new RawHttpConnection(socket, tls);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static byte[] Request(string method, string path, ReadOnlySpan<byte> body = default, string? extraHeaders = null)
    {
        string head = $"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extraHeaders}" +
            (body.Length > 0 || method == "POST" ? $"Content-Length: {body.Length}\r\n" : "") + "\r\n";
        byte[] bytes = new byte[Encoding.ASCII.GetByteCount(head) + body.Length];
        int n = Encoding.ASCII.GetBytes(head, bytes);
        body.CopyTo(bytes.AsSpan(n));
        return bytes;
    }

    public async Task SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        await _stream.WriteAsync(bytes, cancellationToken);
        await _stream.FlushAsync(cancellationToken);
    }

    /// <summary>Reads one response; <paramref name="headOnly"/> stops after the headers (the body stays unread).</summary>
    public async Task<Response> ReadResponseAsync(CancellationToken cancellationToken, bool headOnly = false)
    {
        string statusLine = await ReadLineAsync(cancellationToken);
        string[] parts = statusLine.Split(' ', 3);
        if (parts.Length < 2 || parts[0] != "HTTP/1.1")
            throw new InvalidDataException($"not an HTTP/1.1 status line: '{statusLine}'");
        int status = int.Parse(parts[1], CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        for (string line; (line = await ReadLineAsync(cancellationToken)).Length > 0;)
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            string name = line[..colon].Trim().ToLowerInvariant(), value = line[(colon + 1)..].Trim();
            headers[name] = headers.TryGetValue(name, out string? earlier) ? $"{earlier}, {value}" : value;
        }

        bool chunked = headers.TryGetValue("transfer-encoding", out string? te) && te.Contains("chunked", StringComparison.OrdinalIgnoreCase);
        if (headOnly)
            return new Response(status, headers, [], chunked);
        var body = new MemoryStream();
        if (chunked)
        {
            while (true)
            {
                string sizeLine = await ReadLineAsync(cancellationToken);
                int size = int.Parse(sizeLine.Split(';')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if (size == 0)
                {
                    while ((await ReadLineAsync(cancellationToken)).Length > 0)
                    {
                        // trailers
                    }

                    break;
                }

                await ReadBodyAsync(body, size, cancellationToken);
                if ((await ReadLineAsync(cancellationToken)).Length != 0)
                    throw new InvalidDataException("a chunk is not followed by CRLF");
            }
        }
        else if (headers.TryGetValue("content-length", out string? length))
        {
            await ReadBodyAsync(body, long.Parse(length, CultureInfo.InvariantCulture), cancellationToken);
        }

        return new Response(status, headers, body.ToArray(), chunked);
    }

    /// <summary>Reads up to <paramref name="destination"/>.Length raw bytes (whatever is buffered or arrives), 0 at end of stream.</summary>
    public async Task<int> ReadSomeAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (_end > _start)
        {
            int n = Math.Min(destination.Length, _end - _start);
            _buffer.AsMemory(_start, n).CopyTo(destination);
            _start += n;
            return n;
        }

        return await _stream.ReadAsync(destination, cancellationToken);
    }

    /// <summary>True when the server closed the connection (end of stream) within the token's time.</summary>
    public async Task<bool> ServerClosedAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await ReadSomeAsync(new byte[1], cancellationToken) == 0;
        }
        catch (IOException)
        {
            return true;   // reset: closed too
        }
    }

    /// <summary>Closes with a TCP reset (SO_LINGER 0): the abrupt end of a client that dies.</summary>
    public void Reset()
    {
        _socket.LingerState = new LingerOption(true, 0);
        _socket.Close();
    }

    public void Dispose()
    {
        _stream.Dispose();
        _socket.Dispose();
    }

    private async Task ReadBodyAsync(Stream body, long count, CancellationToken cancellationToken)
    {
        while (count > 0)
        {
            if (_end == _start && !await FillAsync(cancellationToken))
                throw new EndOfStreamException($"connection ended with {count} body bytes missing");
            int n = (int)Math.Min(count, _end - _start);
            body.Write(_buffer, _start, n);
            _start += n;
            count -= n;
        }
    }

    private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        var line = new StringBuilder();
        while (true)
        {
            if (_end == _start && !await FillAsync(cancellationToken))
                throw new EndOfStreamException($"connection ended in a line ('{line}')");
            int lf = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            int stop = lf < 0 ? _end : lf;
            line.Append(Encoding.ASCII.GetString(_buffer, _start, stop - _start));
            _start = lf < 0 ? _end : lf + 1;
            if (lf >= 0)
                return line.ToString().TrimEnd('\r');
        }
    }

    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        _start = _end = 0;
        _end = await _stream.ReadAsync(_buffer.AsMemory(), cancellationToken);
        return _end > 0;
    }
}
