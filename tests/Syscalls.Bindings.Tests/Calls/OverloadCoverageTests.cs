using System;
using System.Linq;
using System.Reflection;
using Xunit;

namespace Syscalls.Bindings.Tests.Calls;

/// <summary>
/// Every managed overload the bindings emit for the OS this process runs on (a method with a span, <c>in</c> or
/// <c>ref</c> parameter) is called by some call test, which says so with <see cref="CallsOverloadAttribute"/>; a
/// family line that adds an overload without a test fails here.
/// </summary>
public sealed class OverloadCoverageTests
{
    [Fact]
    public void Overloads_OfTheHostOs_EachCalledByACallTest()
    {
        string? ns = OperatingSystem.IsLinux() ? "Syscalls.Linux" : OperatingSystem.IsWindows() ? "Syscalls.Windows" : null;
        Assert.SkipWhen(ns is null, "the call tests run on Linux and on Windows (Wine)");
        var emitted = HostFacts.Bindings.GetTypes()
            .Where(t => t.Namespace == ns && t.IsAbstract && t.IsSealed)
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static).Where(IsOverload).Select(m => t.Name + "." + m.Name))
            .Distinct().OrderBy(n => n, StringComparer.Ordinal).ToList();
        var called = typeof(OverloadCoverageTests).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static))
            .SelectMany(m => m.GetCustomAttributes<CallsOverloadAttribute>().SelectMany(a => a.Names))
            .ToHashSet(StringComparer.Ordinal);

        Assert.True(emitted.Count > 10, $"only {emitted.Count} overloads in {ns}: {string.Join(", ", emitted)}");
        var untested = emitted.Where(n => !called.Contains(n)).ToList();
        Assert.True(untested.Count == 0, "overloads no call test calls: " + string.Join(", ", untested));
    }

    private static bool IsOverload(MethodInfo m) =>
        m.GetParameters().Any(p => p.ParameterType.IsByRef
            || (p.ParameterType.IsGenericType && p.ParameterType.GetGenericTypeDefinition() is var g
                && (g == typeof(Span<>) || g == typeof(ReadOnlySpan<>))));
}
