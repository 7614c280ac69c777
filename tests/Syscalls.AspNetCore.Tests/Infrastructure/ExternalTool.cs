using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading.Tasks;
using Xunit;

namespace Syscalls.AspNetCore.Tests.Infrastructure;

/// <summary>Clients no one here wrote (curl, h2load from Debian; eng/setup.sh installs them), run as processes.</summary>
public static class ExternalTool
{
    public sealed record Result(int ExitCode, string Output, string Error);

    /// <summary>Runs <paramref name="tool"/> with <paramref name="args"/>; a missing tool fails the test, saying how to
    /// install it (on Linux; elsewhere the test is skipped: the tools are Debian packages).</summary>
    public static async Task<Result> RunAsync(string tool, IEnumerable<string> args, TimeSpan? timeout = null)
    {
        string path = Find(tool);
        var psi = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in args)
            psi.ArgumentList.Add(arg);
        // Loopback only: no proxy from the environment may stand between the client and the server under test.
        foreach (string variable in new[] { "http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY" })
            psi.Environment.Remove(variable);
        using Process process = Process.Start(psi)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(timeout ?? TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{tool} {string.Join(' ', args)} did not finish in {timeout ?? TimeSpan.FromSeconds(60)}");
        }

        return new Result(process.ExitCode, await output, await error);
    }

    private static string Find(string tool)
    {
        if (!OperatingSystem.IsLinux())
            Assert.Skip($"{tool} comes from Debian packages: Linux only");
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(Path.PathSeparator))
        {
            string candidate = Path.Combine(dir, tool);
            if (File.Exists(candidate))
                return candidate;
        }

        Assert.Fail($"{tool} is not installed: eng/setup.sh installs it (./build.sh setup)");
        return tool;
    }
}
