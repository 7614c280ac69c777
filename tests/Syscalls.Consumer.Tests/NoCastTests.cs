using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Syscalls.Consumer.Tests.Infrastructure;
using Xunit;

namespace Syscalls.Consumer.Tests;

/// <summary>
/// The consumer code is written as C would write it, with no cast: C's constants have C's types, and the span,
/// <c>in</c> and <c>ref</c> overloads take the lengths C passes by hand. Checked on the syntax tree (a cast expression
/// anywhere, comments and strings aside), and so is every conversion that could change a value silently
/// (<c>unchecked</c>, <c>CreateTruncating</c>, <c>CreateSaturating</c>). What C converts implicitly and C# only on
/// request (a <c>ssize_t</c> count to a span length, a descriptor into kevent's <c>uintptr_t</c> ident) is written
/// <c>T.CreateChecked</c>, which throws instead of truncating.
/// </summary>
public sealed class NoCastTests
{
    [Theory]
    [InlineData("samples/RawEcho/EpollEcho.cs")]
    [InlineData("samples/RawEcho/KqueueEcho.cs")]
    [InlineData("samples/RawEcho/WinsockEcho.cs")]
    [InlineData("samples/RawEcho/Program.cs")]
    [InlineData("samples/Consumer/Program.cs")]
    [InlineData("README.md")]
    public void ConsumerCode_AsCWouldWriteIt_HasNoCast(string file)
    {
        BuildHost.Require("checks the sources, the same for every target,");
        string text = file == "README.md"
            ? Readme.RawBindingsExample()
            : File.ReadAllText(Path.Combine(BuildHost.RepoRoot, file));

        var found = Casts(text);

        Assert.True(found.Length == 0, $"{file} casts:\n" + string.Join("\n", found));
    }

    /// <summary>The checker itself: the spellings the bindings once forced are all found.</summary>
    [Fact]
    public void Casts_TheSpellingsOfOldBindings_AreFound()
    {
        const string old = """
            int fd = socket(AF_INET, (int)(SOCK_STREAM | SOCK_NONBLOCK), 0);
            bind(fd, (sockaddr*)&addr, (uint)sizeof(sockaddr_in));
            ioctlsocket(s, unchecked((int)FIONBIO), &on);
            ev.ident = (nuint)(uint)fd;
            write(fd, buf, nuint.CreateTruncating(got));
            if (got <= 0) { close(fd); }
            """;

        var found = Casts(old);

        // (int), (sockaddr*), (uint), the unchecked and the (int) in it, (nuint) and (uint), CreateTruncating;
        // not the if.
        Assert.Equal(8, found.Length);
    }

    private static string[] Casts(string text)
    {
        var root = CSharpSyntaxTree.ParseText(text, new CSharpParseOptions(LanguageVersion.Latest)).GetRoot();
        var casts = root.DescendantNodes().OfType<CastExpressionSyntax>().Select(n => (SyntaxNode)n);
        var unchecks = root.DescendantNodes().OfType<CheckedExpressionSyntax>()
            .Where(n => n.IsKind(SyntaxKind.UncheckedExpression)).Select(n => (SyntaxNode)n);
        var lossy = root.DescendantNodes().OfType<MemberAccessExpressionSyntax>()
            .Where(n => n.Name.Identifier.Text is "CreateTruncating" or "CreateSaturating").Select(n => (SyntaxNode)n);
        return casts.Concat(unchecks).Concat(lossy)
            .Select(n => $"  line {n.GetLocation().GetLineSpan().StartLinePosition.Line + 1}: {n}")
            .ToArray();
    }
}
