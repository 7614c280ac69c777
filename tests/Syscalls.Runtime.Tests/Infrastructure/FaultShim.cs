using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using Xunit;

namespace Syscalls.Runtime.Tests.Infrastructure;

/// <summary>Builds Native/fault.c into an LD_PRELOAD library once per test run (gcc) and makes the environment of a
/// child that runs with it.</summary>
public static class FaultShim
{
    private static readonly Lazy<(string? Path, string Error)> s_library = new(() => Build("fault.so", "-shared", "-fPIC"));
    private static readonly Lazy<(string? Path, string Error)> s_probe = new(() => Build("fault-probe", "-DFAULT_PROBE"));

    /// <summary>The built library, or a skip when gcc is missing or the build failed.</summary>
    public static string Library
    {
        get
        {
            Platform.RequireLinux("the LD_PRELOAD fault shim");
            ChildServer.SkipIfNoChildren();
            var (path, error) = s_library.Value;
            if (path is null)
                Assert.Skip("fault-injection shim unavailable: " + error);
            return path!;
        }
    }

    /// <summary>Runs the shim's probe program (fault.c built with FAULT_PROBE) under <paramref name="rules"/>, through
    /// the test launcher when there is one; skips when it cannot be built.</summary>
    public static (int ExitCode, string Output, string Error) Probe(string? rules, params string[] args)
    {
        Platform.RequireLinux("the LD_PRELOAD fault shim");
        ChildServer.SkipIfNoChildren();
        var (path, error) = s_probe.Value;
        if (path is null)
            Assert.Skip("fault-injection probe unavailable: " + error);
        var psi = new ProcessStartInfo
        {
            FileName = ChildServer.Launcher ?? path!,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        if (ChildServer.Launcher is not null)
            psi.ArgumentList.Add(path!);
        foreach (string a in args)
            psi.ArgumentList.Add(a);
        psi.Environment.Remove("LD_PRELOAD");
        psi.Environment.Remove("SYSCALLS_FAULTS");
        if (rules is not null)
            psi.Environment["SYSCALLS_FAULTS"] = rules;
        using Process p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout, stderr.Result);
    }

    /// <summary>Environment for a child: LD_PRELOAD, the rules, and a report file (returned); optionally an opcode
    /// hidden from IORING_REGISTER_PROBE, or io_uring without cancel by descriptor.</summary>
    public static Dictionary<string, string> Environment(string rules, out string reportPath, int hideOpcode = -1, bool noCancelByFd = false)
    {
        reportPath = Path.Combine(Path.GetTempPath(), $"syscalls-faults-{Guid.NewGuid():N}.txt");
        var env = new Dictionary<string, string>
        {
            ["LD_PRELOAD"] = Library,
            ["SYSCALLS_FAULTS"] = rules,
            ["SYSCALLS_FAULTS_REPORT"] = reportPath,
        };
        if (hideOpcode >= 0)
            env["SYSCALLS_FAULTS_HIDE_OPCODE"] = hideOpcode.ToString(CultureInfo.InvariantCulture);
        if (noCancelByFd)
            env["SYSCALLS_FAULTS_NO_CANCEL_FD"] = "1";   // io_uring refuses IORING_ASYNC_CANCEL_FD, as before 5.19
        return env;
    }

    /// <summary>Reads a report: name to (calls, injected).</summary>
    public static Dictionary<string, (long Calls, long Injected)> ReadReport(string path)
    {
        var result = new Dictionary<string, (long, long)>();
        if (!File.Exists(path))
            return result;
        foreach (string line in File.ReadAllLines(path))
        {
            string[] f = line.Split(' ');
            if (f.Length == 3)
                result[f[0]] = (long.Parse(f[1], CultureInfo.InvariantCulture), long.Parse(f[2], CultureInfo.InvariantCulture));
        }

        File.Delete(path);
        return result;
    }

    private static (string?, string) Build(string name, params string[] flags)
    {
        string source = Path.Combine(AppContext.BaseDirectory, "Native", "fault.c");
        if (!File.Exists(source))
            return (null, $"{source} missing");
        string dir = Path.Combine(Path.GetTempPath(), $"syscalls-fault-{System.Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        string output = Path.Combine(dir, name);
        try
        {
            // The shim must match the process it is preloaded into: eng/qemu.sh sets aarch64-linux-gnu-gcc.
            string cc = System.Environment.GetEnvironmentVariable("SYSCALLS_TEST_CC") is { Length: > 0 } c ? c : "gcc";
            var psi = new ProcessStartInfo(cc)
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            };
            foreach (string f in flags)
                psi.ArgumentList.Add(f);
            foreach (string a in new[] { "-O2", "-o", output, source, "-ldl" })
                psi.ArgumentList.Add(a);
            using Process p = Process.Start(psi)!;
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0 ? (output, "") : (null, cc + " failed: " + err);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (null, "C compiler not found: " + e.Message);
        }
    }
}
