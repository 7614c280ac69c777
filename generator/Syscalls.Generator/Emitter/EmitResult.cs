using System;
using System.Collections.Generic;

namespace Syscalls.Generator.Emitter;

/// <summary>One generated source file; <see cref="Name"/> is a file name (also a valid Roslyn hint name).</summary>
public sealed record EmittedFile(string Name, string Text);

/// <summary>What one target contributed, counted in C terms (functions, records, constants).</summary>
public sealed record EmitStats(string Target, int Functions, int Methods, int Types, int Constants);

/// <summary>The output of <see cref="BindingEmitter.Emit"/>.</summary>
public sealed record EmitResult(IReadOnlyList<EmittedFile> Files)
{
    /// <summary>
    /// The emission manifest: every emitted struct with size and field offsets/sizes/C# types, every constant with
    /// value and C# type, every function with C# signature and entry point (format in Emitter/README.md).
    /// </summary>
    public string Manifest { get; init; } = "";

    /// <summary>The public API as sorted text without layout or bodies: equal for every RID by construction.</summary>
    public string ApiSurface { get; init; } = "";

    /// <summary>Per OS, the counts of the target whose layouts were emitted.</summary>
    public IReadOnlyList<EmitStats> Stats { get; init; } = [];
}

/// <summary>
/// The facts cannot be emitted as one public API: architectures of one OS disagree structurally, or a type has no C#
/// form. <see cref="Errors"/> lists every problem found, not just the first.
/// </summary>
public sealed class EmitterException : Exception
{
    public EmitterException(string message)
        : base(message) => Errors = [message];

    public EmitterException(IReadOnlyList<string> errors)
        : base(errors.Count == 1 ? errors[0] : errors.Count + " emitter errors:\n  " + string.Join("\n  ", errors)) =>
        Errors = errors;

    public IReadOnlyList<string> Errors { get; }
}
