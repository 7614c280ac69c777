using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Numerics;

namespace Syscalls.Generator.Facts;

/// <summary>
/// Parses a facts file (headers/FORMAT.md). Strict: an unknown kind or key, a missing key, a duplicate name or a
/// field of a record that is not there is a <see cref="FactsFormatException"/> naming path and line. Line order is
/// not checked (the writer's order is a presentation choice), so hand-written test inputs may be in any order.
/// </summary>
public static class FactsReader
{
    /// <summary>Reads a facts file from disk (command-line tools; the Roslyn host passes file contents to <see cref="Read"/>).</summary>
#pragma warning disable RS1035 // File IO: never called from the analyzer, which reads AdditionalText instead.
    public static AbiFacts ReadFile(string path) => Read(File.ReadAllText(path), path);
#pragma warning restore RS1035

    public static AbiFacts Read(string text, string path = "<facts>")
    {
        var state = new State(path);
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r');
            if (line.Trim().Length == 0 || line.TrimStart().StartsWith("#", StringComparison.Ordinal))
            {
                continue;
            }
            state.LineNo = i + 1;
            try
            {
                state.Parse(LineSyntax.Split(line));
            }
            catch (FormatException e)
            {
                throw new FactsFormatException(path, i + 1, e.Message);
            }
        }
        return state.Build();
    }

    private sealed class State(string path)
    {
        private readonly Dictionary<string, string[]> _provenance = new(StringComparer.Ordinal);
        private readonly List<string> _packages = [];
        private readonly List<(RecordFact Fact, int Line)> _records = [];
        private readonly Dictionary<string, List<FieldFact>> _fields = new(StringComparer.Ordinal);
        private readonly List<(EnumFact Fact, int Line)> _enums = [];
        private readonly Dictionary<string, List<EnumeratorFact>> _enumerators = new(StringComparer.Ordinal);
        private readonly List<TypedefFact> _typedefs = [];
        private readonly List<FunctionFact> _functions = [];
        private readonly List<ConstantFact> _constants = [];
        private readonly List<GuidFact> _guids = [];
        private readonly List<SyscallFact> _syscalls = [];
        private readonly Dictionary<string, (string Text, int Line)> _docs = new(StringComparer.Ordinal);
        private readonly Dictionary<string, HashSet<string>> _names = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _parentLines = new(StringComparer.Ordinal);

        public int LineNo { get; set; }

        public void Parse(List<LineSyntax.Token> tokens)
        {
            string kind = tokens[0].Text;
            if (kind.StartsWith("@", StringComparison.Ordinal))
            {
                ParseProvenance(kind, tokens);
                return;
            }
            if (tokens.Count < 2)
            {
                throw new FormatException($"'{kind}' needs a name");
            }
            string name = tokens[1].Text;
            if (kind == "doc")
            {
                if (tokens.Count != 3 || name.IndexOf(':') <= 0)
                {
                    throw new FormatException("expected: doc KIND:NAME \"text\"");
                }
                if (_docs.ContainsKey(name))
                {
                    throw new FormatException($"second doc for {name}");
                }
                _docs[name] = (tokens[2].Text, LineNo);
                return;
            }
            var keys = new Keys(tokens);
            string dupKind = kind is "struct" or "union" ? "record" : kind;
            if (!(_names.TryGetValue(dupKind, out var seen) ? seen : _names[dupKind] = new HashSet<string>(StringComparer.Ordinal)).Add(name))
            {
                throw new FormatException($"{kind} {name} is listed twice");
            }
            switch (kind)
            {
                case "struct" or "union":
                    _records.Add((new RecordFact(kind == "union" ? RecordKind.Union : RecordKind.Struct, name, keys.Long("size"), keys.Long("align"))
                    {
                        IsPacked = keys.Flag("packed"),
                        IsUnnamed = keys.Flag("unnamed"),
                        Family = keys.Optional("family"),
                        File = keys.Optional("file"),
                    }, LineNo));
                    break;
                case "field":
                {
                    var (parent, member) = SplitQualified(name);
                    var via = keys.Optional("via");
                    long? bitOffset = keys.Has("bitoffset") ? keys.Long("bitoffset") : null;
                    int? bitWidth = keys.Has("bitwidth") ? (int)keys.Long("bitwidth") : null;
                    if ((bitOffset is null) != (bitWidth is null))
                    {
                        throw new FormatException("bitoffset and bitwidth go together");
                    }
                    Child(_fields, parent).Add(new FieldFact(member, keys.Long("offset"), keys.Long("size"), keys.Type("type"), keys.Required("c"))
                    {
                        BitOffset = bitOffset,
                        BitWidth = bitWidth,
                        Via = via is null ? [] : via.Split(','),
                        IsFlexible = keys.Flag("flex"),
                    });
                    break;
                }
                case "enum":
                    _enums.Add((new EnumFact(name, keys.Primitive("underlying"))
                    {
                        Family = keys.Optional("family"),
                        File = keys.Optional("file"),
                    }, LineNo));
                    break;
                case "enumerator":
                {
                    var (parent, member) = SplitQualified(name);
                    Child(_enumerators, parent).Add(new EnumeratorFact(member, keys.Integer("value")));
                    break;
                }
                case "typedef":
                    _typedefs.Add(new TypedefFact(name, keys.Type("type"), keys.Required("c"))
                    {
                        Family = keys.Optional("family"),
                        File = keys.Optional("file"),
                    });
                    break;
                case "func":
                    _functions.Add(new FunctionFact(name, keys.Type("ret"), ParseParams(keys.Optional("params")), ParseCallConv(keys.Required("cc")), keys.Required("c"))
                    {
                        IsVariadic = keys.Flag("variadic"),
                        Family = keys.Optional("family"),
                        File = keys.Optional("file"),
                    });
                    break;
                case "const":
                {
                    // A pointer constant's value is an address: the pointer-sized unsigned integer (all targets are 64-bit).
                    var declared = keys.Type("type");
                    var type = declared is PointerType ? CType.U64 : keys.Primitive("type");
                    _constants.Add(new ConstantFact(name, keys.Integer("value"), type, keys.Required("c"))
                    {
                        PointerType = declared as PointerType,
                        Family = keys.Optional("family"),
                        File = keys.Optional("file"),
                    });
                    break;
                }
                case "guid":
                    if (!Guid.TryParseExact(keys.Required("value"), "D", out var guid))
                    {
                        throw new FormatException($"bad guid '{keys.Required("value")}'");
                    }
                    _guids.Add(new GuidFact(name, guid) { Family = keys.Optional("family"), File = keys.Optional("file") });
                    break;
                case "syscall":
                    _syscalls.Add(new SyscallFact(name, keys.Long("number")));
                    break;
                default:
                    throw new FormatException($"unknown fact kind '{kind}'");
            }
            keys.EnsureAllUsed(kind);
        }

        private List<T> Child<T>(Dictionary<string, List<T>> map, string parent)
        {
            if (!map.TryGetValue(parent, out var list))
            {
                map[parent] = list = [];
                _parentLines[parent] = LineNo;
            }
            return list;
        }

        private void ParseProvenance(string key, List<LineSyntax.Token> tokens)
        {
            var values = tokens.Skip(1).Select(t => t.Text).ToArray();
            if (key == "@package")
            {
                _packages.Add(string.Join(" ", values));
                return;
            }
            if (key is not ("@format" or "@target" or "@triple" or "@os" or "@arch" or "@kernel" or "@libclang" or "@families"))
            {
                throw new FormatException($"unknown provenance key '{key}'");
            }
            if (_provenance.ContainsKey(key))
            {
                throw new FormatException($"{key} is given twice");
            }
            _provenance[key] = values;
        }

        public AbiFacts Build()
        {
            string One(string key)
            {
                if (!_provenance.TryGetValue(key, out var v) || v.Length != 1)
                {
                    throw new FactsFormatException(path, 1, $"provenance needs exactly one value for {key}");
                }
                return v[0];
            }
            int format = int.Parse(One("@format"), CultureInfo.InvariantCulture);
            if (format != Provenance.CurrentFormat)
            {
                throw new FactsFormatException(path, 1, $"unsupported @format {format} (this reader knows {Provenance.CurrentFormat})");
            }
            _provenance.TryGetValue("@libclang", out var clang);
            _provenance.TryGetValue("@families", out var families);
            var provenance = new Provenance(One("@target"), One("@triple"), One("@os"), One("@arch"))
            {
                Format = format,
                Kernel = _provenance.ContainsKey("@kernel") ? One("@kernel") : null,
                Packages = _packages,
                LibclangVersion = clang?.FirstOrDefault(),
                LibclangDescription = clang?.Length > 1 ? clang[1] : null,
                Families = families ?? [],
            };

            var records = _records.Select(r => r.Fact with
            {
                Doc = TakeDoc((r.Fact.IsUnion ? "union:" : "struct:") + r.Fact.Name),
                Fields = _fields.TryGetValue(r.Fact.Name, out var fs)
                    ? fs.Select(f => f with { Doc = TakeDoc("field:" + r.Fact.Name + "." + f.Name) }).ToList()
                    : [],
            }).ToList();
            CheckOrphans(_fields.Keys, records.Select(r => r.Name), "field");
            var enums = _enums.Select(e => e.Fact with
            {
                Doc = TakeDoc("enum:" + e.Fact.Name),
                Enumerators = _enumerators.TryGetValue(e.Fact.Name, out var xs)
                    ? xs.Select(x => x with { Doc = TakeDoc("enumerator:" + e.Fact.Name + "." + x.Name) }).ToList()
                    : [],
            }).ToList();
            CheckOrphans(_enumerators.Keys, enums.Select(e => e.Name), "enumerator");
            var facts = new AbiFacts(provenance)
            {
                Records = records,
                Enums = enums,
                Typedefs = _typedefs.Select(t => t with { Doc = TakeDoc("typedef:" + t.Name) }).ToList(),
                Functions = _functions.Select(f => f with { Doc = TakeDoc("func:" + f.Name) }).ToList(),
                Constants = _constants.Select(c => c with { Doc = TakeDoc("const:" + c.Name) }).ToList(),
                Guids = _guids,
                Syscalls = _syscalls,
            };
            foreach (var doc in _docs.OrderBy(d => d.Value.Line))
            {
                throw new FactsFormatException(path, doc.Value.Line, $"doc for {doc.Key}, which is not a fact of this file");
            }
            return facts;
        }

        private void CheckOrphans(IEnumerable<string> parents, IEnumerable<string> known, string kind)
        {
            var set = new HashSet<string>(known, StringComparer.Ordinal);
            foreach (var parent in parents.Where(p => !set.Contains(p)).OrderBy(p => _parentLines[p]))
            {
                throw new FactsFormatException(path, _parentLines[parent], $"{kind} of {parent}, which has no {(kind == "field" ? "struct/union" : "enum")} line");
            }
        }

        private string? TakeDoc(string key)
        {
            if (!_docs.TryGetValue(key, out var doc))
            {
                return null;
            }
            _docs.Remove(key);
            return doc.Text;
        }

        private static (string Parent, string Member) SplitQualified(string name)
        {
            int dot = name.LastIndexOf('.');
            if (dot <= 0 || dot == name.Length - 1)
            {
                throw new FormatException($"expected PARENT.NAME, got '{name}'");
            }
            return (name.Substring(0, dot), name.Substring(dot + 1));
        }

        private static IReadOnlyList<ParameterFact> ParseParams(string? text)
        {
            var list = new List<ParameterFact>();
            if (string.IsNullOrEmpty(text))
            {
                return list;
            }
            // Commas inside fn(...) belong to the nested type.
            int depth = 0, start = 0;
            for (int i = 0; i <= text!.Length; i++)
            {
                if (i < text.Length && text[i] == '(')
                {
                    depth++;
                }
                else if (i < text.Length && text[i] == ')')
                {
                    depth--;
                }
                else if (i == text.Length || (text[i] == ',' && depth == 0))
                {
                    string part = text.Substring(start, i - start);
                    int colon = part.IndexOf(':');
                    if (colon <= 0)
                    {
                        throw new FormatException($"parameter '{part}' is not NAME:TYPE");
                    }
                    list.Add(new ParameterFact(part.Substring(0, colon), CType.Parse(part.Substring(colon + 1))));
                    start = i + 1;
                }
            }
            return list;
        }

        private static CallConv ParseCallConv(string cc) => cc switch
        {
            "c" => CallConv.C,
            "stdcall" => CallConv.Stdcall,
            "win64" => CallConv.Win64,
            _ => throw new FormatException($"unknown calling convention '{cc}'"),
        };
    }

    /// <summary>The key=value and flag tokens of one fact line, each consumed at most once.</summary>
    private sealed class Keys
    {
        private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
        private readonly HashSet<string> _flags = new(StringComparer.Ordinal);
        private readonly HashSet<string> _used = new(StringComparer.Ordinal);

        public Keys(List<LineSyntax.Token> tokens)
        {
            foreach (var token in tokens.Skip(2))
            {
                if (token.TrySplitKey(out var key, out var value))
                {
                    if (_values.ContainsKey(key))
                    {
                        throw new FormatException($"key '{key}' is given twice");
                    }
                    _values[key] = value;
                }
                else if (token.QuotedFrom >= 0 || !_flags.Add(token.Text))
                {
                    throw new FormatException($"unexpected token '{token.Text}'");
                }
            }
        }

        public bool Has(string key) => _values.ContainsKey(key);

        public string? Optional(string key)
        {
            _used.Add(key);
            return _values.TryGetValue(key, out var v) ? v : null;
        }

        public string Required(string key) => Optional(key) ?? throw new FormatException($"missing key '{key}'");

        public bool Flag(string flag)
        {
            _used.Add(flag);
            return _flags.Contains(flag);
        }

        public long Long(string key) =>
            long.TryParse(Required(key), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v)
                ? v : throw new FormatException($"{key}={Required(key)} is not an integer");

        public BigInteger Integer(string key) =>
            BigInteger.TryParse(Required(key), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v)
                ? v : throw new FormatException($"{key}={Required(key)} is not an integer");

        public CType Type(string key) => CType.Parse(Required(key));

        public PrimitiveType Primitive(string key) =>
            Type(key) as PrimitiveType is { IsInteger: true } p ? p : throw new FormatException($"{key}={Required(key)} is not an integer type");

        public void EnsureAllUsed(string kind)
        {
            foreach (var key in _values.Keys.Concat(_flags).Where(k => !_used.Contains(k)))
            {
                throw new FormatException($"unknown key '{key}' for {kind}");
            }
        }
    }
}
