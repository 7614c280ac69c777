using System;
using System.IO;
using Xunit;

namespace Syscalls.Consumer.Tests.Infrastructure;

/// <summary>The README's raw-bindings example, read from README.md between its markers, so that what the README shows
/// is what the tests build and run.</summary>
public static class Readme
{
    public const string Begin = "<!-- raw-bindings-example: begin -->";
    public const string End = "<!-- raw-bindings-example: end -->";

    /// <summary>The C# of the example: the one fenced block between the markers.</summary>
    public static string RawBindingsExample()
    {
        string readme = File.ReadAllText(Path.Combine(BuildHost.RepoRoot, "README.md")).ReplaceLineEndings("\n");
        int begin = readme.IndexOf(Begin, StringComparison.Ordinal);
        int end = readme.IndexOf(End, StringComparison.Ordinal);
        Assert.True(begin >= 0 && end > begin, $"README.md has no {Begin} ... {End} section");
        string section = readme[(begin + Begin.Length)..end];
        const string fence = "```csharp\n";
        int code = section.IndexOf(fence, StringComparison.Ordinal);
        int close = section.IndexOf("\n```", code + fence.Length, StringComparison.Ordinal);
        Assert.True(code >= 0 && close > code, "the README's raw-bindings section has no ```csharp block");
        Assert.True(section.IndexOf(fence, close, StringComparison.Ordinal) < 0,
            "the README's raw-bindings section has more than one ```csharp block");
        return section[(code + fence.Length)..(close + 1)];
    }
}
