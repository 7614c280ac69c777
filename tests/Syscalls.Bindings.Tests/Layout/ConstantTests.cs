using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using System.Reflection;
using Syscalls.Generator.Facts;
using Xunit;

namespace Syscalls.Bindings.Tests.Layout;

/// <summary>Every constant, enumerator and io_uring syscall number of this RID's facts has its value in the compiled bindings.</summary>
public sealed class ConstantTests
{
    private static readonly BindingFlags Static = BindingFlags.Public | BindingFlags.Static;

    /// <summary>The value of a compiled constant: a const field, or a static property (architecture-dependent).</summary>
    private static BigInteger? Compiled(Type[] classes, string name) =>
        classes.Select(c => Compiled(c, name)).FirstOrDefault(v => v is not null);

    private static BigInteger? Compiled(Type cls, string name)
    {
        if (cls.GetField(name, Static) is { IsLiteral: true } field)
        {
            return ToBig(field.GetRawConstantValue()!);
        }
        if (cls.GetProperty(name, Static) is { } property)
        {
            return ToBig(property.GetValue(null)!);
        }
        return null;
    }

    private static BigInteger ToBig(object value) => value switch
    {
        nint n => n,
        nuint n => n,
        ulong u => u,
        _ => new BigInteger(Convert.ToInt64(value)),
    };

    /// <summary>Every library class of the OS (LibC; Ws2_32 and Kernel32 on Windows).</summary>
    private static Type[] Classes(AbiFacts facts) =>
        HostFacts.Bindings.GetTypes().Where(t => t.Namespace == HostFacts.Namespace(facts) && t.IsAbstract && t.IsSealed).ToArray();

    private static void Check(Type[] cls, IEnumerable<(string Name, BigInteger Value)> expected, List<string> wrong)
    {
        foreach (var (name, value) in expected)
        {
            var got = Compiled(cls, name);
            if (got != value)
            {
                wrong.Add($"{name}: compiled {got?.ToString() ?? "(missing)"}, facts {value}");
            }
        }
    }

    [Fact]
    public void Constants_EveryMacro_ValueOfTheFacts()
    {
        var facts = HostFacts.Require();
        var cls = Classes(facts);
        var wrong = new List<string>();
        // A macro cast to a native-sized alias is emitted with that alias's signedness: compare the same 64 bits.
        Check(cls, facts.Constants.Select(c => (c.Name, Normalize(cls, c))), wrong);
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        Assert.True(facts.Constants.Count > 100, $"only {facts.Constants.Count} constants in the facts");
    }

    [Fact]
    public void Constants_EveryEnumerator_ValueOfTheFacts()
    {
        var facts = HostFacts.Require();
        var wrong = new List<string>();
        Check(Classes(facts), facts.Enums.SelectMany(e => e.Enumerators).Select(x => (x.Name, x.Value)), wrong);
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    [Fact]
    public void Constants_EveryEnumerator_TypedIntAsInCWhenItFits()
    {
        var facts = HostFacts.Require();
        Assert.SkipWhen(facts.Enums.Count == 0, $"{facts.Target} declares no enums");
        var cls = Classes(facts);
        var wrong = new List<string>();
        foreach (var e in facts.Enums)
        {
            foreach (var x in e.Enumerators)
            {
                var type = cls.Select(c => c.GetField(x.Name, Static)?.FieldType ?? c.GetProperty(x.Name, Static)?.PropertyType)
                    .FirstOrDefault(t => t is not null);
                // C11 6.4.4.3: an enumeration constant has type int; GNU C gives one that does not fit the enum's type.
                bool fits = x.Value >= int.MinValue && x.Value <= int.MaxValue;
                if (fits ? type != typeof(int) : type == typeof(int))
                {
                    wrong.Add($"{x.Name} = {x.Value} (enum {e.Name}, underlying {e.Underlying}): compiled as {type?.Name ?? "(missing)"}");
                }
            }
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    [Fact]
    public void Constants_IoUringSyscallNumbers_TargetsNumbers()
    {
        var facts = HostFacts.Require();
        Assert.SkipUnless(facts.Provenance.IsLinux, "io_uring is Linux only");
        var wrong = new List<string>();
        var numbers = facts.Syscalls.Where(s => s.Name.StartsWith("io_uring_", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, numbers.Count);
        Check(Classes(facts), numbers.Select(s => ("SYS_" + s.Name, new BigInteger(s.Number))), wrong);
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    [Fact]
    public void Constants_DefinedOnOtherArchOnly_ThrowsHere()
    {
        var facts = HostFacts.Require();
        var defined = new HashSet<string>(facts.Constants.Select(c => c.Name).Concat(facts.Enums.SelectMany(e => e.Enumerators).Select(x => x.Name)));
        var elsewhere = Classes(facts).SelectMany(c => c.GetProperties(Static)).Where(p => !defined.Contains(p.Name) && !p.Name.StartsWith("SYS_", StringComparison.Ordinal)).ToList();
        Assert.SkipWhen(elsewhere.Count == 0, "every constant of this OS is defined on this architecture");
        foreach (var p in elsewhere)
        {
            var e = Assert.Throws<TargetInvocationException>(() => p.GetValue(null));
            Assert.IsType<PlatformNotSupportedException>(e.InnerException);
        }
    }

    private static BigInteger Normalize(Type[] classes, ConstantFact c)
    {
        var types = classes.Select(cls => cls.GetField(c.Name, Static)?.FieldType ?? cls.GetProperty(c.Name, Static)?.PropertyType).ToList();
        bool nativeSigned = types.Contains(typeof(nint));
        bool nativeUnsigned = types.Contains(typeof(nuint));
        var v = c.Value;
        if (nativeSigned && v > long.MaxValue)
        {
            v -= BigInteger.One << 64;
        }
        else if (nativeUnsigned && v.Sign < 0)
        {
            v += BigInteger.One << 64;
        }
        return v;
    }
}
