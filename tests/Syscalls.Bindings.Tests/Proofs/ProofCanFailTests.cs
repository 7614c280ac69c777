using System;
using System.Collections.Generic;
using System.Linq;
using Syscalls.Generator.Tool.Proof;
using Xunit;

namespace Syscalls.Bindings.Tests.Proofs;

/// <summary>
/// A proof that cannot fail proves nothing: a RID's real bindings are read, then the proof is told they declare
/// something else (a struct 8 bytes larger, a field one byte further, a constant off by one, an enumerator typed
/// unsigned where C types it int, a parameter of the wrong size, a bitfield one bit over, a GUID with one byte changed, a function-pointer typedef's parameter of the
/// wrong size) and the compiler must reject exactly those
/// items, each failure naming the item and the property that differs. linux-x64 has the most items; win-x64 has
/// bitfields (SCOPE_ID) and GUIDs, whose claims are read back from the compiler's assembly instead.
/// </summary>
public sealed class ProofCanFailTests
{
    [Theory]
    [InlineData("linux-x64", "Syscalls.Linux")]
    [InlineData("win-x64", "Syscalls.Windows")]
    public void BindingsProof_WrongExpectationsInjected_FailsNamingEachItemAndProperty(string rid, string scope)
    {
        var clean = ProofFixture.Prove(rid, ProofFixture.OutDir(rid + "-clean"));
        var alreadyFailing = clean.Failed.Select(i => i.ToString()).ToHashSet();

        var wrong = new List<(string Item, string Property)>();
        // Only the RID's own OS namespace: the assembly also declares the other OSes' API, which this proof does not judge.
        var result = ProofFixture.Prove(rid, ProofFixture.OutDir(rid + "-tampered"), emitted => Tamper(emitted, scope, wrong));

        Assert.True(wrong.Count >= 4, $"the bindings offered too few items to tamper with: {string.Join(", ", wrong)}");
        var failures = result.Items.SelectMany(i => i.Failures).ToList();
        foreach (var (item, property) in wrong)
        {
            // A record's item is named as C spells it: struct X, union X, or the typedef.
            Assert.True(failures.Any(f => new[] { item, "struct " + item, "union " + item }.Any(n => f.StartsWith(n + ": ", StringComparison.Ordinal))
                                          && f.Contains(property, StringComparison.Ordinal)),
                $"tampered {item} ({property}) was not reported; failures:\n{string.Join("\n", failures)}");
        }
        // Nothing else may fail: each wrong claim is pinned to its own item.
        var unexpected = result.Failed.Select(i => i.ToString())
            .Where(i => !alreadyFailing.Contains(i) && !wrong.Any(w => i.EndsWith(" " + w.Item, StringComparison.Ordinal)))
            .ToList();
        Assert.True(unexpected.Count == 0, "items failed that were not tampered with: " + string.Join(", ", unexpected));
    }

    /// <summary>Makes one wrong claim of each kind, recording which item and property it touched.</summary>
    private static EmittedAssembly Tamper(EmittedAssembly e, string scope, List<(string Item, string Property)> wrong)
    {
        var records = e.Records.ToList();
        int fieldRecord = records.FindIndex(r => r.Namespace == scope && r.Fields.Any(f => f.IsPublic) && r.Bitfields.Count == 0);
        if (fieldRecord >= 0)
        {
            var r = records[fieldRecord];
            var f = r.Fields.First(x => x.IsPublic);
            records[fieldRecord] = r with { Fields = r.Fields.Select(x => x == f ? x with { Offset = x.Offset + 1 } : x).ToList() };
            wrong.Add(($"{r.Name}.{f.Name}", "offsetof"));
        }
        // A named record (not an anonymous member, whose size is derived) other than the one above.
        int sizeRecord = records.FindIndex(r => r.Namespace == scope && records.IndexOf(r) != fieldRecord && r.Bitfields.Count == 0
            && !r.Name.Contains("__anon", StringComparison.Ordinal));
        if (sizeRecord >= 0)
        {
            var r = records[sizeRecord];
            records[sizeRecord] = r with { Size = r.Size + 8 };
            wrong.Add((r.Name, "sizeof"));
        }
        int bitRecord = records.FindIndex(r => r.Namespace == scope && r.Bitfields.Any(b => b.Shift is not null));
        if (bitRecord >= 0)
        {
            var r = records[bitRecord];
            var b = r.Bitfields.First(x => x.Shift is not null);
            records[bitRecord] = r with { Bitfields = r.Bitfields.Select(x => x == b ? x with { Shift = x.Shift + 1 } : x).ToList() };
            wrong.Add(($"{r.Name}.{b.Name}", "bits"));
        }
        var constants = e.Constants.ToList();
        int c = constants.FindIndex(x => x.Namespace == scope && x.Value is not null && x.Form != ConstantForm.Guid);
        if (c >= 0)
        {
            constants[c] = constants[c] with { Value = constants[c].Value + 1 };
            wrong.Add((constants[c].Name, "value"));
        }
        // An enumeration constant typed as its enum's underlying type (uint for glibc's enum __socket_type), not as C
        // types it (int): what the emitter did before it followed C's rule.
        int en = constants.FindIndex(x => x.Namespace == scope && x.Name == "SOCK_STREAM");
        if (en >= 0 && en != c)
        {
            constants[en] = constants[en] with { Type = new ManagedType("uint", ManagedKind.Integer, 4) };
            wrong.Add((constants[en].Name, "type is unsigned"));
        }
        int g = constants.FindIndex(x => x.Namespace == scope && x.GuidValue is not null);
        if (g >= 0)
        {
            var bytes = constants[g].GuidValue!.Value.ToByteArray();
            bytes[15] ^= 0x01;
            constants[g] = constants[g] with { GuidValue = new Guid(bytes) };
            wrong.Add((constants[g].Name, "bytes"));
        }
        var functions = e.Functions.ToList();
        int fn = functions.FindIndex(x => x.Namespace == scope && x.Parameters.Count > 0);
        if (fn >= 0)
        {
            var f = functions[fn];
            var parameters = f.Parameters.ToList();
            parameters[0] = parameters[0] with { Type = new ManagedType("byte", ManagedKind.Integer, 1) };
            functions[fn] = f with { Parameters = parameters };
            wrong.Add((f.Label, "parameter 1"));
        }
        var pointerTypes = e.FunctionPointerTypes.ToList();
        int fp = pointerTypes.FindIndex(x => x.Namespace == scope && x.Value.Parameters.Count > 1);
        if (fp >= 0)
        {
            var t = pointerTypes[fp];
            var parameters = t.Value.Parameters.ToList();
            parameters[1] = new ManagedType("short", ManagedKind.Integer, 2, IsSigned: true);
            pointerTypes[fp] = t with { Value = t.Value with { Parameters = parameters } };
            wrong.Add((t.Name, "parameter 2"));
        }
        return e with { Records = records, Constants = constants, Functions = functions, FunctionPointerTypes = pointerTypes };
    }
}
