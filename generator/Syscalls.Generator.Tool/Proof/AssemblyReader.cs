using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Numerics;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Syscalls.Generator.Tool.Proof;

/// <summary>
/// Reads what a bindings assembly emitted with System.Reflection.Metadata only: the assembly may be built for
/// another OS or architecture, so it is never loaded. Every explicit-layout struct, every constant of a static
/// class, every P/Invoke.
/// </summary>
public static class AssemblyReader
{
    public static EmittedAssembly Read(string path, int pointerSize = 8)
    {
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        if (!pe.HasMetadata)
        {
            throw new BadImageFormatException($"{path} has no .NET metadata");
        }
        return new Reading(pe.GetMetadataReader(), pe, pointerSize).Run(path);
    }

    private sealed class Reading(MetadataReader md, PEReader pe, int pointerSize)
    {
        private readonly ManagedTypeProvider _types = new(md, pointerSize);
        private readonly IlShapes _il = new(md);
        private readonly List<EmittedRecord> _records = [];
        private readonly List<EmittedConstant> _constants = [];
        private readonly List<EmittedFunction> _functions = [];
        private readonly List<EmittedFunctionPointerType> _functionPointerTypes = [];

        public EmittedAssembly Run(string path)
        {
            foreach (var h in md.TypeDefinitions)
            {
                var td = md.GetTypeDefinition(h);
                string name = md.GetString(td.Name);
                if (name == "<Module>" || name.StartsWith("<", StringComparison.Ordinal))
                {
                    continue;   // compiler-generated holders (<PrivateImplementationDetails>, fixed buffers are nested)
                }
                if (_types.IsValueType(td) && (td.Attributes & TypeAttributes.LayoutMask) == TypeAttributes.ExplicitLayout)
                {
                    ReadRecord(h, td, name);
                }
                else if (_types.IsValueType(td) && ReadFunctionPointerType(td, name) is { } fp)
                {
                    _functionPointerTypes.Add(fp);
                }
                ReadConstants(td, name);
                ReadFunctions(td, name);
            }
            return new EmittedAssembly(path, pointerSize)
            {
                Records = _records.OrderBy(r => r.Name, StringComparer.Ordinal).ToList(),
                Constants = _constants.OrderBy(c => c.Name, StringComparer.Ordinal).ThenBy(c => c.Class, StringComparer.Ordinal).ToList(),
                Functions = _functions.OrderBy(f => f.EntryPoint, StringComparer.Ordinal).ThenBy(f => f.Parameters.Count).ToList(),
                FunctionPointerTypes = _functionPointerTypes.OrderBy(f => f.Name, StringComparer.Ordinal).ToList(),
            };
        }

        /// <summary>A struct whose only instance field is a function pointer named Value: the emitter's form of a C
        /// function-pointer typedef (API.md).</summary>
        private EmittedFunctionPointerType? ReadFunctionPointerType(TypeDefinition td, string name)
        {
            var fields = td.GetFields().Select(md.GetFieldDefinition).Where(f => (f.Attributes & FieldAttributes.Static) == 0).ToList();
            if (fields.Count != 1 || md.GetString(fields[0].Name) != "Value")
            {
                return null;
            }
            var type = fields[0].DecodeSignature(_types, null);
            return type.Return is null ? null : new EmittedFunctionPointerType(name, md.GetString(td.Namespace), type);
        }

        private void ReadRecord(TypeDefinitionHandle h, TypeDefinition td, string name)
        {
            var fields = new List<EmittedField>();
            var storageBits = new Dictionary<FieldDefinitionHandle, int>();
            foreach (var fh in td.GetFields())
            {
                var f = md.GetFieldDefinition(fh);
                if ((f.Attributes & FieldAttributes.Static) != 0)
                {
                    continue;
                }
                var type = f.DecodeSignature(_types, null);
                string fname = md.GetString(f.Name);
                bool isPublic = (f.Attributes & FieldAttributes.FieldAccessMask) == FieldAttributes.Public;
                fields.Add(new EmittedField(fname, f.GetOffset(), type, isPublic));
                storageBits[fh] = type.Size * 8;
            }
            fields.AddRange(FlexibleMembers(td));
            var bitfields = new List<EmittedBitfield>();
            foreach (var ph in td.GetProperties())
            {
                var p = md.GetPropertyDefinition(ph);
                var getter = p.GetAccessors().Getter;
                if (getter.IsNil)
                {
                    continue;
                }
                var m = md.GetMethodDefinition(getter);
                if ((m.Attributes & MethodAttributes.Static) != 0 || m.RelativeVirtualAddress == 0)
                {
                    continue;
                }
                var body = pe.GetMethodBody(m.RelativeVirtualAddress);
                var shape = _il.BitfieldGetter(body, fh => storageBits.TryGetValue(fh, out int bits) ? bits : 64);
                var sig = p.DecodeSignature(_types, null);
                string pname = md.GetString(p.Name);
                // Only a getter that reads a non-public storage field is a bitfield; ref-returning accessors of
                // flattened anonymous members and other helpers are not.
                if (shape is { } s && fields.Any(f => f.Name == s.Field && !f.IsPublic))
                {
                    bitfields.Add(new EmittedBitfield(pname, s.Field, s.Shift, s.Width, sig.ReturnType));
                }
            }
            _records.Add(new EmittedRecord(name, NamespaceOf(td), td.GetLayout().Size) { Fields = fields, Bitfields = bitfields });
        }

        /// <summary>Flexible array members: public parameterless instance methods returning <c>this + N</c> as a pointer.</summary>
        private IEnumerable<EmittedField> FlexibleMembers(TypeDefinition td)
        {
            foreach (var mh in td.GetMethods())
            {
                var m = md.GetMethodDefinition(mh);
                if ((m.Attributes & (MethodAttributes.Static | MethodAttributes.SpecialName)) != 0
                    || (m.Attributes & MethodAttributes.MemberAccessMask) != MethodAttributes.Public || m.RelativeVirtualAddress == 0)
                {
                    continue;
                }
                var sig = m.DecodeSignature(_types, null);
                if (sig.ParameterTypes.Length != 0 || sig.ReturnType.Kind != ManagedKind.Pointer)
                {
                    continue;
                }
                if (_il.PointerOffsetGetter(pe.GetMethodBody(m.RelativeVirtualAddress)) is { } offset)
                {
                    yield return new EmittedField(md.GetString(m.Name), offset, sig.ReturnType, true) { IsFlexible = true };
                }
            }
        }

        private string NamespaceOf(TypeDefinition td)
        {
            while (!td.GetDeclaringType().IsNil)
            {
                td = md.GetTypeDefinition(td.GetDeclaringType());
            }
            return md.GetString(td.Namespace);
        }

        private void ReadConstants(TypeDefinition td, string className)
        {
            string ns = NamespaceOf(td);
            // Constants live on static classes (abstract sealed in metadata).
            const TypeAttributes staticClass = TypeAttributes.Abstract | TypeAttributes.Sealed;
            if ((td.Attributes & staticClass) != staticClass || _types.IsValueType(td))
            {
                return;
            }
            Dictionary<string, Guid>? guids = null;
            foreach (var fh in td.GetFields())
            {
                var f = md.GetFieldDefinition(fh);
                if ((f.Attributes & FieldAttributes.FieldAccessMask) != FieldAttributes.Public)
                {
                    continue;
                }
                string name = md.GetString(f.Name);
                var type = f.DecodeSignature(_types, null);
                if ((f.Attributes & FieldAttributes.Literal) != 0)
                {
                    _constants.Add(new EmittedConstant(name, className, type, ConstantForm.Const) { Value = LiteralValue(f), Namespace = ns });
                }
                else if ((f.Attributes & (FieldAttributes.Static | FieldAttributes.InitOnly)) == (FieldAttributes.Static | FieldAttributes.InitOnly)
                         && type.Kind == ManagedKind.Guid)
                {
                    guids ??= ReadGuidInitializers(td);
                    // GuidValue stays null when the initializer is not a shape the proof reads: reported unverifiable.
                    _constants.Add(new EmittedConstant(name, className, type, ConstantForm.Guid)
                    {
                        Namespace = ns,
                        GuidValue = guids.TryGetValue(name, out var g) ? g : null,
                    });
                }
            }
            foreach (var ph in td.GetProperties())
            {
                var p = md.GetPropertyDefinition(ph);
                var getter = p.GetAccessors().Getter;
                if (getter.IsNil)
                {
                    continue;
                }
                var m = md.GetMethodDefinition(getter);
                const MethodAttributes publicStatic = MethodAttributes.Public | MethodAttributes.Static;
                if ((m.Attributes & publicStatic) != publicStatic || m.RelativeVirtualAddress == 0)
                {
                    continue;
                }
                var type = p.DecodeSignature(_types, null).ReturnType;
                if (!type.IsInteger)
                {
                    continue;
                }
                long? raw = _il.ConstantGetter(pe.GetMethodBody(m.RelativeVirtualAddress));
                if (raw is null)
                {
                    continue;   // a computed property, not a constant
                }
                _constants.Add(new EmittedConstant(md.GetString(p.Name), className, type, ConstantForm.Property)
                {
                    Namespace = ns,
                    Value = Interpret(raw.Value, type),
                });
            }
        }

        private Dictionary<string, Guid> ReadGuidInitializers(TypeDefinition td)
        {
            foreach (var mh in td.GetMethods())
            {
                var m = md.GetMethodDefinition(mh);
                if (md.GetString(m.Name) == ".cctor" && m.RelativeVirtualAddress != 0)
                {
                    return _il.GuidInitializers(pe.GetMethodBody(m.RelativeVirtualAddress));
                }
            }
            return [];
        }

        private void ReadFunctions(TypeDefinition td, string className)
        {
            foreach (var mh in td.GetMethods())
            {
                var m = md.GetMethodDefinition(mh);
                if ((m.Attributes & MethodAttributes.PinvokeImpl) == 0)
                {
                    continue;
                }
                var import = m.GetImport();
                string name = md.GetString(m.Name);
                string entry = import.Name.IsNil ? name : md.GetString(import.Name);
                if (entry.Length == 0)
                {
                    entry = name;
                }
                string library = import.Module.IsNil ? "" : md.GetString(md.GetModuleReference(import.Module).Name);
                var sig = m.DecodeSignature(_types, null);
                var names = new Dictionary<int, string>();
                foreach (var ph in m.GetParameters())
                {
                    var p = md.GetParameter(ph);
                    // LibraryImport renames the inner P/Invoke's parameters __name_native.
                    string pn = md.GetString(p.Name);
                    if (pn.StartsWith("__", StringComparison.Ordinal) && pn.EndsWith("_native", StringComparison.Ordinal) && pn.Length > 9)
                    {
                        pn = pn.Substring(2, pn.Length - 9);
                    }
                    names[p.SequenceNumber] = pn;
                }
                var parameters = sig.ParameterTypes
                    .Select((t, i) => new EmittedParameter(names.TryGetValue(i + 1, out var n) ? n : "_" + (i + 1), t))
                    .ToList();
                // LibraryImport's inner DllImport is a local function named <Outer>g____PInvoke|...: report the outer name.
                if (name.StartsWith("<", StringComparison.Ordinal) && name.IndexOf('>') is int close && close > 1)
                {
                    name = name.Substring(1, close - 1);
                }
                var cc = import.Attributes & MethodImportAttributes.CallingConventionMask;
                _functions.Add(new EmittedFunction(name, entry, library, className, sig.ReturnType)
                {
                    Namespace = NamespaceOf(td),
                    Parameters = parameters,
                    CallingConvention = cc switch
                    {
                        MethodImportAttributes.CallingConventionCDecl => "Cdecl",
                        MethodImportAttributes.CallingConventionStdCall => "StdCall",
                        MethodImportAttributes.CallingConventionThisCall => "ThisCall",
                        MethodImportAttributes.CallingConventionFastCall => "FastCall",
                        _ => "Winapi",
                    },
                });
            }
        }

        private BigInteger? LiteralValue(FieldDefinition f)
        {
            var ch = f.GetDefaultValue();
            if (ch.IsNil)
            {
                return null;
            }
            var c = md.GetConstant(ch);
            var blob = md.GetBlobReader(c.Value);
            return c.TypeCode switch
            {
                ConstantTypeCode.Boolean => blob.ReadBoolean() ? 1 : 0,
                ConstantTypeCode.Char => blob.ReadChar(),
                ConstantTypeCode.SByte => blob.ReadSByte(),
                ConstantTypeCode.Byte => blob.ReadByte(),
                ConstantTypeCode.Int16 => blob.ReadInt16(),
                ConstantTypeCode.UInt16 => blob.ReadUInt16(),
                ConstantTypeCode.Int32 => blob.ReadInt32(),
                ConstantTypeCode.UInt32 => blob.ReadUInt32(),
                ConstantTypeCode.Int64 => blob.ReadInt64(),
                ConstantTypeCode.UInt64 => blob.ReadUInt64(),
                _ => null,
            };
        }

        /// <summary>A raw IL value reinterpreted as the property's declared type (ldc.i4.m1 returned as uint is 2^32-1).</summary>
        private static BigInteger Interpret(long raw, ManagedType type) => (type.Size, type.IsSigned) switch
        {
            (1, true) => (sbyte)raw,
            (1, false) => (byte)raw,
            (2, true) => (short)raw,
            (2, false) => (ushort)raw,
            (4, true) => (int)raw,
            (4, false) => (uint)raw,
            (_, true) => raw,
            _ => (ulong)raw,
        };
    }
}
