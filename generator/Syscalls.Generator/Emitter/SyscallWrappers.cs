using System.Collections.Generic;
using System.Linq;
using Syscalls.Generator.Facts;

namespace Syscalls.Generator.Emitter;

/// <summary>
/// Entry points the kernel has but libc does not wrap (io_uring): no header declares them, so their prototypes live
/// here, written as facts types plus C spellings, and they are called through <c>syscall(2)</c> with the target's
/// <c>__NR_</c> number. They return -1 and set errno on failure, like a libc wrapper.
/// </summary>
internal sealed record SyscallWrappers(string Name, string Return, (string Name, string Type, string C)[] Parameters, string Doc)
{
    public static readonly IReadOnlyList<SyscallWrappers> All =
    [
        new("io_uring_setup", "i32", [("entries", "u32", "unsigned int"), ("p", "*struct:io_uring_params", "struct io_uring_params *")],
            "Sets up an io_uring instance with at least entries submission queue entries; returns the ring fd."),
        new("io_uring_enter", "i32",
            [("fd", "i32", "int"), ("to_submit", "u32", "unsigned int"), ("min_complete", "u32", "unsigned int"),
             ("flags", "u32", "unsigned int"), ("sig", "*void", "void *"), ("sigsz", "u64", "size_t")],
            "Submits new I/O and/or waits for completions on the ring fd."),
        new("io_uring_register", "i32",
            [("fd", "i32", "int"), ("opcode", "u32", "unsigned int"), ("arg", "*void", "void *"), ("nr_args", "u32", "unsigned int")],
            "Registers files, buffers or other resources with the ring fd."),
    ];

    public FunctionModel Build(TypeMapper types, string cls, string library)
    {
        var ps = Parameters.Select(p =>
        {
            var type = CType.Parse(p.Type);
            if (type.Innermost is RecordRefType r && types.Facts.Resolve(r) is null)
            {
                throw new EmitterException($"{types.Facts.Target}: {Name} needs {r}, which the facts do not define");
            }
            return new ParameterModel(p.Name, types.Map(type, CSpelling.Parse(p.C), Name + " parameter " + p.Name));
        }).ToList();
        return new FunctionModel(Name, cls, types.Map(CType.Parse(Return), null, Name + " return"), ps)
        {
            Kind = FunctionKind.Syscall,
            EntryPoint = "syscall",
            Library = library,
            SyscallConstant = "SYS_" + Name,
            Doc = Doc,
            Prototype = $"int {Name}({string.Join(", ", Parameters.Select(p => p.C + (p.C.EndsWith("*") ? "" : " ") + p.Name))})",
        };
    }
}
