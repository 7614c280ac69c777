using System.Globalization;
using System.Linq;

namespace Syscalls.Generator.Emitter;

/// <summary>
/// Prints the records of one OS with the layout of one target: explicit layout, every offset from the facts,
/// anonymous members flattened onto their parent, bitfields as properties, fixed buffers, [InlineArray] helpers.
/// </summary>
internal static class RecordWriter
{
    public static string Write(OsModel os, TargetModel layout, Emission e)
    {
        var w = new CodeWriter().FileHeader(e.Origin(layout),
            "System.Runtime.CompilerServices", "System.Runtime.InteropServices", "System.Runtime.Versioning");
        w.Line("namespace " + e.Namespace(os) + ";").Line();
        foreach (var r in layout.Records)
        {
            WriteRecord(w, os, r, e);
            w.Line();
        }
        foreach (var f in layout.FunctionPointerTypes)
        {
            WriteFunctionPointerType(w, os, f, e);
            w.Line();
        }
        foreach (var a in layout.InlineArrays)
        {
            w.Doc($"{a.Length} elements of {a.Element.Code}: the C array type of fields such as {a.CName}.");
            w.Line($"[SupportedOSPlatform(\"{os.Platform.PlatformName}\")]");
            w.Line($"[InlineArray({a.Length})]");
            w.Open($"{e.Visibility} unsafe struct {a.TypeName}");
            w.Line($"public {a.Element.Code} e0;");
            w.Close().Line();
        }
        return w.ToString();
    }

    private static void WriteRecord(CodeWriter w, OsModel os, RecordModel r, Emission e)
    {
        var f = r.Fact;
        string origin = f.IsUnnamed
            ? $"An unnamed {(f.IsUnion ? "union" : "struct")} of C (<c>{Identifiers.Xml(f.Name)}</c> is a synthesized name)"
            : $"<c>{Identifiers.Xml(f.CName)}</c>";
        w.Doc(r.Doc, origin + (f.File is null ? "" : $" from <c>{Identifiers.Xml(f.File)}</c>") + ".");
        if (f.IsPacked)
        {
            w.Line("// Packed in C (__attribute__((packed)) or #pragma pack): members may sit at unaligned offsets.");
        }
        w.Line($"[SupportedOSPlatform(\"{os.Platform.PlatformName}\")]");
        string pack = f.Align is 1 or 2 or 4 or 8 or 16 or 32 or 64 or 128 ? $", Pack = {f.Align}" : "";
        w.Line($"[StructLayout(LayoutKind.Explicit, Size = {f.Size}{pack})]");
        w.Open($"{e.Visibility} unsafe partial struct {r.CsName}");
        var storages = r.Members.OfType<BitfieldMember>().GroupBy(b => b.StorageName).Select(g => g.First());
        foreach (var s in storages)
        {
            w.Line($"[FieldOffset({s.StorageOffset})] private {s.StorageType.Code} {s.StorageName};");
        }
        foreach (var m in r.Members)
        {
            WriteMember(w, m);
        }
        w.Close();
    }

    private static void WriteFunctionPointerType(CodeWriter w, OsModel os, FunctionPointerTypeModel f, Emission e)
    {
        w.Doc(f.Doc ?? $"The C function-pointer type {f.Name}: the pointer in <see cref=\"Value\"/>.",
            $"<c>typedef {Identifiers.Xml(f.CSpelling)}</c>" + (f.File is null ? "" : $" from <c>{Identifiers.Xml(f.File)}</c>")
            + ". C# cannot name a function-pointer type, so this one-field struct (the size of a pointer) does.");
        w.Line($"[SupportedOSPlatform(\"{os.Platform.PlatformName}\")]");
        w.Line("[StructLayout(LayoutKind.Sequential)]");
        w.Open($"{e.Visibility} readonly unsafe partial struct {f.Name}");
        w.Line("/// <summary>The function's address; call it as <c>Value(...)</c>.</summary>");
        w.Line($"public readonly {f.Pointer.Code} Value;");
        w.Line();
        w.Line("/// <summary>Wraps an address obtained at run time (for instance from WSAIoctl's SIO_GET_EXTENSION_FUNCTION_POINTER).</summary>");
        w.Line($"public {f.Name}(nint address) => Value = ({f.Pointer.Code})address;");
        w.Line();
        w.Line("/// <summary>Whether no function is held.</summary>");
        w.Line("public bool IsNull => Value == null;");
        w.Close();
    }

    private static void WriteMember(CodeWriter w, MemberModel m)
    {
        switch (m)
        {
            case FieldMember x:
                w.Doc(x.Doc).Line($"[FieldOffset({x.Offset})] public {x.Type.Code} {x.Name};");
                break;
            case FixedBufferMember x:
                w.Doc(x.Doc).Line($"[FieldOffset({x.Offset})] public fixed {x.Element.Code} {x.Name}[{x.Length}];");
                break;
            case InlineArrayMember x:
                w.Doc(x.Doc).Line($"[FieldOffset({x.Offset})] public {x.TypeName} {x.Name};");
                break;
            case FlexMember x:
                w.Doc(x.Doc ?? $"The flexible array member {x.CName}: a pointer to its first element.",
                    "Valid only while this struct lives in native or pinned memory followed by the array's elements.");
                w.Line($"public {x.Element.Code}* {x.Name}() => ({x.Element.Code}*)((byte*)Unsafe.AsPointer(ref this) + {x.Offset});");
                break;
            case BitfieldMember x:
                WriteBitfield(w, x);
                break;
        }
    }

    private static void WriteBitfield(CodeWriter w, BitfieldMember x)
    {
        string mask = "0x" + (x.BitWidth == 64 ? ulong.MaxValue : (1UL << x.BitWidth) - 1).ToString("X", CultureInfo.InvariantCulture) + "UL";
        string t = x.Type.Code, s = x.StorageName, st = x.StorageType.Code;
        int shift = x.Shift;
        string get = x.Type.IsSignedInteger
            ? $"unchecked(({t})((long)((ulong){s} << {64 - shift - x.BitWidth}) >> {64 - x.BitWidth}))"
            : $"unchecked(({t})(((ulong){s} >> {shift}) & {mask}))";
        string set = $"{s} = unchecked(({st})(((ulong){s} & ~({mask} << {shift})) | (((ulong)value & {mask}) << {shift})))";
        w.Doc(x.Doc, $"Bitfield <c>{x.CName} : {x.BitWidth}</c> at bit {x.BitOffset}.");
        w.Open($"public {t} {x.Name}");
        w.Line($"readonly get => {get};");
        w.Line($"set => {set};");
        w.Close();
    }
}
