using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace Syscalls.Runtime.Tests.Infrastructure;

/// <summary>An echo server in a child process: this test executable re-invoked with <see cref="Verb"/>. It prints
/// "backend NAME (reason)" and "listening PORT", serves until SIGTERM or stdin closes, then prints "closed".</summary>
public sealed class ChildServer : IDisposable
{
    public const string Verb = "--child-server";

    /// <summary>The child creates the ring the selector picks (<see cref="BackendSelector.CreateRing"/>), prints
    /// "ring NAME" or the error, and exits.</summary>
    public const string RingVerb = "--child-ring";
    /// <summary>The same, serving with <see cref="AsyncServer"/> (the async echo) instead of a callback server.</summary>
    public const string AsyncVerb = "--child-async-server";

    private readonly Process _process;
    private readonly List<string> _output = new();
    private readonly TaskCompletionSource<int> _port = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ChildServer(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Port { get; private set; }

    public int Pid => _process.Id;

    public string Output
    {
        get
        {
            lock (_output)
                return string.Join('\n', _output);
        }
    }

    /// <summary>Starts the child; <paramref name="shellPrefix"/> (e.g. "ulimit -Sn 64;") runs in a shell before it.</summary>
    public static ChildServer Start(string backend, IDictionary<string, string>? environment = null, string? shellPrefix = null,
        bool asyncServer = false)
    {
        string verb = asyncServer ? AsyncVerb : Verb;
        string exe = Environment.ProcessPath!;
        var psi = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (shellPrefix is null)
        {
            AddSelf(psi);
            psi.ArgumentList.Add(verb);
            psi.ArgumentList.Add(backend);
        }
        else
        {
            SkipIfNoChildren();
            psi.FileName = "/bin/sh";
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add($"{shellPrefix} exec {(Launcher is null ? "" : "\"$1\" ")}\"$0\" {verb} {backend}");
            psi.ArgumentList.Add(exe);
            if (Launcher is not null)
                psi.ArgumentList.Add(Launcher);
        }

        // The child must not inherit a forced backend or fault rules from this process unless asked to.
        psi.Environment.Remove("SYSCALLS_FAULTS");
        psi.Environment.Remove("LD_PRELOAD");
        if (environment is not null)
        {
            foreach (var (k, v) in environment)
                psi.Environment[k] = v;
        }

        var child = new ChildServer(Process.Start(psi)!);
        child.WaitListening();
        return child;
    }

    /// <summary>The emulator children must be started through, or null. eng/qemu.sh sets it to qemu-aarch64-static:
    /// without binfmt_misc an emulated process cannot exec an arm64 executable by itself.</summary>
    public static string? Launcher => Environment.GetEnvironmentVariable("SYSCALLS_TEST_LAUNCHER") is { Length: > 0 } l ? l : null;

    /// <summary>Makes <paramref name="psi"/> start this test executable again (through <see cref="Launcher"/> when set);
    /// skips the test when child processes are off (SYSCALLS_TEST_NO_CHILDREN=1, set by eng/qemu.sh).</summary>
    public static ProcessStartInfo AddSelf(ProcessStartInfo psi)
    {
        SkipIfNoChildren();
        psi.FileName = Launcher ?? Environment.ProcessPath!;
        if (Launcher is not null)
            psi.ArgumentList.Add(Environment.ProcessPath!);
        return psi;
    }

    /// <summary>Skips a test that starts any process (a child server, a compiler) when child processes are off: under
    /// qemu-user a fork of the multi-threaded emulated process can deadlock before it execs (and then holds the
    /// test run's output pipe open), and an emulated .NET child takes 15-30 s to start.</summary>
    public static void SkipIfNoChildren()
    {
        if (Environment.GetEnvironmentVariable("SYSCALLS_TEST_NO_CHILDREN") == "1")
            Assert.Skip("child processes are off in this run (under qemu-user a fork can deadlock before exec, and each emulated .NET child takes ~15-30 s to start; QEMU_CHILD_TESTS=1 turns them on)");
    }

    private void WaitListening()
    {
        Task finished = _process.WaitForExitAsync();
        int index = Task.WaitAny(_port.Task, finished, Task.Delay(TimeSpan.FromSeconds(30)));
        if (index != 0)
            throw new InvalidOperationException($"child server did not start (exited: {_process.HasExited}):\n{Output}");
        Port = _port.Task.Result;
    }

    private void OnLine(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.Add(line);
        if (line.StartsWith("listening ", StringComparison.Ordinal))
            _port.TrySetResult(int.Parse(line.AsSpan(10), CultureInfo.InvariantCulture));
    }

    /// <summary>User + system CPU time of the child so far (from /proc/PID/stat), in milliseconds.</summary>
    /// <summary>Waits until the child has printed a line containing <paramref name="text"/>; false after the timeout.</summary>
    public bool WaitForOutput(string text, int timeoutMs)
    {
        long end = Environment.TickCount64 + timeoutMs;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (Environment.TickCount64 > end || _process.HasExited)
                return Output.Contains(text, StringComparison.Ordinal);
            Thread.Sleep(20);
        }

        return true;
    }

    public double CpuMilliseconds()
    {
        string stat = File.ReadAllText($"/proc/{_process.Id}/stat");
        string[] f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long ticks = long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture);
        return ticks * 1000.0 / 100;   // USER_HZ is 100 on Linux
    }

    /// <summary>SIGTERM, then waits for a clean exit; returns the exit code.</summary>
    public int Stop()
    {
        if (!_process.HasExited)
        {
            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
                kill.WaitForExit();
            if (!_process.WaitForExit(15000))
            {
                _process.Kill();
                throw new InvalidOperationException("child server ignored SIGTERM:\n" + Output);
            }
        }

        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
                _process.Kill();
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }

    /// <summary>Runs this test executable with <paramref name="args"/> and <paramref name="environment"/> to its end
    /// (at most 60 s); returns its exit code and its output and error streams together.</summary>
    public static (int ExitCode, string Output) RunToEnd(IDictionary<string, string> environment, params string[] args)
    {
        var psi = AddSelf(new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
        foreach (string a in args)
            psi.ArgumentList.Add(a);
        psi.Environment.Remove(BackendSelector.BackendVariable);
        psi.Environment.Remove(BackendSelector.RingVariable);
        foreach (var (k, v) in environment)
            psi.Environment[k] = v;
        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60000))
        {
            p.Kill();
            return (-1, "timed out\n" + stdout.Result + stderr.Result);
        }

        return (p.ExitCode, stdout.Result + "\n" + stderr.Result);
    }

    // ---------------------------------------------------------------- the child's side

    public static int RunRing()
    {
        try
        {
            using IRing ring = BackendSelector.CreateRing();
            Console.WriteLine($"ring {ring.Name}");
            return 0;
        }
        catch (Exception e) when (e is PlatformNotSupportedException or ArgumentException or OsException)
        {
            Console.WriteLine($"{e.GetType().Name}: {e.Message}");
            return 1;
        }
    }

    public static int Run(string[] args)
    {
        BackendKind requested = BackendSelector.Parse(args.Length > 1 ? args[1] : "auto");
        var handler = new EchoHandler();
        using IServer server = BackendSelector.CreateServer(
            new ServerOptions { Backend = requested, Log = line => Console.Error.WriteLine(line) }, handler);
        Console.WriteLine($"backend {BackendSelector.NameOf(server.Backend)} ({server.SelectionReason})");
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            server.Stop();
        });
        Console.WriteLine($"listening {server.LocalEndpoint.Port}");
        Console.Out.Flush();
        server.Run();
        Console.WriteLine($"closed opened={handler.Opened} bytes={handler.Bytes}");
        return 0;
    }

    /// <summary>The child's side of <see cref="AsyncVerb"/>: an async echo on two loops; prints as the callback one.</summary>
    public static int RunAsync(string[] args)
    {
        BackendKind requested = BackendSelector.Parse(args.Length > 1 ? args[1] : "auto");
        long opened = 0, bytes = 0;
        using var stop = new ManualResetEventSlim();
        AsyncServer server = AsyncServer.Start(new AsyncServerOptions { Backend = requested, Loops = 2 }, async c =>
        {
            Interlocked.Increment(ref opened);
            while (true)
            {
                await c.ReceiveAsync(Memory<byte>.Empty);
                byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(4096);
                try
                {
                    int n = await c.ReceiveAsync(buffer);
                    if (n == 0)
                        return;
                    await c.SendAsync(buffer.AsMemory(0, n));
                    Interlocked.Add(ref bytes, n);
                }
                finally
                {
                    System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        });
        Console.WriteLine($"backend {BackendSelector.NameOf(server.Backend)} ({server.SelectionReason})");
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            stop.Set();
        });
        Console.WriteLine($"listening {server.LocalEndpoint.Port}");
        Console.Out.Flush();
        stop.Wait();
        server.Dispose();
        Console.WriteLine($"closed opened={Interlocked.Read(ref opened)} bytes={Interlocked.Read(ref bytes)}");
        return 0;
    }
}
