using System;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using Syscalls.Bindings.Tests.Proofs;
using Xunit;

namespace Syscalls.Bindings.Tests.Packaging;

/// <summary>
/// NuGet package validation, as every package project of the repository inherits it (eng/Packaging.targets), fails
/// the pack of a package whose reference assembly and a runtimes/&lt;rid&gt; implementation differ in API: the
/// RidMismatch fixture, laid out like Syscalls.Bindings, whose linux-x64 build lacks a method of its reference. The
/// same fixture with one API everywhere packs, so the failure is the API difference and nothing else.
/// </summary>
public sealed class PackageValidationTests
{
    private static string Fixture => Path.Combine(ProofFixture.Root, "tests", "Syscalls.Bindings.Tests", "Packaging", "RidMismatch");

    [Fact]
    public void Pack_ReferenceAndRidApisDiffer_ValidationFailsTheBuild()
    {
        var (exit, output) = Pack(matches: false);

        Assert.True(exit != 0, "the pack succeeded although the linux-x64 build lacks a method of the reference:\n" + output);
        Assert.Contains("CP0002", output);
        Assert.Contains("OnlyInTheReference", output);
        Assert.Contains("runtimes/linux-x64/lib/net10.0/RidMismatch.dll", output);
    }

    [Fact]
    public void Pack_ReferenceAndRidApisAgree_Packs()
    {
        var (exit, output) = Pack(matches: true);

        Assert.True(exit == 0, "the control pack failed:\n" + output);
        Assert.DoesNotContain("CP0002", output);
    }

    private static (int Exit, string Output) Pack(bool matches)
    {
        // The pack needs the SDK this repository builds with: the build host, not Wine or qemu.
        Assert.SkipUnless(OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64
            && Environment.GetEnvironmentVariable("SYSCALLS_TEST_NO_CHILDREN") is null, "packing runs on the build host");
        string outDir = Path.Combine(ProofFixture.Root, "artifacts", "fixture-packages", matches ? "matching" : "broken");
        if (Directory.Exists(outDir))
        {
            Directory.Delete(outDir, recursive: true);
        }
        var psi = new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                "pack", Fixture, "-c", "Release", "-o", outDir, "-nologo", "-v", "minimal", "--disable-build-servers",
                "-p:FixtureMatches=" + (matches ? "true" : "false"),
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = ProofFixture.Root,
        };
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }
}
