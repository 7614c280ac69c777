using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace Syscalls.Generator.Tool.Scanner;

/// <summary>A parsed headers/targets/&lt;target&gt;.target: triple, OS, arch, include folders, defines.</summary>
internal sealed record TargetConfig(string Name, string Triple, string Os, string Arch)
{
    /// <summary>Include folders relative to the sysroot, in search order.</summary>
    public IReadOnlyList<string> Includes { get; init; } = [];

    /// <summary><c>NAME</c> or <c>NAME=VALUE</c>.</summary>
    public IReadOnlyList<string> Defines { get; init; } = [];

    /// <summary>
    /// The headers whose every declaration is listed in <c>headers/facts/&lt;target&gt;.names</c> (the <c>names</c>
    /// lines): what a program on this target can include, so the Roslyn host can tell a name outside the catalogue.
    /// </summary>
    public IReadOnlyList<string> Names { get; init; } = [];

    public bool IsLinux => Os == "linux";

    public static TargetConfig Read(string path)
    {
        string name = Path.GetFileNameWithoutExtension(path);
        string? triple = null, os = null, arch = null;
        var includes = new List<string>();
        var defines = new List<string>();
        var names = new List<string>();
        var lines = File.ReadAllLines(path);
        for (int i = 0; i < lines.Length; i++)
        {
            var words = lines[i].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0 || words[0].StartsWith("#", StringComparison.Ordinal))
            {
                continue;
            }
            string value = words.Length > 1 ? words[1] : throw new ScanException($"{path}:{i + 1}: '{words[0]}' needs a value");
            switch (words[0])
            {
                case "triple": triple = value; break;
                case "os": os = value; break;
                case "arch": arch = value; break;
                case "include": includes.Add(value); break;
                case "define": defines.Add(value); break;
                case "names": names.AddRange(words.Skip(1)); break;
            }
        }
        return new TargetConfig(name,
            triple ?? throw new ScanException($"{path}:1: no 'triple' line"),
            os ?? throw new ScanException($"{path}:1: no 'os' line"),
            arch ?? throw new ScanException($"{path}:1: no 'arch' line"))
        {
            Includes = includes,
            Defines = defines,
            Names = names,
        };
    }
}
