using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using Syscalls.Generator.Emitter;
using Xunit;

namespace Syscalls.Generator.Tests.Emitter;

/// <summary>
/// The number-to-name tables the emitter writes from the family lists' <c>errors</c> lines (what Errno.Name reads),
/// from the checked-in facts: one table per OS whatever the RID, the C names with the C values, an alias defined as
/// another error's name giving way to it, and every listed error reachable by its number.
/// </summary>
public sealed class ErrorNameTableTests
{
    private static Dictionary<int, string> Table(string rid, string os)
    {
        var input = CheckedInFactsEmitTests.Require();
        var file = BindingEmitter.Emit(input with { Options = input.Options with { Rid = rid } }).Files
            .SingleOrDefault(f => f.Name == $"Syscalls.{os}.ErrorNames.g.cs");
        Assert.True(file is not null, $"the {rid} build has no Syscalls.{os}.ErrorNames.g.cs");
        return Regex.Matches(file!.Text, @"^\s*(-?\d+) => ""(\w+)"",$", RegexOptions.Multiline)
            .ToDictionary(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), m => m.Groups[2].Value);
    }

    [Theory]
    [InlineData("linux-x64", "Linux", 98, "EADDRINUSE")]
    [InlineData("linux-x64", "Linux", 11, "EAGAIN")]        // EWOULDBLOCK is #define'd as EAGAIN
    [InlineData("linux-x64", "Linux", 95, "EOPNOTSUPP")]    // ENOTSUP is #define'd as EOPNOTSUPP
    [InlineData("linux-arm64", "Linux", 98, "EADDRINUSE")]
    [InlineData("osx-arm64", "Darwin", 48, "EADDRINUSE")]
    [InlineData("osx-arm64", "Darwin", 35, "EAGAIN")]
    [InlineData("osx-arm64", "Darwin", 45, "ENOTSUP")]      // its own number on macOS
    [InlineData("osx-arm64", "Darwin", 102, "EOPNOTSUPP")]
    [InlineData("win-x64", "Windows", 10048, "WSAEADDRINUSE")]
    [InlineData("win-x64", "Windows", 10035, "WSAEWOULDBLOCK")]
    [InlineData("win-x64", "Windows", 997, "ERROR_IO_PENDING")]   // WSA_IO_PENDING is (ERROR_IO_PENDING)
    [InlineData("linux-x64", "Windows", 10048, "WSAEADDRINUSE")]  // every build carries every OS's table
    public void ErrorNames_CheckedInFacts_NameTheNumber(string rid, string os, int number, string name)
    {
        Assert.Equal(name, Table(rid, os).GetValueOrDefault(number));
    }

    [Theory]
    [InlineData("linux-x64", "Linux")]
    [InlineData("osx-x64", "Darwin")]
    [InlineData("win-x64", "Windows")]
    public void ErrorNames_EveryListedError_IsItsNumbersNameOrAnAliasOfIt(string rid, string os)
    {
        var input = CheckedInFactsEmitTests.Require();
        var facts = input.Targets.Single(t => t.Target == rid);
        var families = input.Families.ToDictionary(f => f.Name);
        var table = Table(rid, os);
        var listed = facts.Constants.Where(c => c.Family is { } f && families[f].IsError(c.Name, rid, facts.Provenance.Os)).ToList();
        Assert.NotEmpty(listed);
        foreach (var c in listed)
        {
            string named = table.GetValueOrDefault((int)c.Value) ?? "(nothing)";
            string alias = c.MacroBody.Trim('(', ')', ' ');
            Assert.True(named == c.Name || named == alias, $"{c.Name} = {c.Value} (#define {c.Name} {c.MacroBody}) is named {named}");
        }
        Assert.Equal(table.Count, table.Values.Distinct().Count());
    }
}
