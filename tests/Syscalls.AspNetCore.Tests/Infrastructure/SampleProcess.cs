using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace Syscalls.AspNetCore.Tests.Infrastructure;

/// <summary>The built sample (samples/Web, copied beside the tests by the project reference) as a child process, run
/// directly or started in the background by a non-interactive shell script, as the benchmark starts it.</summary>
public sealed class SampleProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = new();
    private readonly SemaphoreSlim _newLine = new(0);

    private SampleProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Add(e.Data);
        process.ErrorDataReceived += (_, e) => Add(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public static string Binary => Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "Web.exe" : "Web");

    /// <summary>The sample itself (its pid is <see cref="Process"/>'s; on Linux exec'd by env(1) with SIGINT's default
    /// disposition), or, with <paramref name="backgroundByScript"/>,
    /// a <c>bash -c</c> script that starts it with <c>&amp;</c>, prints <c>pid N</c>, waits and prints <c>exit N</c>.</summary>
    public static SampleProcess Start(IEnumerable<string> args, bool backgroundByScript = false)
    {
        var psi = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (backgroundByScript)
        {
            psi.FileName = "/bin/bash";
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("\"$0\" \"$@\" & echo \"pid $!\"; wait $!; echo \"exit $?\"");
            psi.ArgumentList.Add(Binary);
        }
        else if (OperatingSystem.IsLinux())
        {
            // A test host started in the background by a non-interactive shell (nohup, `cmd &`) ignores SIGINT, and
            // an ignored signal stays ignored across fork and exec: the sample would never see the INT the tests
            // send. env(1) execs it (same pid) with SIGINT's default restored, as a terminal's Ctrl+C would find it.
            psi.FileName = "/usr/bin/env";
            psi.ArgumentList.Add("--default-signal=INT");
            psi.ArgumentList.Add("--");
            psi.ArgumentList.Add(Binary);
        }
        else
        {
            psi.FileName = Binary;
        }

        foreach (string arg in args)
            psi.ArgumentList.Add(arg);
        return new SampleProcess(Process.Start(psi) ?? throw new InvalidOperationException("cannot start the sample"));
    }

    /// <summary>The process started (the shell, for a script).</summary>
    public Process Process => _process;

    public string Output
    {
        get
        {
            lock (_lines)
                return string.Join('\n', _lines);
        }
    }

    /// <summary>Waits for a line matching <paramref name="pattern"/> and returns its match.</summary>
    public async Task<Match> WaitForLineAsync(string pattern, TimeSpan? timeout = null)
    {
        var regex = new Regex(pattern);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(timeout ?? TimeSpan.FromSeconds(60));
        int seen = 0;
        while (true)
        {
            string[] lines;
            lock (_lines)
                lines = _lines.Skip(seen).ToArray();
            foreach (string line in lines)
            {
                Match m = regex.Match(line);
                if (m.Success)
                    return m;
            }

            seen += lines.Length;
            try
            {
                await _newLine.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"no line matching '{pattern}' (exited: {_process.HasExited}); output:\n{Output}");
            }
        }
    }

    /// <summary>Sends <paramref name="signal"/> (INT, TERM) to <paramref name="pid"/> with kill(1).</summary>
    public static async Task SignalAsync(int pid, string signal)
    {
        ExternalTool.Result r = await ExternalTool.RunAsync("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.True(r.ExitCode == 0, $"kill -{signal} {pid}: {r.Error}");
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await _process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"the process did not exit within {timeout}; output:\n{Output}");
        }

        _process.WaitForExit();   // drains the output readers
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Add(string? line)
    {
        if (line is null)
            return;
        lock (_lines)
            _lines.Add(line);
        _newLine.Release();
    }
}
