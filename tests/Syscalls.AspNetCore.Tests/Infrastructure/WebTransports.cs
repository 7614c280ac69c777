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
    /// WebSockets) run on: every one, as the cheap tests (the whole suite takes ~20 s on an idle 2-core machine).</summary>
    /// <remarks>They ran on Sockets, epoll and the ring alone while HTTP/2 and TLS over poll, threads and emulated hung
    /// now and then: a Wake that raced the owner's drain was lost, leaving a loop asleep with work posted (fixed in the
    /// wakers). Kept as a name so a suite that grows costly can narrow it again in one place.</remarks>
    public static IReadOnlyList<string> Representative { get; } = Names;

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
