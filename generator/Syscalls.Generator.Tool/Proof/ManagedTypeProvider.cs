using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Metadata;

namespace Syscalls.Generator.Tool.Proof;

/// <summary>
/// Decodes metadata signatures into <see cref="ManagedType"/>s. Value types defined in the assembly are sized from
/// their <c>StructLayout</c> (fixed buffers and <c>[InlineArray]</c> structs from their element), resolved lazily
/// because a field may name a struct declared later.
/// </summary>
internal sealed class ManagedTypeProvider(MetadataReader md, int pointerSize)
    : ISignatureTypeProvider<ManagedType, object?>, ICustomAttributeTypeProvider<ManagedType>
{
    private readonly Dictionary<TypeDefinitionHandle, ManagedType> _defs = [];
    private readonly HashSet<TypeDefinitionHandle> _resolving = [];

    public static ManagedType Unknown(string name) => new(name, ManagedKind.Other, 0);

    public ManagedType GetPrimitiveType(PrimitiveTypeCode typeCode) => typeCode switch
    {
        PrimitiveTypeCode.Void => new("void", ManagedKind.Void, 0),
        PrimitiveTypeCode.Boolean => new("bool", ManagedKind.Integer, 1),
        PrimitiveTypeCode.Char => new("char", ManagedKind.Integer, 2),
        PrimitiveTypeCode.SByte => new("sbyte", ManagedKind.Integer, 1, true),
        PrimitiveTypeCode.Byte => new("byte", ManagedKind.Integer, 1),
        PrimitiveTypeCode.Int16 => new("short", ManagedKind.Integer, 2, true),
        PrimitiveTypeCode.UInt16 => new("ushort", ManagedKind.Integer, 2),
        PrimitiveTypeCode.Int32 => new("int", ManagedKind.Integer, 4, true),
        PrimitiveTypeCode.UInt32 => new("uint", ManagedKind.Integer, 4),
        PrimitiveTypeCode.Int64 => new("long", ManagedKind.Integer, 8, true),
        PrimitiveTypeCode.UInt64 => new("ulong", ManagedKind.Integer, 8),
        PrimitiveTypeCode.IntPtr => new("nint", ManagedKind.Integer, pointerSize, true),
        PrimitiveTypeCode.UIntPtr => new("nuint", ManagedKind.Integer, pointerSize),
        PrimitiveTypeCode.Single => new("float", ManagedKind.Float, 4, true),
        PrimitiveTypeCode.Double => new("double", ManagedKind.Float, 8, true),
        _ => Unknown(typeCode.ToString()),
    };

    public ManagedType GetPointerType(ManagedType elementType) =>
        new(elementType.Name + "*", ManagedKind.Pointer, pointerSize) { Element = elementType };

    // ref/out cross the boundary as a pointer.
    public ManagedType GetByReferenceType(ManagedType elementType) => new("ref " + elementType.Name, ManagedKind.Pointer, pointerSize);

    public ManagedType GetFunctionPointerType(MethodSignature<ManagedType> signature) =>
        new($"delegate* unmanaged<{string.Join(", ", [.. signature.ParameterTypes, signature.ReturnType])}>", ManagedKind.Pointer, pointerSize)
        {
            Return = signature.ReturnType,
            Parameters = signature.ParameterTypes,
        };

    public ManagedType GetModifiedType(ManagedType modifier, ManagedType unmodifiedType, bool isRequired) => unmodifiedType;

    public ManagedType GetPinnedType(ManagedType elementType) => elementType;

    public ManagedType GetSZArrayType(ManagedType elementType) => Unknown(elementType.Name + "[]");

    public ManagedType GetArrayType(ManagedType elementType, ArrayShape shape) => Unknown(elementType.Name + "[,]");

    public ManagedType GetGenericInstantiation(ManagedType genericType, ImmutableArray<ManagedType> typeArguments) =>
        Unknown($"{genericType.Name}<{string.Join(", ", typeArguments)}>");

    public ManagedType GetGenericMethodParameter(object? genericContext, int index) => Unknown("!!" + index);

    public ManagedType GetGenericTypeParameter(object? genericContext, int index) => Unknown("!" + index);

    public ManagedType GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) =>
        reader.GetTypeSpecification(handle).DecodeSignature(this, genericContext);

    public ManagedType GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind)
    {
        var tr = reader.GetTypeReference(handle);
        string ns = reader.GetString(tr.Namespace), name = reader.GetString(tr.Name);
        return FromSystemName(ns, name);
    }

    public ManagedType GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => Resolve(handle);

    // Custom attribute arguments: typeof(byte) in [FixedBuffer] is serialized by name.
    public ManagedType GetSystemType() => Unknown("System.Type");

    public ManagedType GetTypeFromSerializedName(string name)
    {
        int dot = name.LastIndexOf('.');
        return dot < 0 ? Unknown(name) : FromSystemName(name.Substring(0, dot), name.Substring(dot + 1));
    }

    public PrimitiveTypeCode GetUnderlyingEnumType(ManagedType type) =>
        throw new BadImageFormatException($"enum-typed attribute argument ({type}) is not expected in bindings");

    public bool IsSystemType(ManagedType type) => type.Name == "System.Type";

    private ManagedType FromSystemName(string ns, string name)
    {
        if (ns == "System")
        {
            var code = name switch
            {
                "Boolean" => PrimitiveTypeCode.Boolean,
                "Char" => PrimitiveTypeCode.Char,
                "SByte" => PrimitiveTypeCode.SByte,
                "Byte" => PrimitiveTypeCode.Byte,
                "Int16" => PrimitiveTypeCode.Int16,
                "UInt16" => PrimitiveTypeCode.UInt16,
                "Int32" => PrimitiveTypeCode.Int32,
                "UInt32" => PrimitiveTypeCode.UInt32,
                "Int64" => PrimitiveTypeCode.Int64,
                "UInt64" => PrimitiveTypeCode.UInt64,
                "IntPtr" => PrimitiveTypeCode.IntPtr,
                "UIntPtr" => PrimitiveTypeCode.UIntPtr,
                "Single" => PrimitiveTypeCode.Single,
                "Double" => PrimitiveTypeCode.Double,
                _ => (PrimitiveTypeCode)0,
            };
            if (code != 0)
            {
                return GetPrimitiveType(code);
            }
            if (name == "Guid")
            {
                return new("Guid", ManagedKind.Guid, 16);
            }
        }
        return Unknown(ns.Length == 0 ? name : ns + "." + name);
    }

    /// <summary>A value type of this assembly with its ABI size.</summary>
    public ManagedType Resolve(TypeDefinitionHandle handle)
    {
        if (_defs.TryGetValue(handle, out var known))
        {
            return known;
        }
        var td = md.GetTypeDefinition(handle);
        string name = md.GetString(td.Name);
        if (!_resolving.Add(handle))
        {
            return Unknown(name);
        }
        try
        {
            var type = Describe(td, name);
            _defs[handle] = type;
            return type;
        }
        finally
        {
            _resolving.Remove(handle);
        }
    }

    private ManagedType Describe(TypeDefinition td, string name)
    {
        if (!IsValueType(td))
        {
            return Unknown(name);
        }
        var instance = new List<FieldDefinition>();
        foreach (var fh in td.GetFields())
        {
            var f = md.GetFieldDefinition(fh);
            if ((f.Attributes & FieldAttributes.Static) == 0)
            {
                instance.Add(f);
            }
        }
        int layoutSize = td.GetLayout().Size;
        if (FindAttribute(td.GetCustomAttributes(), "System.Runtime.CompilerServices", "InlineArrayAttribute") is { } inline
            && instance.Count == 1)
        {
            int length = (int)inline.DecodeValue(this).FixedArguments[0].Value!;
            var element = instance[0].DecodeSignature(this, null);
            return new(name, ManagedKind.InlineArray, element.Size * length) { Element = element, Length = length };
        }
        // C# `fixed T name[N]` compiles to a nested `<name>e__FixedBuffer` struct of Size = N * sizeof(T).
        if (name.EndsWith("e__FixedBuffer", StringComparison.Ordinal) && instance.Count == 1)
        {
            var element = instance[0].DecodeSignature(this, null);
            return new(name, ManagedKind.FixedBuffer, layoutSize)
            {
                Element = element,
                Length = element.Size == 0 ? 0 : layoutSize / element.Size,
            };
        }
        if (layoutSize > 0)
        {
            return new(name, ManagedKind.Record, layoutSize);
        }
        // A sequential struct without an explicit size: only its single field can tell (wrapper structs).
        return instance.Count == 1 ? instance[0].DecodeSignature(this, null) with { Name = name } : Unknown(name);
    }

    public bool IsValueType(TypeDefinition td)
    {
        if (td.BaseType.IsNil || td.BaseType.Kind != HandleKind.TypeReference)
        {
            return false;
        }
        var baseRef = md.GetTypeReference((TypeReferenceHandle)td.BaseType);
        return md.GetString(baseRef.Namespace) == "System" && md.GetString(baseRef.Name) == "ValueType";
    }

    /// <summary>The first attribute of the given type among <paramref name="attributes"/>.</summary>
    public CustomAttribute? FindAttribute(CustomAttributeHandleCollection attributes, string ns, string name)
    {
        foreach (var h in attributes)
        {
            var ca = md.GetCustomAttribute(h);
            EntityHandle type = ca.Constructor.Kind switch
            {
                HandleKind.MemberReference => md.GetMemberReference((MemberReferenceHandle)ca.Constructor).Parent,
                HandleKind.MethodDefinition => md.GetMethodDefinition((MethodDefinitionHandle)ca.Constructor).GetDeclaringType(),
                _ => default,
            };
            if (type.Kind == HandleKind.TypeReference)
            {
                var tr = md.GetTypeReference((TypeReferenceHandle)type);
                if (md.GetString(tr.Namespace) == ns && md.GetString(tr.Name) == name)
                {
                    return ca;
                }
            }
            else if (type.Kind == HandleKind.TypeDefinition)
            {
                var td = md.GetTypeDefinition((TypeDefinitionHandle)type);
                if (md.GetString(td.Namespace) == ns && md.GetString(td.Name) == name)
                {
                    return ca;
                }
            }
        }
        return null;
    }
}
