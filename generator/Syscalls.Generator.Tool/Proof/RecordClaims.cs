using System;
using System.Collections.Generic;
using System.Linq;
using Syscalls.Generator.Facts;

namespace Syscalls.Generator.Tool.Proof;

/// <summary>
/// The claims about every emitted struct and its fields: size and alignment of the record, offset, size and kind
/// (signedness, pointer, float, nested record) of every field, and the exact bits of every bitfield.
/// </summary>
internal sealed class RecordClaims(AbiFacts facts, EmittedAssembly emitted)
{
    private const string LayoutSize = "C# StructLayout Size";

    public IEnumerable<ProofItem> Build()
    {
        int probe = 0;
        foreach (var record in emitted.Records)
        {
            var fact = facts.FindRecord(record.Name);
            string? typedefName = null;
            if (fact is null && facts.FindTypedef(record.Name) is { Type: RecordRefType target })
            {
                fact = facts.Resolve(target);
                typedefName = record.Name;
            }
            string? why = fact is null ? $"no struct, union or typedef fact is named {record.Name}" : null;
            var view = fact is null ? null : RecordView.Of(facts, fact, typedefName, out why);

            var item = new ProofItem(ItemKind.Struct, view?.Display ?? record.Name) { Unverifiable = why };
            var storage = new HashSet<string>(record.Bitfields.Select(b => b.StorageField), StringComparer.Ordinal);
            var fields = record.Fields
                .Where(f => !(storage.Contains(f.Name) && !f.IsPublic))
                .Select(f => new ProofItem(ItemKind.Field, record.Name + "." + f.Name) { Unverifiable = why })
                .ToList();
            var bits = record.Bitfields
                .Select(b => new ProofItem(ItemKind.Field, record.Name + "." + b.Name) { Unverifiable = why })
                .ToList();
            if (view is not null)
            {
                RecordChecks(item, record, view);
                int i = 0;
                foreach (var f in record.Fields.Where(f => !(storage.Contains(f.Name) && !f.IsPublic)))
                {
                    FieldChecks(fields[i++], record, f, view);
                }
                for (int b = 0; b < bits.Count; b++)
                {
                    BitfieldProbe(bits[b], record, record.Bitfields[b], view, ++probe);
                }
            }
            yield return item;
            foreach (var f in fields.Concat(bits))
            {
                yield return f;
            }
        }
    }

    private static void RecordChecks(ProofItem item, EmittedRecord record, RecordView view)
    {
        var fact = view.Fact;
        if (!view.IsAnonymous)
        {
            item.Checks.Add(new(item, "sizeof", $"sizeof({view.TypeExpr})", CSpelling.Literal(record.Size), LayoutSize));
            item.Checks.Add(new(item, "_Alignof", $"_Alignof({view.TypeExpr})", CSpelling.Literal(fact.Align), "facts align"));
            return;
        }
        // No type name for an anonymous member: its size is where its last member ends, rounded up to its
        // alignment (the largest member alignment). Said without a max() macro, whose nesting would expand
        // exponentially: every member ends within the size, and one of them rounds up to exactly the size.
        // Bitfields have no offsetof; they are proven bit by bit, and if they reached past the plain members the
        // "one member rounds up to the size" claim below would fail.
        var members = fact.Fields.Where(f => !f.IsBitField && !f.IsFlexible).ToList();
        if (members.Count == 0)
        {
            item.Unverifiable = $"{fact.Name} is an anonymous member made only of bitfields: C has no expression for its size "
                + "(its bitfields are proven bit by bit through the record that holds it)";
            return;
        }
        string size = CSpelling.Literal(record.Size), align = CSpelling.Literal(fact.Align);
        var ends = members.Select(m => $"({view.Offset(m.Name)} + sizeof({view.Member(m.Name)}))").ToList();
        var aligns = members.Select(m => $"_Alignof(__typeof__({view.Member(m.Name)}))").ToList();
        item.Checks.Add(new(item, "every member ends within sizeof", string.Join(" && ", ends.Select(e => $"{e} <= {size}")), "1",
            $"{LayoutSize} {record.Size}") { Revealable = false });
        item.Checks.Add(new(item, "sizeof is its last member's end rounded up to its alignment",
            string.Join(" || ", ends.Select(e => $"PROOF_ROUNDUP({e}, {align}) == {size}")), "1", $"{LayoutSize} {record.Size}") { Revealable = false });
        if (!fact.IsPacked)
        {
            item.Checks.Add(new(item, "_Alignof is its largest member alignment",
                $"({string.Join(" && ", aligns.Select(x => $"{x} <= {align}"))}) && ({string.Join(" || ", aligns.Select(x => $"{x} == {align}"))})",
                "1", $"facts align {fact.Align}") { Revealable = false });
        }
    }

    private void FieldChecks(ProofItem item, EmittedRecord record, EmittedField field, RecordView view)
    {
        var fact = view.Fact.Fields.FirstOrDefault(f => f.Name == field.Name)
            // CS0542: the emitter appends _ to a member named like its type.
            ?? (field.Name == record.Name + "_" ? view.Fact.Fields.FirstOrDefault(f => f.Name == record.Name) : null);
        if (fact is null)
        {
            AnonymousMemberChecks(item, field, view);
            return;
        }
        // GNU zero-length arrays (`__u8 cmd[0]`) are the pre-C99 spelling of a flexible array member.
        bool flexible = fact.IsFlexible || fact.Type is ArrayType { Length: 0 };
        if (flexible != field.IsFlexible)
        {
            item.Unverifiable = flexible
                ? $"{fact.Name} is a flexible array member in C but a plain field in C#"
                : $"{fact.Name} is a plain field in C but emitted as a flexible-array accessor";
            return;
        }
        if (fact.IsBitField)
        {
            item.Unverifiable = $"{field.Name} is a bitfield in C but a plain field in C#";
            return;
        }
        string member = view.Member(fact.Name);
        if (flexible)
        {
            // A flexible array member has no size: where it starts and its element are what C# must agree with.
            item.Checks.Add(new(item, "offsetof", view.Offset(fact.Name), CSpelling.Literal(field.Offset), $"C# {field.Name}() adds"));
            var element = field.Type.Element ?? ManagedTypeProvider.Unknown("?");
            item.Checks.Add(new(item, "element sizeof", $"sizeof({member}[0])", CSpelling.Literal(element.Size), $"C# {field.Type}"));
            TypeChecks(item, member + "[0]", ((ArrayType)fact.Type).Element, element, "element");
            return;
        }
        item.Checks.Add(new(item, "offsetof", view.Offset(fact.Name), CSpelling.Literal(field.Offset), "C# FieldOffset"));
        item.Checks.Add(new(item, "sizeof", $"sizeof({member})", CSpelling.Literal(field.Type.Size), $"C# {field.Type}"));
        TypeChecks(item, member, fact.Type, field.Type, "field");
    }

    /// <summary>Kind checks shared by fields; <paramref name="member"/> is an lvalue expression of the C type.</summary>
    private void TypeChecks(ProofItem item, string member, CType factType, ManagedType type, string what)
    {
        switch (type.Kind)
        {
            case ManagedKind.Integer when CSpelling.IsIntegerLike(factType):
                // Plain char is byte on every target by API.md's rule, whatever its signedness: _Generic exempts it.
                item.Checks.Add(new(item, type.IsSigned ? "is signed" : "is unsigned", $"PROOF_SIGN_OK({member}, {CSpelling.Bool(type.IsSigned)})", "1",
                    $"C# {type}") { Revealable = false });
                break;
            case ManagedKind.Integer when factType is PointerType:
                break;   // HANDLE-like pointers emitted as nint/nuint: the size check is the claim
            case ManagedKind.Float:
                item.Checks.Add(new(item, "is floating", $"__builtin_classify_type({member})", CSpelling.RealClass.ToString(), $"C# {type}") { Revealable = false });
                break;
            case ManagedKind.Pointer:
                item.Checks.Add(new(item, "is a pointer", $"__builtin_classify_type({member})", CSpelling.PointerClass.ToString(), $"C# {type}") { Revealable = false });
                break;
            case ManagedKind.Record when emitted.FindRecord(type.Name) is { } nested && NestedView(type.Name) is { TypeExpr: { } te }:
                item.Checks.Add(new(item, "type is " + te, $"__builtin_types_compatible_p(__typeof__({member}), {te})", "1", $"C# {nested.Name}") { Revealable = false });
                break;
            case ManagedKind.FixedBuffer or ManagedKind.InlineArray when type.Element is { } element:
                {
                    string first = member + string.Concat(Enumerable.Repeat("[0]", Math.Max(1, CSpelling.ArrayDepth(factType))));
                    var innermost = factType;
                    while (innermost is ArrayType a)
                    {
                        innermost = a.Element;
                    }
                    item.Checks.Add(new(item, "element sizeof", $"sizeof({first})", CSpelling.Literal(element.Size), $"C# {element} x {type.Length}"));
                    TypeChecks(item, first, innermost, element, "element");
                    break;
                }
            case ManagedKind.Integer or ManagedKind.Record or ManagedKind.Guid:
                break;
            default:
                item.Unverifiable = $"the C# {what} type {type} is not one the proof knows how to compare";
                break;
        }
    }

    private RecordView? NestedView(string name)
    {
        var fact = facts.FindRecord(name);
        string? typedefName = null;
        if (fact is null && facts.FindTypedef(name) is { Type: RecordRefType target })
        {
            fact = facts.Resolve(target);
            typedefName = name;
        }
        return fact is null ? null : RecordView.Of(facts, fact, typedefName, out _);
    }

    /// <summary>A C# field holding an anonymous member as a whole (<c>io_uring_sqe__anon1</c>): where it starts.</summary>
    private void AnonymousMemberChecks(ProofItem item, EmittedField field, RecordView view)
    {
        var anon = field.Type.Kind == ManagedKind.Record ? facts.FindRecord(field.Type.Name) : null;
        var first = anon?.Fields.FirstOrDefault(f => !f.IsBitField && f.Via.Count == 0);
        var through = first is null ? null : view.Fact.Fields.FirstOrDefault(f => f.Name == first.Name && f.Via.Contains(anon!.Name));
        if (anon is null || first is null || through is null)
        {
            item.Unverifiable = $"no field fact {view.Fact.Name}.{field.Name}, and it is not an anonymous member of it";
            return;
        }
        item.Checks.Add(new(item, "offsetof (anonymous member, through its first field)",
            $"({view.Offset(first.Name)} - {first.Offset})", CSpelling.Literal(field.Offset), "C# FieldOffset"));
    }

    /// <summary>
    /// offsetof is invalid on a bitfield: set it to all ones in a static object and read the object's bytes back
    /// from the compiler's assembly; exactly the bits the C# getter extracts must be set.
    /// </summary>
    private static void BitfieldProbe(ProofItem item, EmittedRecord record, EmittedBitfield bitfield, RecordView view, int n)
    {
        var fact = view.Fact.Fields.FirstOrDefault(f => f.Name == bitfield.Name);
        if (fact is not { IsBitField: true })
        {
            item.Unverifiable = $"no bitfield fact {view.Fact.Name}.{bitfield.Name}";
            return;
        }
        var storage = record.Fields.FirstOrDefault(f => f.Name == bitfield.StorageField);
        if (bitfield.Shift is not { } shift || bitfield.Width is not { } width || storage is null)
        {
            item.Unverifiable = $"the C# getter of {bitfield.Name} is not a shift-and-mask of a storage field the proof can read";
            return;
        }
        // The holder of the bits: an anonymous member is probed through the record that has a type name.
        var host = view;
        long hostBase = 0;
        while (host.IsAnonymous)
        {
            hostBase += host.Base;
            host = host.Host!;
        }
        int size = checked((int)(host == view ? record.Size : host.Fact.Size));
        var expected = new byte[size];
        long first = (hostBase + storage.Offset) * 8 + shift;
        for (long bit = first; bit < first + width; bit++)
        {
            if (bit / 8 >= size)
            {
                item.Fail($"{item.Name}: C# bits {first}..{first + width - 1} run past the {size}-byte record");
                return;
            }
            expected[bit / 8] |= (byte)(1 << (int)(bit % 8));
        }
        var mask = Enumerable.Repeat((byte)0xFF, size).ToArray();
        string symbol = "proof_bits_" + n;
        string declaration =
            $"const union {{ {host.TypeExpr} s; unsigned char b[sizeof({host.TypeExpr})]; }} {symbol} = {{ .s = {{ .{bitfield.Name} = -1 }} }};";
        item.Probes.Add(new ProbeCheck(item, $"bits {first}..{first + width - 1}", symbol, declaration, expected, mask,
            $"C# {bitfield.Name} reads {bitfield.StorageField} at {storage.Offset}, shift {shift}, width {width}") { AsBits = true });
    }
}
