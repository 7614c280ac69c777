using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Syscalls.Runtime.Backends.Kqueue;
using Syscalls.Runtime.Tests.Infrastructure;
using Xunit;

namespace Syscalls.Runtime.Tests.Kqueue;

/// <summary>The kqueue backend's compile-time proof. kqueue cannot execute on this Linux host (nor under qemu-user),
/// so nothing here runs a kevent: every struct, field, constant and function the backend touches (<see cref="KqueueAbi"/>)
/// is checked against the macOS 13 SDK headers by an independent compiler (zig cc), against the checked-in facts,
/// against the osx-x64 and osx-arm64 bindings assemblies, and against the backend's own IL.</summary>
public sealed class KqueueAbiTests
{
    public static TheoryData<string> OsxRids => new(OsxBindings.Rids);

    [Theory]
    [InlineData("x86_64-macos.13.0")]
    [InlineData("aarch64-macos.13.0")]
    public void KqueueAbi_MacSdkHeaders_StaticAssertsCompile(string zigTarget)
    {
        Platform.RequireLinux("zig cc and the SDK headers are on the Linux build host");
        string zig = OsxBindings.Zig;
        string dir = Path.Combine(Path.GetTempPath(), $"syscalls-kqueue-{Environment.ProcessId}-{zigTarget}");
        Directory.CreateDirectory(dir);
        string source = Path.Combine(dir, "kqueue_abi.c");
        File.WriteAllText(source, KqueueAbi.StaticAssertSource());
        try
        {
            var (exit, output) = OsxBindings.Run(zig, "cc", "-target", zigTarget, "-c", source, "-o", Path.Combine(dir, "kqueue_abi.o"));
            Assert.True(exit == 0, $"zig cc -target {zigTarget} rejected the kqueue ABI table:\n{output}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(OsxRids))]
    public void KqueueAbi_CheckedInFacts_MatchTable(string rid)
    {
        string path = Path.Combine(OsxBindings.RepoRoot, "headers", "facts", rid + ".abi");
        if (!File.Exists(path))
            Assert.Skip($"{path} not generated yet (the scanner writes it)");
        var structs = new Dictionary<string, (int Size, int Align)>();
        var fields = new Dictionary<string, (int Offset, int Size, string Type)>();
        var consts = new Dictionary<string, long>();
        foreach (string line in File.ReadLines(path))
        {
            string[] t = line.Split(' ');
            if (t.Length < 3)
                continue;
            string Key(string k) => t.FirstOrDefault(x => x.StartsWith(k + "=", StringComparison.Ordinal))?[(k.Length + 1)..] ?? "";
            switch (t[0])
            {
                case "struct":
                    structs[t[1]] = (int.Parse(Key("size"), CultureInfo.InvariantCulture), int.Parse(Key("align"), CultureInfo.InvariantCulture));
                    break;
                case "field":
                    fields[t[1]] = (int.Parse(Key("offset"), CultureInfo.InvariantCulture), int.Parse(Key("size"), CultureInfo.InvariantCulture), Key("type"));
                    break;
                case "const":
                    if (long.TryParse(Key("value"), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v))
                        consts[t[1]] = v;
                    break;
            }
        }

        var problems = new List<string>();
        foreach (KqueueAbi.Record r in KqueueAbi.Records)
        {
            if (!structs.TryGetValue(r.Name, out var shape))
                problems.Add($"struct {r.Name} missing");
            else if (shape != (r.Size, r.Align))
                problems.Add($"struct {r.Name} size/align {shape}, expected ({r.Size}, {r.Align})");
            foreach (KqueueAbi.Field f in r.Fields)
            {
                if (!fields.TryGetValue(r.Name + "." + f.Name, out var got))
                    problems.Add($"field {r.Name}.{f.Name} missing");
                else if (got != (f.Offset, f.Size, f.FactsType))
                    problems.Add($"field {r.Name}.{f.Name} is {got}, expected ({f.Offset}, {f.Size}, {f.FactsType})");
            }
        }

        foreach (var (name, value) in KqueueAbi.Constants)
        {
            if (!consts.TryGetValue(name, out long got))
                problems.Add($"const {name} missing");
            else if (got != value)
                problems.Add($"const {name} = {got}, expected {value}");
        }

        Assert.True(problems.Count == 0, $"{path}:\n" + string.Join('\n', problems));
    }

    [Theory]
    [MemberData(nameof(OsxRids))]
    public void KqueueAbi_OsxBindingsAssembly_LayoutsConstantsAndFunctionsMatch(string rid)
    {
        using AssemblyMetadata md = AssemblyMetadata.Open(OsxBindings.Assembly(rid));
        var problems = new List<string>();
        foreach (KqueueAbi.Record r in KqueueAbi.Records)
        {
            if (md.FindType("Syscalls.Darwin", r.Name) is not { } type)
            {
                problems.Add($"Syscalls.Darwin.{r.Name} missing");
                continue;
            }

            var layout = type.GetLayout();
            if (layout.Size != r.Size)
                problems.Add($"{r.Name}: StructLayout Size {layout.Size}, expected {r.Size}");
            if (layout.PackingSize != 0 && layout.PackingSize != r.Align)
                problems.Add($"{r.Name}: StructLayout Pack {layout.PackingSize}, C alignment {r.Align}");
            var have = md.Fields(type);
            foreach (KqueueAbi.Field f in r.Fields)
            {
                if (!have.TryGetValue(f.Name, out var got))
                    problems.Add($"{r.Name}.{f.Name} missing");
                else if (got.Offset != f.Offset || (f.Managed is not null && got.Type != f.Managed))
                    problems.Add($"{r.Name}.{f.Name}: FieldOffset {got.Offset} {got.Type}, expected {f.Offset} {f.Managed ?? "(fixed buffer)"}");
            }
        }

        CheckLibC(md, problems);
        Assert.True(problems.Count == 0, $"{md.Path}:\n" + string.Join('\n', problems));
    }

    [Theory]
    [InlineData("osx-x64", "int(int,int,nint)")]
    [InlineData("osx-arm64", "int(int,int,nint,nint,nint,nint,nint,nint,nint)")]
    public void KqueueAbi_OsxBindingsFcntl_VariadicArgumentOnStackOnlyOnArm64(string rid, string nativeThreeArgument)
    {
        // Apple arm64 passes variadic arguments on the stack: fcntl(fd, F_SETFD, FD_CLOEXEC) must fill x2-x7 with
        // padding so that FD_CLOEXEC lands in the first stack slot (dotnet/runtime#48796). x64 passes it in rdx.
        using AssemblyMetadata md = AssemblyMetadata.Open(OsxBindings.Assembly(rid));
        List<string> imports = md.ImportsOf("Syscalls.Darwin", "fcntl");
        Assert.Contains("int(int,int)", imports);
        Assert.Contains(nativeThreeArgument, imports);
        if (rid == "osx-arm64")
            Assert.DoesNotContain("int(int,int,nint)", imports);
    }

    [Fact]
    public void KqueueBackend_DarwinMembersItUses_AllListedInAbiTable()
    {
        using AssemblyMetadata runtime = AssemblyMetadata.Open(typeof(KqueuePoller).Assembly.Location);
        var used = runtime.MemberReferencesInto("Syscalls.Darwin");
        Assert.Contains(used, u => u.Type == "LibC" && u.Member == "kevent");
        var problems = new List<string>();
        foreach (var (type, member, signature) in used)
        {
            if (type == "LibC")
            {
                string sig = signature["method:".Length..];
                if (!KqueueAbi.Functions.TryGetValue(member, out string[]? sigs) || !sigs.Contains(sig))
                    problems.Add($"LibC.{member} {sig} is used but not in KqueueAbi.Functions");
                continue;
            }

            KqueueAbi.Field? f = KqueueAbi.Records.FirstOrDefault(r => r.Name == type)?.Fields.FirstOrDefault(x => x.Name == member);
            if (f is null)
                problems.Add($"{type}.{member} is used but not in KqueueAbi.Records");
            else if (f.Managed is not null && signature != "field:" + f.Managed)
                problems.Add($"{type}.{member} is used as {signature}, the table says {f.Managed}");
        }

        foreach (string type in runtime.TypeReferencesInto("Syscalls.Darwin"))
        {
            if (type != "LibC" && KqueueAbi.Records.All(r => r.Name != type))
                problems.Add($"Syscalls.Darwin.{type} is used but not in KqueueAbi.Records");
        }

        Assert.True(problems.Count == 0, "A macOS item the backend uses must be proven by the ABI table first:\n" + string.Join('\n', problems));
    }

    [Theory]
    [MemberData(nameof(OsxRids))]
    public void KqueueBackend_DarwinMembersItUses_BindOnOsxRid(string rid)
    {
        using AssemblyMetadata runtime = AssemblyMetadata.Open(typeof(KqueuePoller).Assembly.Location);
        using AssemblyMetadata bindings = AssemblyMetadata.Open(OsxBindings.Assembly(rid));
        var problems = new List<string>();
        foreach (var (type, member, signature) in runtime.MemberReferencesInto("Syscalls.Darwin").Distinct())
        {
            if (bindings.FindType("Syscalls.Darwin", type) is not { } def)
            {
                problems.Add($"Syscalls.Darwin.{type} missing");
                continue;
            }

            if (signature.StartsWith("method:", StringComparison.Ordinal))
            {
                string sig = signature["method:".Length..];
                if (!bindings.Methods(def).TryGetValue(member, out var overloads) || !overloads.Contains(sig))
                    problems.Add($"{type}.{member} {sig}: no such overload");
                continue;
            }

            KqueueAbi.Field expected = KqueueAbi.RecordNamed(type).Fields.Single(x => x.Name == member);
            if (!bindings.Fields(def).TryGetValue(member, out var got))
                problems.Add($"{type}.{member} missing");
            else if ("field:" + got.Type != signature || got.Offset != expected.Offset)
                problems.Add($"{type}.{member}: {got.Type} at {got.Offset}; the backend was compiled for {signature} at {expected.Offset}");
        }

        Assert.True(problems.Count == 0, $"the kqueue backend's IL would not bind to {bindings.Path}:\n" + string.Join('\n', problems));
    }

    [Fact]
    public void KqueueBackend_ConstantsCompiledIn_MatchTable()
    {
        // C# inlines consts: the values in the backend's IL are those of the bindings assembly it was compiled
        // against (the host RID's build, beside this test). They must be macOS's, whatever that build's own OS.
        string compiledAgainst = Path.Combine(AppContext.BaseDirectory, "Syscalls.Bindings.dll");
        using AssemblyMetadata md = AssemblyMetadata.Open(compiledAgainst);
        var problems = new List<string>();
        CheckConstants(md, problems);
        Assert.True(problems.Count == 0, $"{compiledAgainst}:\n" + string.Join('\n', problems));
    }

    [Theory]
    [InlineData(35, ErrorKind.WouldBlock)]
    [InlineData(4, ErrorKind.Interrupted)]
    [InlineData(36, ErrorKind.InProgress)]
    [InlineData(54, ErrorKind.ConnectionReset)]
    [InlineData(61, ErrorKind.ConnectionRefused)]
    [InlineData(32, ErrorKind.BrokenPipe)]
    [InlineData(45, ErrorKind.NotSupported)]
    [InlineData(102, ErrorKind.NotSupported)]
    [InlineData(2, ErrorKind.NotFound)]
    [InlineData(11, ErrorKind.Other)]   // EDEADLK on macOS (EAGAIN on Linux): the tables must not be mixed up
    public void DarwinErrno_BsdNumber_ClassifiesByMacMeaning(int errno, ErrorKind expected)
        => Assert.Equal(expected, DarwinErrno.Classify(errno));

    private static void CheckLibC(AssemblyMetadata md, List<string> problems)
    {
        if (md.FindType("Syscalls.Darwin", "LibC") is not { } libc)
        {
            problems.Add("Syscalls.Darwin.LibC missing");
            return;
        }

        var methods = md.Methods(libc);
        foreach (var (name, sigs) in KqueueAbi.Functions)
        {
            foreach (string sig in sigs)
            {
                if (!methods.TryGetValue(name, out var overloads) || !overloads.Contains(sig))
                    problems.Add($"LibC.{name} {sig} missing (have: {string.Join(" | ", overloads ?? [])})");
            }
        }

        CheckConstants(md, problems);
    }

    private static void CheckConstants(AssemblyMetadata md, List<string> problems)
    {
        if (md.FindType("Syscalls.Darwin", "LibC") is not { } libc)
        {
            problems.Add("Syscalls.Darwin.LibC missing");
            return;
        }

        var consts = md.Constants(libc);
        foreach (var (name, value) in KqueueAbi.Constants)
        {
            // A missing const may be an arch-dependent static property: the backend could not have inlined it.
            if (!consts.TryGetValue(name, out long got))
                problems.Add($"LibC.{name} is not a const");
            else if (got != value)
                problems.Add($"LibC.{name} = {got}, expected {value}");
        }
    }
}
