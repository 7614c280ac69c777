using System;
using System.Collections.Generic;
using System.IO;

namespace Syscalls.Generator.Tool.Scanner;

/// <summary>A parsed headers/targets/&lt;target&gt;.target: triple, OS, arch, include folders, defines.</summary>
internal sealed record TargetConfig(string Name, string Triple, string Os, string Arch)
{
    /// <summary>Include folders relative to the sysroot, in search order.</summary>
    public IReadOnlyList<string> Includes { get; init; } = [];

    /// <summary><c>NAME</c> or <c>NAME=VALUE</c>.</summary>
    public IReadOnlyList<string> Defines { get; init; } = [];

    public bool IsLinux => Os == "linux";

    public static TargetConfig Read(string path)
    {
        string name = Path.GetFileNameWithoutExtension(path);
        string? triple = null, os = null, arch = null;
        var includes = new List<string>();
        var defines = new List<string>();
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
            }
        }
        return new TargetConfig(name,
            triple ?? throw new ScanException($"{path}:1: no 'triple' line"),
            os ?? throw new ScanException($"{path}:1: no 'os' line"),
            arch ?? throw new ScanException($"{path}:1: no 'arch' line"))
        {
            Includes = includes,
            Defines = defines,
        };
    }
}
