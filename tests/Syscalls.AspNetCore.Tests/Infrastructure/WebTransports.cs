using System.Collections.Generic;
using Xunit;

namespace Syscalls.AspNetCore.Tests.Infrastructure;

/// <summary>Theory data: the Kestrel transports every server test runs on, by the names <c>--backend</c> takes.</summary>
public static class WebTransports
{
    /// <summary>Every test's limit: a hung server or client fails its test (and cancels its awaits) instead of hanging the
    /// suite. Generous: the slowest test takes seconds, but this machine is shared and noisy.</summary>
    public const int TestTimeoutMs = 180_000;

    /// <summary>Today Kestrel's own Sockets transport only. When the Syscalls transport exists (issue #10, phase 2),
    /// the host's backends join it on this line: <c>["sockets", .. BackendSelector.SupportedServerBackends().Select(
    /// BackendSelector.NameOf)]</c>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["sockets"];

    public static TheoryData<string> All => new(Names);

    /// <summary>Every transport crossed with every value of <paramref name="values"/>.</summary>
    public static TheoryData<string, T> Cross<T>(IEnumerable<T> values)
    {
        var data = new TheoryData<string, T>();
        foreach (string transport in Names)
        {
            foreach (T value in values)
                data.Add(transport, value);
        }

        return data;
    }
}
