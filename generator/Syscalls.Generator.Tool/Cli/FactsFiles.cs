using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Syscalls.Generator.Tool.Scanner;

namespace Syscalls.Generator.Tool.Cli;

/// <summary>
/// Writes a batch of files all-or-nothing as far as a file system allows: every file goes to a temporary file
/// beside its destination first, and only when all of them are written are they renamed into place.
/// </summary>
internal static class FactsFiles
{
    public static void WriteAll(IEnumerable<(string Path, string Text)> files)
    {
        var staged = new List<(string Temp, string Path)>();
        try
        {
            foreach (var (path, text) in files)
            {
                string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
                Directory.CreateDirectory(dir);
                string temp = Path.Combine(dir, "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N").Substring(0, 8) + ".tmp");
                File.WriteAllText(temp, text);
                staged.Add((temp, path));
            }
            foreach (var (temp, path) in staged)
            {
                File.Move(temp, path, overwrite: true);
            }
            staged.Clear();
        }
        catch (IOException e)
        {
            throw new ScanException($"writing facts failed, nothing was replaced: {e.Message}");
        }
        finally
        {
            foreach (var (temp, _) in staged.Where(s => File.Exists(s.Temp)))
            {
                File.Delete(temp);
            }
        }
    }
}
