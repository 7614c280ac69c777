using System.IO;
using Syscalls.Consumer.Tests.Infrastructure;
using Xunit;

namespace Syscalls.Consumer.Tests;

/// <summary>
/// samples/RawEcho, the three servers and the program that picks one, builds against the packed package for every
/// RID the package serves with warnings as errors and none reported (CA1416 included: the project declares its
/// platforms per class, as the README teaches), and each build carries that RID's implementation of the bindings.
/// The osx builds are compile-only: no macOS here to run the kqueue server on.
/// </summary>
public sealed class RidBuildTests
{
    [Theory]
    [InlineData("linux-x64")]
    [InlineData("linux-arm64")]
    [InlineData("osx-x64")]
    [InlineData("osx-arm64")]
    [InlineData("win-x64")]
    public void RawEcho_BuiltForRid_NoWarningsAndThatRidsBindings(string rid)
    {
        BuildHost.Require();
        string project = Path.Combine(BuildHost.RepoRoot, "samples", "RawEcho");
        string output = Path.Combine(BuildHost.RepoRoot, "artifacts", "consumer", "RawEcho", rid);

        // --no-incremental: a build that compiles nothing reports no warnings either.
        var (exit, log) = BuildHost.Dotnet(
            ["build", project, "-c", "Release", "-r", rid, "--no-incremental", "-nologo", "-v", "minimal",
             "-p:TreatWarningsAsErrors=true", "-p:SyscallsPackageVersion=" + BuildHost.PackageVersion, "-o", output],
            BuildHost.RepoRoot);

        Assert.True(exit == 0, $"dotnet build -r {rid} failed:\n{log}");
        Assert.Equal((0, 0), BuildHost.Summary(log));
        Assert.Equal([rid], BuildHost.BindingsBuildOf(Path.Combine(output, "Syscalls.Bindings.dll")));
    }
}
