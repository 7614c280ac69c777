using System.Collections.Generic;
using System.Linq;
using Syscalls.Runtime;
using Xunit;

namespace Syscalls.AspNetCore.Tests.Infrastructure;

/// <summary>Theory data: the Kestrel transports every server test runs on, by the names <c>--backend</c> takes.</summary>
public static class WebTransports
{
    /// <summary>Every test's limit: a hung server or client fails its test (and cancels its awaits) instead of hanging the
    /// suite. Generous: the slowest test takes seconds, but this machine is shared and noisy.</summary>
    public const int TestTimeoutMs = 180_000;

    /// <summary>Kestrel's own Sockets transport, then the Syscalls transport on every server backend of the host
    /// (Linux: epoll, poll, uring, emulated, threads).</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["sockets", .. BackendSelector.SupportedServerBackends().Select(BackendSelector.NameOf)];

    /// <summary>The transports the costly tests (h2load, the sample as a process) and the full-duplex ones (HTTP/2, TLS,
    /// WebSockets) run on: Kestrel's Sockets, the host's first runtime backend (Linux: epoll) and its completion ring
    /// (io_uring, IOCP). The other tests run on <see cref="Names"/>, every backend.</summary>
    /// <remarks>Known issue (issue #10, phase 2 report): HTTP/2 and TLS over the level-triggered backends (poll,
    /// threads, emulated) hang now and then (one request in ~100 never completes); they join the full-duplex tests
    /// once that is found and fixed.</remarks>
    public static IReadOnlyList<string> Representative { get; } = Names.Where(n =>
        n is "sockets" or "uring" or "iocp" || n == Names.ElementAtOrDefault(1)).ToArray();

    public static TheoryData<string> All => new(Names);

    public static TheoryData<string> Some => new(Representative);

    /// <summary>Every transport crossed with every value of <paramref name="values"/>.</summary>
    public static TheoryData<string, T> Cross<T>(IEnumerable<T> values) => Cross(Names, values);

    /// <summary>The <see cref="Representative"/> transports crossed with every value of <paramref name="values"/>.</summary>
    public static TheoryData<string, T> CrossSome<T>(IEnumerable<T> values) => Cross(Representative, values);

    private static TheoryData<string, T> Cross<T>(IEnumerable<string> transports, IEnumerable<T> values)
    {
        var data = new TheoryData<string, T>();
        foreach (string transport in transports)
        {
            foreach (T value in values)
                data.Add(transport, value);
        }

        return data;
    }
}
