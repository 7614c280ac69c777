using System;
using System.Collections.Generic;
using System.Linq;
using Syscalls.Generator.Facts;

namespace Syscalls.Generator.Emitter;

/// <summary>Maps the facts of one target to a <see cref="TargetModel"/>: names, C# types, bitfield storage, classes.</summary>
internal sealed class TargetModelBuilder
{
    private readonly AbiFacts _facts;
    private readonly EmitInput _input;
    private readonly Platform _platform;
    private readonly Dictionary<string, string> _recordNames = new(StringComparer.Ordinal);
    private readonly TypeMapper _types;
    private readonly List<string> _errors;

    private TargetModelBuilder(AbiFacts facts, EmitInput input, List<string> errors)
    {
        _facts = facts;
        _input = input;
        _errors = errors;
        _platform = Platform.For(facts.Provenance.Os);
        foreach (var r in facts.Records)
        {
            _recordNames[r.Name] = r.Name;
        }
        // API.md: a record asked for by its typedef name (`struct OVERLAPPED`, `struct WSADATA`) takes the typedef
        // name, unless it is also asked for by its own tag (`struct sockaddr_storage` beside `type SOCKADDR_STORAGE`).
        var asked = input.Families.Where(f => f.AppliesTo(facts.Target)).SelectMany(f => f.ItemsFor(facts.Target, facts.Provenance.Os))
            .Where(i => i.Kind == ApiItemKind.Record).Select(i => i.Name).ToList();
        foreach (var name in asked)
        {
            if (facts.FindRecord(name) is null && facts.FindTypedef(name) is { Type: RecordRefType target }
                && _recordNames.ContainsKey(target.Name) && !asked.Contains(target.Name))
            {
                _recordNames[target.Name] = name;
            }
        }
        _types = new TypeMapper(facts, name => _selected.Contains(name) ? _recordNames[name] : null);
    }

    private readonly HashSet<string> _selected = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _empty = new(StringComparer.Ordinal);

    public static TargetModel Build(AbiFacts facts, EmitInput input, List<string> errors) =>
        new TargetModelBuilder(facts, input, errors).Build();

    private TargetModel Build()
    {
        var model = new TargetModel(_facts, _platform);
        var selection = _input.Selection;
        var functions = _facts.Functions.Where(f => selection.Selects(f.Name, f.Family)).ToList();
        SelectRecords(functions);

        foreach (var r in _facts.Records.Where(r => _selected.Contains(r.Name)))
        {
            Try(() => model.Records.Add(BuildRecord(r, model)));
        }
        model.Records.Sort((a, b) => string.CompareOrdinal(a.CsName, b.CsName));

        // Function-pointer typedefs asked for by name on a type line (`type LPFN_ACCEPTEX`): named wrapper structs.
        foreach (var td in FunctionPointerTypedefs())
        {
            Try(() =>
            {
                if (_types.FunctionPointerTypedef((FunctionType)((PointerType)td.Type).Pointee, td.CSpelling, "type " + td.Name) is not CsFunctionPointer fp)
                {
                    throw new EmitterException($"{_facts.Target}: type {td.Name}: a function-pointer typedef did not map to a function pointer");
                }
                model.FunctionPointerTypes.Add(new FunctionPointerTypeModel(td.Name, fp, td.CSpelling) { Doc = td.Doc, File = td.File });
            });
        }
        model.FunctionPointerTypes.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));

        foreach (var c in _facts.Constants.Where(c => selection.Selects(c.Name, c.Family)))
        {
            Try(() =>
            {
                var type = TypeMapper.MacroCastType(c.MacroBody, c.Type) ?? TypeMapper.Primitive(c.Type, false, "const " + c.Name);
                var value = c.Value;
                // The same 64 bits, read as the alias's signedness: (SOCKET)(~0) is nuint.MaxValue, (HANDLE)-1 is -1.
                if (type.Equals(CsType.NInt) && value > long.MaxValue)
                {
                    value -= System.Numerics.BigInteger.One << 64;
                }
                else if (type.Equals(CsType.NUInt) && value.Sign < 0)
                {
                    value += System.Numerics.BigInteger.One << 64;
                }
                model.Constants.Add(new ConstantModel(c.Name, type, value, ClassOf(c.Family), ConstantKind.Macro)
                {
                    Doc = c.Doc,
                    Source = c.MacroBody,
                });
            });
        }
        foreach (var e in _facts.Enums.Where(e => selection.Selects(e.Name, e.Family)))
        {
            foreach (var x in e.Enumerators)
            {
                var type = TypeMapper.EnumeratorType(e, x.Value);
                model.Constants.Add(new ConstantModel(x.Name, type, x.Value, ClassOf(e.Family), ConstantKind.Enumerator)
                {
                    Doc = x.Doc,
                    Source = "enum " + e.Name,
                });
            }
        }
        foreach (var g in _facts.Guids.Where(g => selection.Selects(g.Name, g.Family)))
        {
            model.Guids.Add(new GuidModel(g.Name, g.Value, ClassOf(g.Family)));
        }

        foreach (var f in functions)
        {
            Try(() => model.Functions.Add(BuildFunction(f)));
        }
        AddSyscalls(model);
        foreach (var name in _empty)
        {
            model.Omitted.Add((name, "zero-size record (GNU C empty struct): a C# struct is at least 1 byte"));
        }

        var dup = model.Constants.Select(c => c.Class + "." + c.Name).Concat(model.Guids.Select(g => g.Class + "." + g.Name))
            .GroupBy(n => n, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        foreach (var d in dup)
        {
            _errors.Add($"{_facts.Target}: {d} is defined twice (a macro and an enumerator, or two enums)");
        }
        model.Constants.Sort((a, b) => Compare(a.Class, a.Name, b.Class, b.Name));
        model.Guids.Sort((a, b) => Compare(a.Class, a.Name, b.Class, b.Name));
        model.Functions.Sort((a, b) => Compare(a.Class, a.Name, b.Class, b.Name));
        return model;
    }

    private static int Compare(string c1, string n1, string c2, string n2)
    {
        int c = string.CompareOrdinal(c1, c2);
        return c != 0 ? c : string.CompareOrdinal(n1, n2);
    }

    /// <summary>
    /// The function-pointer typedefs that become named types: those a family of this target lists on a <c>type</c>
    /// line or, when the selection names items (the Roslyn host), those it names.
    /// </summary>
    private IEnumerable<TypedefFact> FunctionPointerTypedefs()
    {
        var listed = new HashSet<string>(_input.Families.Where(f => f.AppliesTo(_facts.Target))
            .SelectMany(f => f.ItemsFor(_facts.Target, _facts.Provenance.Os)).Where(i => i.Kind == ApiItemKind.Type).Select(i => i.Name),
            StringComparer.Ordinal);
        return _facts.Typedefs.Where(td => td.Type is PointerType { Pointee: FunctionType { IsVariadic: false } }
            && (_input.Selection.Names is null ? listed.Contains(td.Name) : _input.Selection.Selects(td.Name, null))
            && (_input.Selection.Families is null || _input.Selection.Selects(td.Name, td.Family)));
    }

    private void Try(Action action)
    {
        try
        {
            action();
        }
        catch (EmitterException e)
        {
            _errors.AddRange(e.Errors);
        }
    }

    /// <summary>The selected records plus every record they, or the selected functions, reach.</summary>
    private void SelectRecords(List<FunctionFact> functions)
    {
        var work = new Stack<string>();
        foreach (var r in _facts.Records)
        {
            if (!TypeMapper.IsGuidRecord(r.Name) && _input.Selection.Selects(r.Name, r.Family))
            {
                work.Push(r.Name);
            }
        }
        void Reach(CType t)
        {
            switch (t)
            {
                case RecordRefType r when !TypeMapper.IsGuidRecord(r.Name) && _facts.Resolve(r) is not null:
                    work.Push(r.Name);
                    break;
                case PointerType p:
                    Reach(p.Pointee);
                    break;
                case ArrayType a:
                    Reach(a.Element);
                    break;
                case FunctionType fn:
                    Reach(fn.Return);
                    fn.Parameters.ToList().ForEach(Reach);
                    break;
            }
        }
        foreach (var f in functions)
        {
            Reach(f.Return);
            f.Parameters.ToList().ForEach(p => Reach(_types.ParameterType(p.Type)));
        }
        foreach (var td in FunctionPointerTypedefs())
        {
            Reach(td.Type);
        }
        if (_platform.Os == "linux" && _input.Selection.Selects("io_uring_setup", "io_uring")
            && _facts.FindRecord("io_uring_params") is not null)
        {
            work.Push("io_uring_params");
        }
        while (work.Count > 0)
        {
            string name = work.Pop();
            // GNU C's empty structs (`struct { } __empty_bufs;` of __DECLARE_FLEX_ARRAY) have size 0; a C# struct
            // is at least one byte, so they are left out, and so are the (data-less) fields of their type.
            if (_facts.FindRecord(name)!.Size == 0)
            {
                _empty.Add(name);
                continue;
            }
            if (_selected.Add(name))
            {
                foreach (var field in _facts.FindRecord(name)!.Fields)
                {
                    Reach(field.Type);
                }
            }
        }
    }

    private RecordModel BuildRecord(RecordFact r, TargetModel target)
    {
        string csName = _recordNames[r.Name];
        var model = new RecordModel(r, csName) { Doc = r.Doc };
        var bitfields = new List<BitfieldMember>();
        foreach (var f in r.Fields)
        {
            if (f.Type.Innermost is RecordRefType inner && f.Type is not PointerType && _empty.Contains(inner.Name))
            {
                target.Omitted.Add(($"{csName}.{f.Name}", $"a field of the zero-size record {inner.Name}"));
                continue;
            }
            string where = $"{r.CName}.{f.Name}";
            string name = Identifiers.Escape(f.Name);
            if (name == csName)
            {
                name += "_"; // CS0542: a member may not be named like its type
            }
            var spell = CSpelling.Parse(f.CSpelling, f.Name);
            MemberModel member;
            if (f.IsBitField)
            {
                var type = _types.Map(f.Type, spell, where) as CsNamed;
                if (type is null || !type.IsInteger)
                {
                    throw new EmitterException($"{_facts.Target}: {where}: a bitfield of type {f.Type} is not supported");
                }
                var bf = new BitfieldMember(name, f.Name, type, f.BitOffset!.Value, f.BitWidth!.Value);
                bitfields.Add(bf);
                member = bf;
            }
            else if (f.Type is ArrayType array)
            {
                member = ArrayMember(r, f, name, array, spell, where);
            }
            else
            {
                member = new FieldMember(name, f.Name, _types.Map(f.Type, spell, where), f.Offset, f.Size);
            }
            model.Members.Add(member with { Doc = f.Doc });
        }
        AssignBitfieldStorage(r, model, bitfields);
        return model;
    }

    private MemberModel ArrayMember(RecordFact r, FieldFact f, string name, ArrayType array, CDecl? spell, string where)
    {
        // Multi-dimensional arrays flatten to one buffer of the product length (C stores them that way).
        CType element = array;
        long length = 1;
        bool flexible = false;
        while (element is ArrayType a)
        {
            if (a.IsFlexible || a.Length == 0)
            {
                flexible = true;
            }
            else
            {
                length *= a.Length!.Value;
            }
            spell = spell?.PeelArray();
            element = a.Element;
        }
        var cs = _types.Map(element, spell, where);
        if (flexible || f.IsFlexible)
        {
            return new FlexMember(name, f.Name, cs, f.Offset);
        }
        if (cs is CsNamed { IsFixedBufferElement: true } scalar)
        {
            return new FixedBufferMember(name, f.Name, scalar, length, f.Offset, f.Size);
        }
        if (cs.Equals(CsType.Void))
        {
            throw new EmitterException($"{_facts.Target}: {where}: an array of void");
        }
        return new InlineArrayMember(name, f.Name, cs, length, f.Offset, f.Size);
    }

    /// <summary>
    /// Gives each bitfield the smallest storage field (1, 2, 4 or 8 bytes, aligned when that still covers its bits,
    /// inside the record) that holds all its bits; bitfields that fit one storage share it.
    /// </summary>
    private void AssignBitfieldStorage(RecordFact r, RecordModel model, List<BitfieldMember> bitfields)
    {
        var storages = new Dictionary<(long, int), string>();
        foreach (var bf in bitfields)
        {
            long first = bf.BitOffset / 8, last = (bf.BitOffset + bf.BitWidth - 1) / 8;
            long span = last - first + 1;
            int size = span <= 1 ? 1 : span <= 2 ? 2 : span <= 4 ? 4 : span <= 8 ? 8 : 0;
            if (size == 0 || bf.BitWidth > 64)
            {
                throw new EmitterException($"{_facts.Target}: {r.CName}.{bf.CName}: a bitfield over more than 8 bytes");
            }
            bool Covers(long at) => at >= 0 && at * 8 <= bf.BitOffset && bf.BitOffset + bf.BitWidth <= (at + size) * 8
                && at + size <= r.Size;
            long offset = Covers(first - first % size) ? first - first % size
                : Covers(first) ? first
                : Covers(r.Size - size) ? r.Size - size
                : throw new EmitterException($"{_facts.Target}: {r.CName}.{bf.CName}: no storage covers its bits");
            if (!storages.TryGetValue((offset, size), out var storage))
            {
                storage = "_bitfield_" + bf.CName;
                storages[(offset, size)] = storage;
            }
            var unsigned = size switch { 1 => CsType.Byte, 2 => CsType.UShort, 4 => CsType.UInt, _ => CsType.ULong };
            int index = model.Members.IndexOf(model.Members.First(m => m.CName == bf.CName));
            model.Members[index] = (BitfieldMember)model.Members[index] with
            {
                StorageName = storage,
                StorageOffset = offset,
                StorageType = unsigned,
            };
        }
    }

    private FunctionModel BuildFunction(FunctionFact f)
    {
        string where = "func " + f.Name;
        var split = CSpelling.SplitPrototype(f.Prototype, f.Name, f.Parameters.Count);
        var ret = _types.Map(f.Return, split is { } s0 ? CSpelling.Parse(s0.Return) : null, where + " return");
        var names = f.Parameters.Select(p => Identifiers.ParameterName(p.Name)).ToList();
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Count)
        {
            names = f.Parameters.Select(p => p.Name).ToList();
        }
        var ps = f.Parameters.Select((p, i) =>
        {
            var type = _types.ParameterType(p.Type);
            // A transparent union's spelling (`__CONST_SOCKADDR_ARG`) names the union, not the pointer passed.
            var spell = split is { } s && type == p.Type ? CSpelling.Parse(s.Parameters[i], p.Name) : null;
            return new ParameterModel(Identifiers.Escape(names[i]), _types.Map(type, spell, where + " parameter " + p.Name));
        }).ToList();
        string lib = LibOf(f.Family);
        var family = FamilyOf(f.Family);
        bool fast = family?.Lists(ApiItemKind.Fast, f.Name, _facts.Target, _facts.Provenance.Os) == true;
        bool setsError = family is null
            || (family.ErrnoFor(_facts.Target, _facts.Provenance.Os) != "none"
                && !family.Lists(ApiItemKind.NoError, f.Name, _facts.Target, _facts.Provenance.Os));
        int maxVariadic = _input.Options.VariadicArguments.TryGetValue(f.Name, out var n) ? n : _input.Options.MaxVariadicArguments;
        var marks = family?.OverloadsOf(f.Name, _facts.Target, _facts.Provenance.Os) ?? [];
        var overload = OverloadBuilder.Build(f, ps, marks, _facts.Target);
        return new FunctionModel(f.Name, Platform.ClassFor(lib, _input.Options.ClassNames), ret, ps)
        {
            EntryPoint = f.Name,
            Library = _platform.DllFor(lib),
            IsVariadic = f.IsVariadic,
            MaxVariadic = f.IsVariadic ? maxVariadic : 0,
            CallConv = f.CallConv == CallConv.Stdcall ? "Stdcall" : null,
            IsFast = fast,
            SetsError = setsError,
            CapturesOnFailure = fast && setsError && family?.ErrnoFor(_facts.Target, _facts.Provenance.Os) == "errno"
                && (ret.Equals(CsType.Int) || ret.Equals(CsType.Long) || ret.Equals(CsType.NInt)),
            Doc = f.Doc,
            Prototype = f.Prototype,
            Page = ReferencePages.For(f.Name, f.File, family, _facts),
            Overload = overload,
        };
    }

    /// <summary><c>SYS_*</c> numbers and the io_uring entry points that have no libc wrapper.</summary>
    private void AddSyscalls(TargetModel model)
    {
        var wanted = new SortedSet<string>(_input.Options.Syscalls, StringComparer.Ordinal);
        foreach (var item in _input.Families.Where(f => f.AppliesTo(_facts.Target)).SelectMany(f => f.ItemsFor(_facts.Target, _facts.Provenance.Os))
                     .Where(i => i.Kind == ApiItemKind.Syscall && _input.Selection.Selects(i.Name, null)))
        {
            wanted.Add(item.Name);
        }
        string cls = Platform.ClassFor("libc", _input.Options.ClassNames);
        if (_platform.Os == "linux")
        {
            foreach (var w in SyscallWrappers.All.Where(w => _input.Selection.Selects(w.Name, "io_uring")))
            {
                if (!_facts.Syscalls.Any(s => s.Name == w.Name))
                {
                    continue; // an old kernel's headers: no io_uring
                }
                wanted.Add(w.Name);
                Try(() => model.Functions.Add(w.Build(_types, cls, _platform.DllFor("libc"))
                    with { Page = ReferencePages.For(w.Name, null, FamilyOf("io_uring"), _facts) }));
            }
        }
        foreach (var name in wanted)
        {
            var fact = _facts.Syscalls.FirstOrDefault(s => s.Name == name);
            if (fact is null)
            {
                _errors.Add($"{_facts.Target}: syscall {name} was asked for, but the target's asm/unistd.h has no __NR_{name}");
                continue;
            }
            model.Constants.Add(new ConstantModel("SYS_" + name, CsType.Long, fact.Number, cls, ConstantKind.Syscall)
            {
                Source = "__NR_" + name,
            });
        }
    }

    private ApiFamily? FamilyOf(string? family) => family is null ? null : _input.Families.FirstOrDefault(x => x.Name == family);

    private string LibOf(string? family) => FamilyOf(family)?.LibFor(_facts.Target, _facts.Provenance.Os) ?? _platform.DefaultLib;

    private string ClassOf(string? family) => Platform.ClassFor(LibOf(family), _input.Options.ClassNames);
}
