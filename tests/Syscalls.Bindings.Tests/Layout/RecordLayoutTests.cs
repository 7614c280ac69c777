using System;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Syscalls.Generator.Facts;
using Xunit;

namespace Syscalls.Bindings.Tests.Layout;

/// <summary>
/// Every record of this RID's facts, compiled: its size (Unsafe.SizeOf) and every field's offset ([FieldOffset])
/// are clang's; fixed buffers hold the C array's bytes; bitfield properties touch exactly their bits; flexible array
/// methods point at the member's offset. Unnamed records count too; zero-size records (GNU empty structs) are
/// left out by the emitter, which the manifest says.
/// </summary>
// unsafe: pointers into pinned boxed structs, to read raw bytes and flexible-array addresses.
public sealed unsafe class RecordLayoutTests
{
    private const string NoFacts = "(no facts for this RID)";

    public static TheoryData<string> Records()
    {
        var facts = HostFacts.Facts;
        var data = new TheoryData<string>();
        foreach (var r in facts?.Records.Where(r => r.Size > 0 && r.Name is not ("_GUID" or "GUID")) ?? [])
        {
            data.Add(r.Name);
        }
        if (data.Count == 0)
        {
            data.Add(NoFacts);
        }
        return data;
    }

    private static (RecordFact Fact, Type Type) Load(string name)
    {
        var facts = HostFacts.Require();
        var record = facts.FindRecord(name) ?? throw new InvalidOperationException(name);
        var type = HostFacts.RecordType(facts, record);
        Assert.True(type is not null, $"{record.CName} has no compiled type in {HostFacts.Namespace(facts)}");
        return (record, type!);
    }

    [Theory]
    [MemberData(nameof(Records))]
    public void Record_Compiled_SizeIsClangs(string name)
    {
        var (record, type) = Load(name);
        int size = (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(type).Invoke(null, null)!;
        Assert.Equal(record.Size, size);
    }

    [Theory]
    [MemberData(nameof(Records))]
    public void Record_Compiled_EveryFieldAtClangsOffset(string name)
    {
        var (record, type) = Load(name);
        foreach (var f in record.Fields.Where(f => !f.IsBitField && !f.IsFlexible && f.Size > 0))
        {
            var field = Field(type, f.Name);
            Assert.True(field is not null, $"{record.CName}.{f.Name} has no field in {type.FullName}");
            var offset = field!.GetCustomAttribute<FieldOffsetAttribute>();
            Assert.True(offset is not null, $"{type.Name}.{field.Name} has no [FieldOffset]");
            Assert.True(f.Offset == offset!.Value, $"{type.Name}.{field.Name}: offset {offset.Value}, clang says {f.Offset}");
            Assert.True(f.Size == ManagedSize(field), $"{type.Name}.{field.Name}: {ManagedSize(field)} bytes, clang says {f.Size}");
        }
    }

    [Theory]
    [MemberData(nameof(Records))]
    public void Record_Bitfields_PropertiesTouchExactlyTheirBits(string name)
    {
        var (record, type) = Load(name);
        foreach (var f in record.Fields.Where(f => f.IsBitField))
        {
            var property = type.GetProperty(f.Name) ?? type.GetProperty(f.Name + "_");
            Assert.True(property is not null, $"{record.CName}.{f.Name}: no bitfield property");
            object boxed = Activator.CreateInstance(type)!;
            bool signed = property!.PropertyType == typeof(int) || property.PropertyType == typeof(long)
                || property.PropertyType == typeof(short) || property.PropertyType == typeof(sbyte);
            // All ones: -1 for a signed bitfield, the type's maximum for an unsigned one; the setter masks.
            object ones = signed ? Convert.ChangeType(-1, property.PropertyType) : property.PropertyType.GetField("MaxValue")!.GetValue(null)!;
            property.SetValue(boxed, ones);
            byte[] raw = RawBytes(boxed, (int)record.Size);
            for (long bit = 0; bit < record.Size * 8; bit++)
            {
                bool set = (raw[bit / 8] & (1 << (int)(bit % 8))) != 0;
                bool inField = bit >= f.BitOffset && bit < f.BitOffset + f.BitWidth;
                Assert.True(set == inField, $"{record.CName}.{f.Name} (bits {f.BitOffset}..+{f.BitWidth}): bit {bit} is {(set ? "set" : "clear")}");
            }
            int width = f.BitWidth!.Value;
            ulong mask = width == 64 ? ulong.MaxValue : (1UL << width) - 1;
            object back = property.GetValue(boxed)!;
            Assert.Equal(signed ? -1L : (long)mask, signed ? Convert.ToInt64(back) : (long)Convert.ToUInt64(back));
        }
    }

    [Theory]
    [MemberData(nameof(Records))]
    public void Record_FlexibleArray_MethodPointsAtOffset(string name)
    {
        var (record, type) = Load(name);
        foreach (var f in record.Fields.Where(f => f.IsFlexible || f.Type is ArrayType { Length: 0 }))
        {
            var method = type.GetMethod(f.Name, Type.EmptyTypes);
            Assert.True(method is not null, $"{record.CName}.{f.Name}: no flexible-array method");
            object boxed = Activator.CreateInstance(type)!;
            var handle = GCHandle.Alloc(boxed, GCHandleType.Pinned);
            try
            {
                // The method is an instance method of the boxed copy, which is pinned: the address is stable.
                var self = handle.AddrOfPinnedObject();
                var result = (nint)Pointer.Unbox(method!.Invoke(boxed, null)!);
                Assert.Equal(self + (nint)f.Offset, result);
            }
            finally
            {
                handle.Free();
            }
        }
    }

    private static FieldInfo? Field(Type type, string name)
    {
        const BindingFlags flags = BindingFlags.Public | BindingFlags.Instance;
        return type.GetField(name, flags) ?? type.GetField(name + "_", flags);
    }

    /// <summary>Bytes the field occupies: fixed buffers and inline arrays count their elements.</summary>
    private static long ManagedSize(FieldInfo field)
    {
        var t = field.FieldType;
        if (field.GetCustomAttribute<FixedBufferAttribute>() is { } fixedBuffer)
        {
            // Marshal.SizeOf(char) is 1 (ANSI marshalling); the buffer's real element size is the managed one.
            return fixedBuffer.Length * (long)UnmanagedSize(fixedBuffer.ElementType);
        }
        if (t.IsPointer || t.IsFunctionPointer || t.IsUnmanagedFunctionPointer)
        {
            return IntPtr.Size;
        }
        return UnmanagedSize(t);
    }

    private static int UnmanagedSize(Type t)
        => (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(t).Invoke(null, null)!;

    private static byte[] RawBytes(object boxed, int size)
    {
        var handle = GCHandle.Alloc(boxed, GCHandleType.Pinned);
        try
        {
            var bytes = new byte[size];
            Marshal.Copy(handle.AddrOfPinnedObject(), bytes, 0, size);
            return bytes;
        }
        finally
        {
            handle.Free();
        }
    }
}
