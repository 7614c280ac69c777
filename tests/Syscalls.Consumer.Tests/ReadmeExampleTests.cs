using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Syscalls.Consumer.Tests.Infrastructure;
using Xunit;

namespace Syscalls.Consumer.Tests;

/// <summary>
/// The README's raw-bindings example, taken from README.md, as a newcomer meets it: a new console project outside the
/// repository (`dotnet new console`, `dotnet add package Syscalls.Bindings`, the RID in the project file), built with
/// no warning and no error, then run: it answers on 127.0.0.1:9000, or, when another program holds that port, says
/// so in the words the README shows.
/// </summary>
public sealed class ReadmeExampleTests
{
    /// <summary>The port the README's example listens on.</summary>
    private const int Port = 9000;

    /// <summary>How long the example may stay silent before the test calls it stuck.</summary>
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(30);

    [Fact(Timeout = 600_000)]
    public async Task ReadmeExample_NewProject_BuildsWithNoWarningAndEchoes()
    {
        BuildHost.Require();
        var cancel = TestContext.Current.CancellationToken;
        string dir = Path.Combine(Path.GetTempPath(), "syscalls-readme-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            string exe = Build(dir);
            await RunAndEcho(exe, cancel);
        }
        finally
        {
            if (Directory.Exists(dir))
                Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The steps the README gives, in a folder no Directory.Build.props or global.json reaches.</summary>
    private static string Build(string dir)
    {
        // The package from artifacts/packages, everything else from nuget.org, into the consumer projects' folder.
        var env = new Dictionary<string, string> { ["NUGET_PACKAGES"] = BuildHost.PackagesFolder };
        Run(["new", "console", "-o", dir, "-n", "EchoFirst", "--no-restore"], Path.GetTempPath(), env);
        File.WriteAllText(Path.Combine(dir, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{BuildHost.Feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="local"><package pattern="Syscalls.*" /></packageSource>
                <packageSource key="nuget.org"><package pattern="*" /></packageSource>
              </packageSourceMapping>
            </configuration>
            """);
        Run(["add", Path.Combine(dir, "EchoFirst.csproj"), "package", "Syscalls.Bindings",
             "--version", BuildHost.PackageVersion], dir, env);
        string csproj = Path.Combine(dir, "EchoFirst.csproj");
        string project = File.ReadAllText(csproj);
        Assert.Contains("</PropertyGroup>", project);
        File.WriteAllText(csproj, project.Replace("</PropertyGroup>",
            "  <RuntimeIdentifier>linux-x64</RuntimeIdentifier>\n  </PropertyGroup>", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(dir, "Program.cs"), Readme.RawBindingsExample());

        var (exit, log) = BuildHost.Dotnet(["build", dir, "-c", "Release", "-nologo", "-v", "minimal"], dir, env);
        Assert.True(exit == 0, "the README's example does not build as a new project:\n" + log);
        Assert.Equal((0, 0), BuildHost.Summary(log));
        return Path.Combine(dir, "bin", "Release", "net10.0", "linux-x64", "EchoFirst");
    }

    private static async Task RunAndEcho(string exe, CancellationToken cancel)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var server = Process.Start(psi)!;
        try
        {
            var stderr = server.StandardError.ReadToEndAsync(cancel);
            var first = server.StandardOutput.ReadLineAsync(cancel).AsTask();
            if (await Task.WhenAny(first, Task.Delay(Idle, cancel)) != first)
                Assert.Fail($"the README's example printed nothing within {Idle.TotalSeconds} s");
            string? line = await first;
            if (line is null)
            {
                // It exited: the port is someone else's, and the README says what that looks like.
                await server.WaitForExitAsync(cancel);
                Assert.Equal(1, server.ExitCode);
                Assert.StartsWith("bind: EADDRINUSE (98): Address already in use", await stderr);
                TestContext.Current.TestOutputHelper?.WriteLine(
                    $"port {Port} is in use: the example said so and exited");
                return;
            }
            Assert.Equal($"echo on 127.0.0.1:{Port}", line);
            byte[] hello = "hello from the README"u8.ToArray();
            var back = new byte[hello.Length];
            int got = 0;
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            idle.CancelAfter(Idle);
            try
            {
                using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await client.ConnectAsync("127.0.0.1", Port, idle.Token);
                await client.SendAsync(hello, SocketFlags.None, idle.Token);
                while (got < back.Length)
                {
                    int n = await client.ReceiveAsync(back.AsMemory(got), SocketFlags.None, idle.Token);
                    Assert.True(n > 0, "the README's example closed the connection before echoing");
                    got += n;
                }
            }
            catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
            {
                Assert.Fail($"the README's example echoed {got} of {hello.Length} bytes in {Idle.TotalSeconds} s");
            }
            Assert.Equal(hello, back);
            TestContext.Current.TestOutputHelper?.WriteLine($"the example echoed on port {Port}");
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill();
                await server.WaitForExitAsync(CancellationToken.None);
            }
        }
    }

    private static void Run(IEnumerable<string> args, string cwd, IReadOnlyDictionary<string, string> env)
    {
        var (exit, log) = BuildHost.Dotnet(args, cwd, env);
        Assert.True(exit == 0, $"dotnet {string.Join(' ', args)} failed:\n{log}");
    }
}
