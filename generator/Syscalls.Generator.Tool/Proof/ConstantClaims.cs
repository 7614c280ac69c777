using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using Syscalls.Generator.Facts;

namespace Syscalls.Generator.Tool.Proof;

/// <summary>
/// The claims about every emitted constant: the macro (or enumerator, or <c>__NR_</c> number) has the C# value, the
/// same sign, and a type of the same size and signedness; a GUID has the same 16 bytes.
/// </summary>
internal sealed class ConstantClaims(AbiFacts facts, EmittedAssembly emitted)
{
    /// <summary>Whether some constant needs <c>&lt;sys/syscall.h&gt;</c> (the SYS_* numbers).</summary>
    public bool NeedsSyscallHeader { get; private set; }

    public IEnumerable<ProofItem> Build()
    {
        int probe = 0;
        foreach (var c in emitted.Constants)
        {
            var item = new ProofItem(ItemKind.Constant, c.Name);
            string source = $"C# {c.Class}.{c.Name}";
            if (c.Form == ConstantForm.Guid)
            {
                GuidProbe(item, c, ++probe);
                yield return item;
                continue;
            }
            if (c.Value is not { } value)
            {
                item.Unverifiable = $"the value of {c.Class}.{c.Name} ({c.Type}) is not an integer the proof can read";
                yield return item;
                continue;
            }
            string expected = CSpelling.Literal(value);
            if (facts.FindConstant(c.Name) is { PointerType: not null })
            {
                // A pointer-valued macro (INVALID_HANDLE_VALUE is ((HANDLE)(LONG_PTR)-1)) emitted as nint/nuint:
                // compare its address bits; signedness means nothing for a pointer.
                string asInt = c.Type.IsSigned ? "__INTPTR_TYPE__" : "__UINTPTR_TYPE__";
                item.Checks.Add(new(item, $"value as {asInt}", $"({asInt})({c.Name})", expected, source));
                item.Checks.Add(new(item, "is a pointer", $"__builtin_classify_type({c.Name})", CSpelling.PointerClass.ToString(),
                    $"C# {c.Type}") { Revealable = false });
                item.Checks.Add(new(item, "sizeof", $"sizeof({c.Name})", CSpelling.Literal(c.Type.Size), $"C# {c.Type}"));
            }
            else if (facts.FindConstant(c.Name) is not null || facts.TryFindEnumerator(c.Name, out _, out _))
            {
                // A macro has the type of its expansion; an enumeration constant has type int when its value fits
                // (C11 6.4.4.3), the enum's own type otherwise (GNU C): either way the compiler's type of the name
                // itself is what C# must match, so a C caller and a C# caller mix it with other values alike.
                ValueChecks(item, c.Name, expected, value, source);
                item.Checks.Add(new(item, "sizeof", $"sizeof({c.Name})", CSpelling.Literal(c.Type.Size), $"C# {c.Type}"));
                item.Checks.Add(new(item, c.Type.IsSigned ? "type is signed" : "type is unsigned", $"PROOF_SIGNED(__typeof__({c.Name}))", CSpelling.Bool(c.Type.IsSigned),
                    $"C# {c.Type}") { Revealable = false });
            }
            else if (c.Name.StartsWith("SYS_", System.StringComparison.Ordinal)
                     && facts.Syscalls.FirstOrDefault(s => s.Name == c.Name.Substring(4)) is { } sys)
            {
                NeedsSyscallHeader = true;
                string nr = "__NR_" + sys.Name;
                item.Checks.Add(new(item, nr, nr, expected, source));
            }
            else
            {
                item.Unverifiable = $"no const, enumerator or syscall fact is named {c.Name}";
            }
            yield return item;
        }
    }

    private static void ValueChecks(ProofItem item, string name, string expected, BigInteger value, string source)
    {
        item.Checks.Add(new(item, "value", $"({name})", expected, source));
        item.Checks.Add(new(item, value < 0 ? "value is negative" : "value is not negative", $"(({name}) < 0)", CSpelling.Bool(value < 0), source) { Revealable = false });
    }

    private void GuidProbe(ProofItem item, EmittedConstant c, int n)
    {
        if (!facts.Guids.Any(g => g.Name == c.Name))
        {
            item.Unverifiable = $"no guid fact is named {c.Name}";
            return;
        }
        if (c.GuidValue is not { } guid)
        {
            item.Unverifiable = $"the initializer of {c.Class}.{c.Name} is not a shape the proof reads";
            return;
        }
        // System.Guid.ToByteArray is the Windows in-memory GUID layout (Data1..3 little-endian).
        var expected = guid.ToByteArray();
        string symbol = "proof_guid_" + n;
        item.Probes.Add(new ProbeCheck(item, "bytes", symbol, $"const GUID {symbol} = {c.Name};", expected,
            Enumerable.Repeat((byte)0xFF, 16).ToArray(), $"C# {c.Class}.{c.Name} = {guid}"));
    }
}
