using System;
using System.Collections.Generic;
using System.Linq;
using Syscalls.Generator.Facts;

namespace Syscalls.Generator.Tool.Proof;

/// <summary>
/// The claims about every P/Invoke: the entry point is declared by the headers with the type the facts spell, and
/// the return and each parameter C type has the size, signedness and kind of the C# type that crosses for it.
/// Extra arguments of a variadic function's fixed-arity overload must be pointer-sized (they travel in the
/// integer registers or stack slots a C caller would use after default promotions).
/// </summary>
internal sealed class FunctionClaims(AbiFacts facts, EmittedAssembly emitted)
{
    public IEnumerable<ProofItem> Build()
    {
        foreach (var fn in emitted.Functions)
        {
            var item = new ProofItem(ItemKind.Function, fn.Label);
            var fact = facts.FindFunction(fn.EntryPoint);
            if (fact is null)
            {
                item.Unverifiable = $"no func fact is named {fn.EntryPoint} ({fn.Class}.{fn.Name})";
                yield return item;
                continue;
            }
            var proto = Prototype.Parse(fact, out string? why);
            if (proto is null)
            {
                item.Unverifiable = why;
                yield return item;
                continue;
            }
            string source = $"C# {fn.Class}.{fn.Name}";
            item.Checks.Add(new(item, "declared type matches the facts prototype", "", "1", $"facts prototype {fact.Prototype}")
            {
                Revealable = false,
                Declaration = proto.Redeclaration(fact.Name),
            });

            bool returnsVoid = fn.Return.Kind == ManagedKind.Void;
            item.Checks.Add(new(item, returnsVoid ? "returns void" : "returns a value", $"__builtin_types_compatible_p(__typeof__({proto.Return}), void)",
                CSpelling.Bool(returnsVoid), source) { Revealable = false });
            if (!returnsVoid)
            {
                TypeChecks(item, "return", proto.Return, fact.Return, fn.Return);
            }

            int fixedCount = proto.Parameters.Count;
            if (fn.Parameters.Count < fixedCount || (!proto.IsVariadic && fn.Parameters.Count != fixedCount))
            {
                item.Fail($"{item.Name}: C takes {fixedCount} parameters{(proto.IsVariadic ? " and ..." : "")}, C# passes {fn.Parameters.Count} ({source})");
            }
            for (int i = 0; i < Math.Min(fixedCount, fn.Parameters.Count); i++)
            {
                TypeChecks(item, $"parameter {i + 1} ({fact.Parameters[i].Name})", Decayed(proto.Parameters[i]), fact.Parameters[i].Type, fn.Parameters[i].Type);
            }
            foreach (var extra in fn.Parameters.Skip(fixedCount))
            {
                if (!extra.Type.IsPointerLike(emitted.PointerSize))
                {
                    item.Fail($"{item.Name}: variadic argument {extra.Name} is C# {extra.Type}, not pointer-sized ({source})");
                }
            }
            yield return item;
        }
    }

    /// <summary>An array parameter is a pointer (C adjusts <c>int fds[2]</c> to <c>int *</c>); its spelling keeps the brackets.</summary>
    private static string Decayed(string type)
    {
        string t = type.TrimEnd();
        if (!t.EndsWith("]", StringComparison.Ordinal))
        {
            return t;
        }
        int open = t.LastIndexOf('[');
        return t.Substring(0, open).TrimEnd() + " *";
    }

    internal static void TypeChecks(ProofItem item, string what, string cType, CType factType, ManagedType type)
    {
        string value = $"(*(__typeof__({cType}) *)0)";   // an lvalue of the type, never evaluated
        item.Checks.Add(new(item, what + " sizeof", $"sizeof({cType})", CSpelling.Literal(type.Size), $"C# {type}"));
        switch (type.Kind)
        {
            case ManagedKind.Integer when CSpelling.IsIntegerLike(factType):
                item.Checks.Add(new(item, what + (type.IsSigned ? " is signed" : " is unsigned"), $"PROOF_SIGN_OK({value}, {CSpelling.Bool(type.IsSigned)})", "1",
                    $"C# {type}") { Revealable = false });
                break;
            case ManagedKind.Integer when factType is PointerType:
                break;   // handles passed as nint/nuint: the size is the claim
            case ManagedKind.Pointer:
                // glibc's __SOCKADDR_ARG is a transparent union of pointers under _GNU_SOURCE: passed as a pointer.
                item.Checks.Add(new(item, what + " is a pointer (or a transparent union of pointers)",
                    $"__builtin_classify_type({value}) == {CSpelling.PointerClass} || (__builtin_classify_type({value}) == {CSpelling.UnionClass} && sizeof({cType}) == {type.Size})",
                    "1", $"C# {type}") { Revealable = false });
                break;
            case ManagedKind.Float:
                item.Checks.Add(new(item, what + " is floating", $"__builtin_classify_type({value})", CSpelling.RealClass.ToString(), $"C# {type}") { Revealable = false });
                break;
            case ManagedKind.Record or ManagedKind.Guid or ManagedKind.Integer:
                break;
            default:
                item.Unverifiable = $"{what}: the C# type {type} is not one the proof knows how to compare";
                break;
        }
    }
}
