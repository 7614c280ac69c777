// The only hand-written source of the bindings: the assembly-wide marshalling switch API.md asks for.
// Every signature is blittable; with runtime marshalling disabled, a non-blittable one would not compile.
[assembly: System.Runtime.CompilerServices.DisableRuntimeMarshalling]
