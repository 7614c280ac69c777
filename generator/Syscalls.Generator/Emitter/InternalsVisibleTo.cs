using System.Runtime.CompilerServices;

// The emitter's tests check its internal pieces (C spellings, type mapping) directly.
[assembly: InternalsVisibleTo("Syscalls.Generator.Tests")]

// The proof tool reads C spellings the way the emitter does (a function-pointer typedef's parameters).
[assembly: InternalsVisibleTo("Syscalls.Generator.Tool")]
[assembly: InternalsVisibleTo("Syscalls.Bindings.Tests")] // compiles the proof tool's sources in
