using System;

namespace Syscalls.Generator.Facts;

/// <summary>A malformed facts or API-list file; the message starts with <c>path:line:</c>.</summary>
public sealed class FactsFormatException(string path, int line, string reason)
    : Exception($"{path}:{line}: {reason}")
{
    public string Path { get; } = path;
    public int Line { get; } = line;
    public string Reason { get; } = reason;
}
