using System.IO;
using Xunit;

namespace Syscalls.Generator.Tests.Scanner;

/// <summary>
/// A family's <c>opaque</c> line (headers/FORMAT.md): pointers to the record become <c>*void</c> and the record is not
/// defined, which is how the aio family keeps glibc's per-architecture <c>pthread_attr_t</c> out of the bindings.
/// </summary>
public sealed class OpaqueTests
{
    private static ToolHarness.Result Scan(string family, out string facts)
    {
        string families = ToolHarness.TempDir(), outDir = ToolHarness.TempDir();
        File.WriteAllText(Path.Combine(families, "sig.api"), family);
        var r = ToolHarness.Run("scan", "--target", "linux-x64", "--families", families, "--out", outDir);
        string file = Path.Combine(outDir, "linux-x64.abi");
        facts = File.Exists(file) ? File.ReadAllText(file) : "";
        return r;
    }

    private const string Sigevent = "family sig\ntargets linux-x64\nheader signal.h\nstruct sigevent\n";

    [Fact]
    public void Scan_OpaqueRecordBehindPointer_PointerIsVoidAndRecordUndefined()
    {
        var r = Scan(Sigevent + "opaque pthread_attr_t\n", out string facts);

        Assert.True(r.ExitCode == 0, r.ToString());
        const string Field = "field sigevent___sigev_un___sigev_thread._attribute";
        Assert.Contains(Field + " offset=8 size=8 type=*void c=\"pthread_attr_t *\"", facts);
        Assert.DoesNotContain("union pthread_attr_t", facts);
        Assert.DoesNotContain("typedef pthread_attr_t", facts);
    }

    [Fact]
    public void Scan_WithoutOpaque_RecordBehindPointerIsDefined()
    {
        var r = Scan(Sigevent, out string facts);

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("type=*union:pthread_attr_t c=\"pthread_attr_t *\"", facts);
        Assert.Contains("union pthread_attr_t size=56", facts);
    }

    [Fact]
    public void Scan_OpaqueNamesNoRecord_NamesApiFileLineAndName()
    {
        var r = Scan(Sigevent + "opaque sigset_t_nonesuch\n", out string facts);

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("sig.api:5:", r.Stderr);
        Assert.Contains("opaque struct/union sigset_t_nonesuch is not declared", r.Stderr);
        Assert.Equal("", facts);
    }
}
