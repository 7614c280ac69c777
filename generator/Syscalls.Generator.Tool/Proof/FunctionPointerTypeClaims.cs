using System;
using System.Collections.Generic;
using System.Linq;
using Syscalls.Generator.Facts;

namespace Syscalls.Generator.Tool.Proof;

/// <summary>
/// The claims about every function-pointer typedef the bindings name (<c>LPFN_ACCEPTEX</c>, a one-field struct): the
/// headers' typedef is the type the facts spell, the struct is the size of the pointer, and the return and each
/// parameter C type has the size, signedness and kind of the C# type in the struct's <c>delegate* unmanaged</c>.
/// </summary>
internal sealed class FunctionPointerTypeClaims(AbiFacts facts, EmittedAssembly emitted)
{
    public IEnumerable<ProofItem> Build()
    {
        foreach (var t in emitted.FunctionPointerTypes)
        {
            var item = new ProofItem(ItemKind.Struct, t.Name);
            var fact = facts.FindTypedef(t.Name);
            if (fact is not { Type: PointerType { Pointee: FunctionType fn } })
            {
                item.Unverifiable = $"no function-pointer typedef fact is named {t.Name}";
                yield return item;
                continue;
            }
            // The emitter's reading of the spelling; the attribute (stdcall, one convention on x64) is not compared.
            if (Syscalls.Generator.Emitter.CSpelling.SplitFunctionPointer(fact.CSpelling, fn.Parameters.Count) is not { } spelled)
            {
                item.Unverifiable = $"{t.Name}: cannot read the return and parameter types from \"{fact.CSpelling}\"";
                yield return item;
                continue;
            }
            string source = $"C# {t.Name}.Value";
            item.Checks.Add(new(item, "the typedef is the facts' type", $"__builtin_types_compatible_p({t.Name}, {spelled.Type})", "1",
                $"facts typedef {fact.CSpelling}") { Revealable = false });
            item.Checks.Add(new(item, "sizeof", $"sizeof({t.Name})", CSpelling.Literal(emitted.PointerSize), source));
            var managed = t.Value;
            if (managed.Parameters.Count != fn.Parameters.Count)
            {
                item.Fail($"{t.Name}: C takes {fn.Parameters.Count} parameters, {source} {managed.Parameters.Count}");
                yield return item;
                continue;
            }
            bool returnsVoid = managed.Return!.Kind == ManagedKind.Void;
            item.Checks.Add(new(item, returnsVoid ? "returns void" : "returns a value",
                $"__builtin_types_compatible_p({spelled.Return}, void)", CSpelling.Bool(returnsVoid), source) { Revealable = false });
            if (!returnsVoid)
            {
                FunctionClaims.TypeChecks(item, "return", spelled.Return, fn.Return, managed.Return);
            }
            for (int i = 0; i < fn.Parameters.Count; i++)
            {
                FunctionClaims.TypeChecks(item, $"parameter {i + 1}", spelled.Parameters[i], fn.Parameters[i], managed.Parameters[i]);
            }
            yield return item;
        }
    }
}
