using Syscalls.Generator.Facts;

namespace Syscalls.Generator.Emitter;

/// <summary>A function's reference page: its address and how a link to it reads (<c>recv(2)</c>).</summary>
internal sealed record ReferencePage(string Url, string Label);

/// <summary>
/// Where each function is documented, from its family's <c>page</c> lines (headers/FORMAT.md): man7.org's man pages
/// for Linux, Apple's man pages for macOS (kqueue and kevent are BSD calls whose Darwin form only Apple documents),
/// learn.microsoft.com's API reference for Windows. A man-page section is never guessed: a Linux or macOS function
/// without a page line has no link (the checked-in families give every one a page; a test holds them to it).
/// Windows pages are named after the header that declares the function (<c>api/winsock2/nf-winsock2-wsarecv</c>),
/// which the facts record (<c>file=</c>), unless a page line names another.
/// </summary>
internal static class ReferencePages
{
    private const string Man7 = "https://man7.org/linux/man-pages/man";
    private const string Apple =
        "https://developer.apple.com/library/archive/documentation/System/Conceptual/ManPages_iPhoneOS/man";
    private const string Learn = "https://learn.microsoft.com/en-us/windows/win32/api/";

    /// <summary>
    /// The page of <paramref name="function"/> (declared in <paramref name="file"/>, when known), or null; an unusable
    /// page line is an error naming it.
    /// </summary>
    public static ReferencePage? For(string function, string? file, ApiFamily? family, AbiFacts facts)
    {
        string os = facts.Provenance.Os;
        var line = family?.PageOf(function, facts.Target, os);
        string? where = line?.Argument;
        if (os == "windows")
        {
            string? header = where ?? (file is null ? null : HeaderFolder(file));
            if (header is null)
            {
                return null;
            }
            if (ApiFamilyReader.IsSection(header) || header.Contains("("))
            {
                throw new EmitterException($"{line}: page '{header}' for {function}: a Windows page is named by "
                    + "the header folder of learn.microsoft.com's API reference (winsock2, ioapiset), not a section");
            }
            string name = function.ToLowerInvariant();
            return new ReferencePage($"{Learn}{header}/nf-{header}-{name}", $"{function} (learn.microsoft.com)");
        }
        if (where is null)
        {
            return null;
        }
        string page = function, section = where;
        int open = where.IndexOf('(');
        if (open > 0)
        {
            page = where.Substring(0, open);
            section = where.Substring(open + 1, where.Length - open - 2);
        }
        else if (!ApiFamilyReader.IsSection(where))
        {
            throw new EmitterException($"{line}: page '{where}' for {function}: a {os} page is a man-page section (2) "
                + "or a page with its section (errno(3))");
        }
        // Pages of a subsection (read.3p, sockaddr.3type) live in the folder of its number: man3/read.3p.html.
        string folder = section.Substring(0, 1);
        string root = os == "darwin" ? Apple : Man7;
        return new ReferencePage($"{root}{folder}/{page}.{section}.html", $"{page}({section})");
    }

    /// <summary><c>winsock2.h</c> -> <c>winsock2</c>: where learn.microsoft.com files the header's functions.</summary>
    private static string? HeaderFolder(string file)
    {
        string name = file.Replace('\\', '/');
        name = name.Substring(name.LastIndexOf('/') + 1);
        return name.EndsWith(".h", System.StringComparison.Ordinal)
            ? name.Substring(0, name.Length - 2).ToLowerInvariant()
            : null;
    }
}
