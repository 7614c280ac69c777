using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Syscalls.Runtime.Tests.Kqueue;

/// <summary>Reads an assembly's metadata without loading it (an osx-arm64 bindings assembly cannot be loaded into a
/// Linux process, and need not be): struct layouts, field offsets and types, constants, method signatures, and the
/// members another assembly references.</summary>
internal sealed class AssemblyMetadata : IDisposable
{
    private readonly PEReader _pe;

    private AssemblyMetadata(string path)
    {
        Path = path;
        _pe = new PEReader(File.OpenRead(path));
        Reader = _pe.GetMetadataReader();
    }

    public string Path { get; }

    public MetadataReader Reader { get; }

    public static AssemblyMetadata Open(string path) => new(path);

    public void Dispose() => _pe.Dispose();

    /// <summary>The type <paramref name="ns"/>.<paramref name="name"/> (top level), or null.</summary>
    public TypeDefinition? FindType(string ns, string name)
    {
        foreach (TypeDefinitionHandle h in Reader.TypeDefinitions)
        {
            TypeDefinition t = Reader.GetTypeDefinition(h);
            if (t.GetDeclaringType().IsNil && Reader.GetString(t.Name) == name && Reader.GetString(t.Namespace) == ns)
                return t;
        }

        return null;
    }

    /// <summary>Fields of a type: name to (offset from [FieldOffset], or -1; managed type).</summary>
    public Dictionary<string, (int Offset, string Type)> Fields(TypeDefinition t)
    {
        var result = new Dictionary<string, (int, string)>();
        foreach (FieldDefinitionHandle h in t.GetFields())
        {
            FieldDefinition f = Reader.GetFieldDefinition(h);
            result[Reader.GetString(f.Name)] = (f.GetOffset(), f.DecodeSignature(SignatureNames.Instance, null));
        }

        return result;
    }

    /// <summary>Public const fields of a type: name to value (integers only).</summary>
    public Dictionary<string, long> Constants(TypeDefinition t)
    {
        var result = new Dictionary<string, long>();
        foreach (FieldDefinitionHandle h in t.GetFields())
        {
            FieldDefinition f = Reader.GetFieldDefinition(h);
            ConstantHandle c = f.GetDefaultValue();
            if (c.IsNil)
                continue;
            Constant constant = Reader.GetConstant(c);
            BlobReader blob = Reader.GetBlobReader(constant.Value);
            long? value = constant.TypeCode switch
            {
                ConstantTypeCode.SByte => blob.ReadSByte(),
                ConstantTypeCode.Byte => blob.ReadByte(),
                ConstantTypeCode.Int16 => blob.ReadInt16(),
                ConstantTypeCode.UInt16 => blob.ReadUInt16(),
                ConstantTypeCode.Int32 => blob.ReadInt32(),
                ConstantTypeCode.UInt32 => blob.ReadUInt32(),
                ConstantTypeCode.Int64 => blob.ReadInt64(),
                ConstantTypeCode.UInt64 => unchecked((long)blob.ReadUInt64()),
                _ => null,
            };
            if (value is { } v)
                result[Reader.GetString(f.Name)] = v;
        }

        return result;
    }

    /// <summary>Public methods of a type: name to the signatures of its overloads ("int(int,int)").</summary>
    public Dictionary<string, List<string>> Methods(TypeDefinition t)
    {
        var result = new Dictionary<string, List<string>>();
        foreach (MethodDefinitionHandle h in t.GetMethods())
        {
            MethodDefinition m = Reader.GetMethodDefinition(h);
            if ((m.Attributes & System.Reflection.MethodAttributes.Public) != System.Reflection.MethodAttributes.Public)
                continue;
            string name = Reader.GetString(m.Name);
            if (!result.TryGetValue(name, out List<string>? list))
                result[name] = list = new List<string>();
            list.Add(Format(m.DecodeSignature(SignatureNames.Instance, null)));
        }

        return result;
    }

    /// <summary>Signatures of the P/Invoke methods (ImplMap rows, whatever their managed name) declared in namespace
    /// <paramref name="ns"/> (nested types included) that import <paramref name="entryPoint"/>: what the native call
    /// really passes.</summary>
    public List<string> ImportsOf(string ns, string entryPoint)
    {
        var result = new List<string>();
        foreach (MethodDefinitionHandle h in Reader.MethodDefinitions)
        {
            MethodDefinition m = Reader.GetMethodDefinition(h);
            MethodImport import = m.GetImport();
            if (import.Module.IsNil || Reader.GetString(import.Name) != entryPoint)
                continue;
            TypeDefinition owner = Reader.GetTypeDefinition(m.GetDeclaringType());
            while (!owner.GetDeclaringType().IsNil)
                owner = Reader.GetTypeDefinition(owner.GetDeclaringType());
            if (Reader.GetString(owner.Namespace) != ns)
                continue;
            result.Add(Format(m.DecodeSignature(SignatureNames.Instance, null)));
        }

        return result;
    }

    /// <summary>Every member this assembly references in namespace <paramref name="ns"/> of another assembly:
    /// (type, member, "field:TYPE" or "method:SIGNATURE").</summary>
    public List<(string Type, string Member, string Signature)> MemberReferencesInto(string ns)
    {
        var result = new List<(string, string, string)>();
        foreach (MemberReferenceHandle h in Reader.MemberReferences)
        {
            MemberReference m = Reader.GetMemberReference(h);
            if (m.Parent.Kind != HandleKind.TypeReference)
                continue;
            TypeReference parent = Reader.GetTypeReference((TypeReferenceHandle)m.Parent);
            if (Reader.GetString(parent.Namespace) != ns)
                continue;
            string sig = m.GetKind() == MemberReferenceKind.Field
                ? "field:" + m.DecodeFieldSignature(SignatureNames.Instance, null)
                : "method:" + Format(m.DecodeMethodSignature(SignatureNames.Instance, null));
            result.Add((Reader.GetString(parent.Name), Reader.GetString(m.Name), sig));
        }

        return result;
    }

    /// <summary>Names of the types this assembly references in namespace <paramref name="ns"/>.</summary>
    public HashSet<string> TypeReferencesInto(string ns)
        => Reader.TypeReferences.Select(Reader.GetTypeReference)
            .Where(t => Reader.GetString(t.Namespace) == ns)
            .Select(t => Reader.GetString(t.Name))
            .ToHashSet();

    private static string Format(MethodSignature<string> s) => $"{s.ReturnType}({string.Join(",", s.ParameterTypes)})";

    /// <summary>Type names as C# spells them for primitives and pointers, full names for the rest.</summary>
    private sealed class SignatureNames : ISignatureTypeProvider<string, object?>
    {
        public static readonly SignatureNames Instance = new();

        public string GetPrimitiveType(PrimitiveTypeCode typeCode) => typeCode switch
        {
            PrimitiveTypeCode.Boolean => "bool",
            PrimitiveTypeCode.Byte => "byte",
            PrimitiveTypeCode.SByte => "sbyte",
            PrimitiveTypeCode.Char => "char",
            PrimitiveTypeCode.Int16 => "short",
            PrimitiveTypeCode.UInt16 => "ushort",
            PrimitiveTypeCode.Int32 => "int",
            PrimitiveTypeCode.UInt32 => "uint",
            PrimitiveTypeCode.Int64 => "long",
            PrimitiveTypeCode.UInt64 => "ulong",
            PrimitiveTypeCode.IntPtr => "nint",
            PrimitiveTypeCode.UIntPtr => "nuint",
            PrimitiveTypeCode.Single => "float",
            PrimitiveTypeCode.Double => "double",
            PrimitiveTypeCode.Void => "void",
            PrimitiveTypeCode.String => "string",
            PrimitiveTypeCode.Object => "object",
            _ => typeCode.ToString(),
        };

        public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind)
        {
            TypeDefinition t = reader.GetTypeDefinition(handle);
            string name = reader.GetString(t.Name);
            if (!t.GetDeclaringType().IsNil)
                return GetTypeFromDefinition(reader, t.GetDeclaringType(), rawTypeKind) + "/" + name;
            string ns = reader.GetString(t.Namespace);
            return ns.Length > 0 ? ns + "." + name : name;
        }

        public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind)
        {
            TypeReference t = reader.GetTypeReference(handle);
            string ns = reader.GetString(t.Namespace);
            return ns.Length > 0 ? ns + "." + reader.GetString(t.Name) : reader.GetString(t.Name);
        }

        public string GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind)
            => reader.GetTypeSpecification(handle).DecodeSignature(this, genericContext);

        public string GetPointerType(string elementType) => elementType + "*";

        public string GetByReferenceType(string elementType) => "ref " + elementType;

        public string GetSZArrayType(string elementType) => elementType + "[]";

        public string GetArrayType(string elementType, ArrayShape shape) => elementType + "[" + new string(',', shape.Rank - 1) + "]";

        public string GetPinnedType(string elementType) => elementType;

        public string GetModifiedType(string modifier, string unmodifiedType, bool isRequired) => unmodifiedType;

        public string GetGenericInstantiation(string genericType, ImmutableArray<string> typeArguments)
            => genericType + "<" + string.Join(",", typeArguments) + ">";

        public string GetGenericMethodParameter(object? genericContext, int index) => "!!" + index;

        public string GetGenericTypeParameter(object? genericContext, int index) => "!" + index;

        public string GetFunctionPointerType(MethodSignature<string> signature) => "delegate*<" + Format(signature) + ">";
    }
}
