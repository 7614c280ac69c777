using System;
using System.Collections.Generic;
using System.Linq;

namespace Syscalls.Generator.Tool.Scanner;

/// <summary>
/// A failure the user must fix: bad input, a header clang rejects, a macro that cannot be evaluated.
/// Each entry of <see cref="Problems"/> names file, line and symbol. <see cref="ExitCode"/> is what the tool exits with.
/// </summary>
internal sealed class ScanException : Exception
{
    public const int InputError = 1;
    public const int Usage = 2;
    public const int PinGone = 3;

    public ScanException(string problem, int exitCode = InputError)
        : this([problem], exitCode)
    {
    }

    public ScanException(IReadOnlyList<string> problems, int exitCode = InputError)
        : base(string.Join("\n", problems))
    {
        Problems = problems;
        ExitCode = exitCode;
    }

    public IReadOnlyList<string> Problems { get; }
    public int ExitCode { get; }

    /// <summary>Throws one exception holding every problem, if there are any.</summary>
    public static void ThrowIfAny(IEnumerable<string> problems)
    {
        var list = problems.Distinct(StringComparer.Ordinal).ToList();
        if (list.Count > 0)
        {
            throw new ScanException(list);
        }
    }
}
