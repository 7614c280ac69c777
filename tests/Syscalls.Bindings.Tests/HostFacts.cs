using System;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using Syscalls.Generator.Facts;

namespace Syscalls.Bindings.Tests;

/// <summary>
/// The ABI facts of the RID this process runs on (headers/facts/&lt;rid&gt;.abi), and the bindings assembly that was
/// built from them for this RID (a plain ProjectReference gets the host's RID build).
/// </summary>
internal static class HostFacts
{
    private static readonly Lazy<AbiFacts?> Loaded = new(Load);

    public static Assembly Bindings { get; } = typeof(Syscalls.Linux.LibC).Assembly;

    /// <summary>The facts of this RID, or null when the repository has none (the test then skips, saying so).</summary>
    public static AbiFacts? Facts => Loaded.Value;

    public static string Rid => RuntimeInformation.RuntimeIdentifier;

    /// <summary>The facts, or an xunit skip naming what is missing.</summary>
    public static AbiFacts Require()
    {
        var facts = Facts;
        if (facts is null)
        {
            Xunit.Assert.Skip($"no headers/facts/{Rid}.abi: this host's RID has no facts (or the repository was not found)");
        }
        return facts!;
    }

    public static string Namespace(AbiFacts facts) => facts.Provenance.Os switch
    {
        "linux" => "Syscalls.Linux",
        "darwin" => "Syscalls.Darwin",
        _ => "Syscalls.Windows",
    };

    /// <summary>The compiled type of a facts record: its own name, or the typedef name it was asked for by.</summary>
    public static Type? RecordType(AbiFacts facts, RecordFact record)
    {
        string ns = Namespace(facts);
        var direct = Bindings.GetType(ns + "." + record.Name);
        if (direct is not null)
        {
            return direct;
        }
        return facts.Typedefs.Where(t => t.Type is RecordRefType r && r.Name == record.Name)
            .Select(t => Bindings.GetType(ns + "." + t.Name)).FirstOrDefault(t => t is not null);
    }

    /// <summary>The static class holding a family's constants and functions (every Linux/macOS family: LibC).</summary>
    public static Type LibraryClass(AbiFacts facts) =>
        Bindings.GetType(Namespace(facts) + (facts.Provenance.Os == "windows" ? ".Ws2_32" : ".LibC"))!;

    private static AbiFacts? Load()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "headers", "FORMAT.md")))
            {
                string path = Path.Combine(dir.FullName, "headers", "facts", Rid + ".abi");
                return File.Exists(path) ? FactsReader.ReadFile(path) : null;
            }
        }
        return null;
    }
}
