using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace Syscalls.Generator.Tool.Scanner;

/// <summary>Turns absolute header paths into include-relative ones (<c>sys/epoll.h</c>) for facts and messages.</summary>
internal sealed class HeaderPaths
{
    private readonly List<string> _dirs;
    private readonly Func<string, string> _display;

    /// <param name="includeDirs">Every -isystem folder; the longest one holding a file wins.</param>
    /// <param name="display">How to show a file outside them (a fixture header, the synthetic unit).</param>
    public HeaderPaths(IEnumerable<string> includeDirs, Func<string, string> display)
    {
        _dirs = includeDirs.Select(d => Path.GetFullPath(d).TrimEnd('/') + "/").OrderByDescending(d => d.Length).ToList();
        _display = display;
    }

    /// <summary>The path relative to the include folder holding it, or null when none does.</summary>
    public string? Relative(string file)
    {
        if (file.Length == 0)
        {
            return null;
        }
        string full = Path.GetFullPath(file);
        var dir = _dirs.FirstOrDefault(d => full.StartsWith(d, StringComparison.Ordinal));
        return dir is null ? null : full.Substring(dir.Length);
    }

    /// <summary>A short, machine-independent name for messages.</summary>
    public string Display(string file) => file.Length == 0 ? "<unknown>" : Relative(file) ?? _display(file);
}
