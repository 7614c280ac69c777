using System;
using System.Collections.Generic;
using System.Numerics;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;

namespace Syscalls.Generator.Tool.Proof;

/// <summary>
/// Reads the few method-body shapes the emitter produces for values that metadata does not hold directly: a
/// constant property (<c>static nint X =&gt; 5;</c>: ldc, conv, ret), a GUID static initializer in <c>.cctor</c>
/// (ldc/ldstr, newobj Guid::.ctor, stsfld) and a bitfield getter (ldfld storage, shifts and a mask, ret).
/// Anything else yields null, so the item is reported as unreadable rather than guessed.
/// </summary>
internal sealed class IlShapes(MetadataReader md)
{
    // ECMA-335 III opcodes used by the three shapes.
    private const byte Nop = 0x00, LdArg0 = 0x02, LdcI4M1 = 0x15, LdcI40 = 0x16, LdcI48 = 0x1E, LdcI4S = 0x1F, LdcI4 = 0x20,
        LdcI8 = 0x21, Dup = 0x25, Call = 0x28, Ret = 0x2A, Add = 0x58, And = 0x5F, Shl = 0x62, Shr = 0x63, ShrUn = 0x64, ConvI1 = 0x67, ConvI2 = 0x68,
        ConvI4 = 0x69, ConvI8 = 0x6A, ConvU4 = 0x6D, ConvU8 = 0x6E, LdStr = 0x72, NewObj = 0x73, LdFld = 0x7B, StsFld = 0x80,
        ConvU2 = 0xD1, ConvU1 = 0xD2, ConvI = 0xD3, ConvU = 0xE0;

    /// <summary>The raw 64-bit pattern a constant getter returns, or null.</summary>
    public long? ConstantGetter(MethodBodyBlock body)
    {
        var il = body.GetILReader();
        long? value = null;
        bool wide = false;   // an int32 on the IL stack zero- or sign-extends on conv; an int64 does not
        while (il.RemainingBytes > 0)
        {
            byte op = il.ReadByte();
            switch (op)
            {
                case Nop: break;
                case >= LdcI4M1 and <= LdcI48: value = op - LdcI40; wide = false; break;
                case LdcI4S: value = il.ReadSByte(); wide = false; break;
                case LdcI4: value = il.ReadInt32(); wide = false; break;
                case LdcI8: value = il.ReadInt64(); wide = true; break;
                case ConvI8 or ConvI when value is not null: wide = true; break;
                case ConvU8 or ConvU when value is not null: value = wide ? value : (uint)value.Value; wide = true; break;
                case ConvI4 when value is not null: value = (int)value.Value; wide = false; break;
                case ConvU4 when value is not null: value = (uint)value.Value; wide = false; break;
                case ConvI2 when value is not null: value = (short)value.Value; wide = false; break;
                case ConvU2 when value is not null: value = (ushort)value.Value; wide = false; break;
                case ConvI1 when value is not null: value = (sbyte)value.Value; wide = false; break;
                case ConvU1 when value is not null: value = (byte)value.Value; wide = false; break;
                case Ret: return il.RemainingBytes == 0 ? value : null;
                default: return null;
            }
        }
        return null;
    }

    /// <summary>
    /// The byte offset a flexible-array accessor adds to <c>this</c>
    /// (<c>(T*)((byte*)Unsafe.AsPointer(ref this) + N)</c>: ldarg.0, call, ldc N, [conv], add, ret), or null.
    /// </summary>
    public int? PointerOffsetGetter(MethodBodyBlock body)
    {
        var il = body.GetILReader();
        int step = 0;
        int? offset = null;
        while (il.RemainingBytes > 0)
        {
            byte op = il.ReadByte();
            switch (op)
            {
                case Nop: break;
                case LdArg0 when step == 0: step = 1; break;
                case Call when step == 1: il.ReadInt32(); step = 2; break;
                case >= LdcI4M1 and <= LdcI48 when step == 2: offset = op - LdcI40; step = 3; break;
                case LdcI4S when step == 2: offset = il.ReadSByte(); step = 3; break;
                case LdcI4 when step == 2: offset = il.ReadInt32(); step = 3; break;
                case (ConvI or ConvU or ConvI8 or ConvU8) when step is 2 or 3: break;
                case Add when step == 3: step = 4; break;
                case Ret when step == 4: return il.RemainingBytes == 0 ? offset : null;
                case Ret when step == 2: return il.RemainingBytes == 0 ? 0 : null;   // offset 0: no add
                default: return null;
            }
        }
        return null;
    }

    /// <summary>Every <c>static readonly Guid F = new Guid(...)</c> the type initializer assigns, by field name.</summary>
    public Dictionary<string, Guid> GuidInitializers(MethodBodyBlock body)
    {
        var found = new Dictionary<string, Guid>(StringComparer.Ordinal);
        var stack = new List<object?>();
        var il = body.GetILReader();
        while (il.RemainingBytes > 0)
        {
            byte op = il.ReadByte();
            switch (op)
            {
                case Nop: break;
                case >= LdcI4M1 and <= LdcI48: stack.Add((long)(op - LdcI40)); break;
                case LdcI4S: stack.Add((long)il.ReadSByte()); break;
                case LdcI4: stack.Add((long)il.ReadInt32()); break;
                case LdcI8: stack.Add(il.ReadInt64()); break;
                case ConvI8 or ConvU8 or ConvI or ConvU or ConvI4 or ConvU4 or ConvU1 or ConvU2 or ConvI1 or ConvI2: break;
                case Dup when stack.Count > 0: stack.Add(stack[^1]); break;
                case LdStr: stack.Add(md.GetUserString(MetadataTokens.UserStringHandle(il.ReadInt32() & 0xFFFFFF))); break;
                case NewObj:
                    {
                        var ctor = MetadataTokens.EntityHandle(il.ReadInt32());
                        int arity = GuidCtorArity(ctor);
                        if (arity == 0 || stack.Count < arity)
                        {
                            return found;
                        }
                        var args = stack.GetRange(stack.Count - arity, arity);
                        stack.RemoveRange(stack.Count - arity, arity);
                        stack.Add(MakeGuid(args));
                        break;
                    }
                case StsFld:
                    {
                        var field = MetadataTokens.EntityHandle(il.ReadInt32());
                        if (stack.Count > 0 && stack[^1] is Guid g && field.Kind == HandleKind.FieldDefinition)
                        {
                            found[md.GetString(md.GetFieldDefinition((FieldDefinitionHandle)field).Name)] = g;
                        }
                        if (stack.Count > 0)
                        {
                            stack.RemoveAt(stack.Count - 1);
                        }
                        break;
                    }
                default:
                    // Past the GUIDs: anything else in the initializer is not ours to interpret.
                    return found;
            }
        }
        return found;
    }

    private int GuidCtorArity(EntityHandle ctor)
    {
        if (ctor.Kind != HandleKind.MemberReference)
        {
            return 0;
        }
        var mr = md.GetMemberReference((MemberReferenceHandle)ctor);
        if (mr.Parent.Kind != HandleKind.TypeReference)
        {
            return 0;
        }
        var parent = md.GetTypeReference((TypeReferenceHandle)mr.Parent);
        if (md.GetString(parent.Namespace) != "System" || md.GetString(parent.Name) != "Guid")
        {
            return 0;
        }
        var sig = md.GetBlobReader(mr.Signature);
        sig.ReadSignatureHeader();
        int count = sig.ReadCompressedInteger();
        return count is 1 or 11 ? count : 0;
    }

    private static object? MakeGuid(List<object?> args)
    {
        if (args.Count == 1)
        {
            return args[0] is string s && Guid.TryParse(s, out var parsed) ? parsed : null;
        }
        foreach (var a in args)
        {
            if (a is not long)
            {
                return null;
            }
        }
        long L(int i) => (long)args[i]!;
        return new Guid((uint)L(0), (ushort)L(1), (ushort)L(2), (byte)L(3), (byte)L(4), (byte)L(5), (byte)L(6),
            (byte)L(7), (byte)L(8), (byte)L(9), (byte)L(10));
    }

    /// <summary>
    /// The storage field, bit shift and width a bitfield getter extracts, or null. Tracks which source bits end up
    /// at which result bits through shl/shr/and/conv, so both <c>(s &gt;&gt; k) &amp; m</c> and the sign-extending
    /// <c>(int)(s &lt;&lt; a) &gt;&gt; b</c> read back as (shift, width).
    /// </summary>
    public (string Field, int Shift, int Width)? BitfieldGetter(MethodBodyBlock body, Func<FieldDefinitionHandle, int> storageBits)
    {
        var il = body.GetILReader();
        string? field = null;
        int lo = 0, hi = 0, off = 0, width = 32;   // result bit p (lo <= p < hi) is source bit p + off
        var consts = new Stack<long>();
        bool loadedThis = false;
        while (il.RemainingBytes > 0)
        {
            byte op = il.ReadByte();
            switch (op)
            {
                case Nop: break;
                case LdArg0: loadedThis = true; break;
                case LdFld when loadedThis && field is null:
                    {
                        var h = MetadataTokens.EntityHandle(il.ReadInt32());
                        if (h.Kind != HandleKind.FieldDefinition)
                        {
                            return null;
                        }
                        var fh = (FieldDefinitionHandle)h;
                        field = md.GetString(md.GetFieldDefinition(fh).Name);
                        hi = storageBits(fh);
                        width = hi > 32 ? 64 : 32;
                        break;
                    }
                case >= LdcI4M1 and <= LdcI48: consts.Push(op - LdcI40); break;
                case LdcI4S: consts.Push(il.ReadSByte()); break;
                case LdcI4: consts.Push(il.ReadInt32()); break;
                case LdcI8: consts.Push(il.ReadInt64()); break;
                case Shl when consts.Count > 0:
                    {
                        int c = (int)(consts.Pop() & (width - 1));
                        lo += c; hi = Math.Min(hi + c, width); off -= c;
                        break;
                    }
                case (Shr or ShrUn) when consts.Count > 0:
                    {
                        int c = (int)(consts.Pop() & (width - 1));
                        lo = Math.Max(lo - c, 0); hi -= c; off += c;
                        break;
                    }
                case And when consts.Count > 0:
                    {
                        ulong m = (ulong)consts.Pop();
                        if (m == 0 || (m & (m + 1)) != 0)
                        {
                            return null;   // only low masks (2^k - 1) are bitfield extraction
                        }
                        hi = Math.Min(hi, BitOperations.PopCount(m));
                        break;
                    }
                case ConvI8 or ConvU8 or ConvI or ConvU: width = 64; break;
                case ConvI4 or ConvU4: hi = Math.Min(hi, 32); width = 32; break;
                case ConvI2 or ConvU2: hi = Math.Min(hi, 16); break;
                case ConvI1 or ConvU1: hi = Math.Min(hi, 8); break;
                case Ret:
                    return field is null || lo != 0 || hi <= 0 || il.RemainingBytes != 0 ? null : (field, off, hi);
                default:
                    return null;
            }
        }
        return null;
    }
}
