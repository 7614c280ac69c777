using System;
using System.Globalization;

namespace Syscalls.Samples.Web;

/// <summary>The sample's command line: <c>--backend B --port N [--loops N] [--tls] [--inline]</c>.</summary>
public sealed record WebSettings
{
    public const string Usage =
        "usage: Web [--backend sockets|epoll|poll|uring|emulated|threads|kqueue|afd|wsapoll|iocp] [--port N] [--loops N] " +
        "[--h2c-port N|off] [--tls] [--inline]";

    /// <summary>The transport: <c>sockets</c> is Kestrel's own; the others name a Syscalls runtime backend.</summary>
    /// <remarks>Until the Syscalls transport exists (issue #10, phase 2) the default is the one that works.</remarks>
    public string Backend { get; init; } = "sockets";

    /// <summary>The TCP port on 127.0.0.1; 0 takes a free one (the listening line says which).</summary>
    public int Port { get; init; } = 8080;

    /// <summary>The cleartext HTTP/2 (prior knowledge) port, or null for none; without TLS only. Default: the port after
    /// <see cref="Port"/> (0 when that is 0).</summary>
    public int? H2cPort { get; init; }

    /// <summary>I/O loops (Sockets: IOQueueCount); null keeps the transport's default.</summary>
    public int? Loops { get; init; }

    /// <summary>HTTPS with a self-signed certificate made at start-up, HTTP/1.1 and HTTP/2 through ALPN.</summary>
    public bool Tls { get; init; }

    /// <summary>TechEmpower's transport settings: the application runs inline on the I/O thread, and buffers are
    /// taken before data arrives (the http benchmark's <c>kestrel_inline</c> peer).</summary>
    public bool Inline { get; init; }

    /// <summary>How long a graceful stop waits for requests in flight before it aborts them (the http benchmark's Kestrel
    /// peer waits 3 s); not on the command line.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Parses <paramref name="args"/>; on bad input returns null and says why in <paramref name="error"/>.</summary>
    public static WebSettings? Parse(string[] args, out string? error)
    {
        var s = new WebSettings();
        bool h2cOff = false;
        error = null;
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string? value = i + 1 < args.Length ? args[i + 1] : null;
            switch (arg)
            {
                case "--backend" when value is not null:
                    s = s with { Backend = value.Trim().ToLowerInvariant() };
                    i++;
                    break;
                case "--port" when value is not null:
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
                        return Fail($"--port '{value}' is not a port number (0-65535)", out error);
                    s = s with { Port = port };
                    i++;
                    break;
                case "--loops" when value is not null:
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int loops) || loops is < 1 or > 1024)
                        return Fail($"--loops '{value}' is not a loop count (1-1024)", out error);
                    s = s with { Loops = loops };
                    i++;
                    break;
                case "--h2c-port" when value is not null:
                    if (value == "off")
                    {
                        h2cOff = true;
                    }
                    else if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int h2c) || h2c > 65535)
                    {
                        return Fail($"--h2c-port '{value}' is not a port number (0-65535) or 'off'", out error);
                    }
                    else
                    {
                        s = s with { H2cPort = h2c };
                    }

                    i++;
                    break;
                case "--tls":
                    s = s with { Tls = true };
                    break;
                case "--inline":
                    s = s with { Inline = true };
                    break;
                case "--backend" or "--port" or "--loops" or "--h2c-port":
                    return Fail($"{arg} needs a value", out error);
                default:
                    return Fail($"unknown argument '{arg}'", out error);
            }
        }

        if (s.Tls || h2cOff)
            return s with { H2cPort = null };
        if (s.H2cPort is null)
            s = s with { H2cPort = s.Port is 0 or 65535 ? 0 : s.Port + 1 };
        if (s.H2cPort == s.Port && s.Port != 0)
            return Fail($"--h2c-port {s.H2cPort} is the HTTP/1.1 port", out error);
        return s;
    }

    private static WebSettings? Fail(string message, out string error)
    {
        error = $"{message}\n{Usage}";
        return null;
    }
}
