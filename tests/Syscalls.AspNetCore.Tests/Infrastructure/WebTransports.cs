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

    /// <summary>The transports the costly tests (16 MB bodies, h2load, TLS, the sample as a process) run on, to keep the
    /// suite's time in bounds: Kestrel's Sockets, and the first two backends the host offers (Linux: epoll and poll,
    /// the readiness model; plus uring, the completion model, when the host has it). The cheap tests run on
    /// <see cref="Names"/>, every backend.</summary>
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
