// The assembly-wide marshalling switch API.md asks for (the other hand-written sources are in Handwritten/).
// Every signature is blittable; with runtime marshalling disabled, a non-blittable one would not compile.
[assembly: System.Runtime.CompilerServices.DisableRuntimeMarshalling]
