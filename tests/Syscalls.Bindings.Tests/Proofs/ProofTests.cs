using System.Linq;
using Syscalls.Generator.Tool.Proof;
using Xunit;

namespace Syscalls.Bindings.Tests.Proofs;

/// <summary>
/// The ctest-style proof on every target: every struct, field, constant and function a RID's bindings assembly
/// emits is checked by that target's own C compiler (gcc, aarch64-linux-gnu-gcc, x86_64-w64-mingw32-gcc, zig cc)
/// against the pinned headers. The report (coverage per kind, every failure and every unverified item with its
/// reason) is in the test output and in artifacts/proof/&lt;rid&gt;/. The only items allowed to stay unverified are
/// the ones Proofs/unverifiable.txt lists with the reason.
/// </summary>
public sealed class ProofTests
{
    public static TheoryData<string> Rids => new(ProofFixture.Rids);

    [Theory]
    [MemberData(nameof(Rids))]
    public void BindingsProof_CompiledAgainstPinnedHeaders_VerifiesEveryEmittedItem(string rid)
    {
        var result = ProofFixture.Prove(rid, ProofFixture.OutDir(rid));

        Assert.True(result.Items.Count > 0, $"the {rid} bindings emitted nothing the proof could see");
        string report = ProofReport.Format(result);
        Assert.True(result.GlobalError is null && !result.Failed.Any(), report);

        var accepted = ProofFixture.AcceptedUnverifiable(rid);
        var unverified = result.Unverified.Select(i => i.ToString()).ToHashSet();
        var unexplained = unverified.Where(i => !accepted.Contains(i)).ToList();
        var stale = accepted.Where(i => !unverified.Contains(i)).ToList();
        Assert.True(unexplained.Count == 0,
            $"unverified items not in Proofs/unverifiable.txt: {string.Join(", ", unexplained)}\n{report}");
        Assert.True(stale.Count == 0,
            $"Proofs/unverifiable.txt lists {rid} items that are no longer unverified (remove them): {string.Join(", ", stale)}");
    }
}
