using System.Runtime.CompilerServices;

// The emitter's tests check its internal pieces (C spellings, type mapping) directly.
[assembly: InternalsVisibleTo("Syscalls.Generator.Tests")]
