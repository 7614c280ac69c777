using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;

namespace Syscalls.Generator.Tool.Scanner.Clang;

/// <summary>One clang diagnostic with its position.</summary>
internal sealed record ClangDiagnostic(int Severity, string Message, SourcePos Position)
{
    public bool IsError => Severity >= 3; // CXDiagnostic_Error, CXDiagnostic_Fatal

    public override string ToString() =>
        (Position.File.Length > 0 ? Position + ": " : "") + (IsError ? "error: " : "warning: ") + Message;
}

/// <summary>A parsed translation unit; owns its CXIndex so units can be parsed on different threads.</summary>
internal sealed class TranslationUnit : IDisposable
{
    private const uint DetailedPreprocessingRecord = 0x01;
    private const uint KeepGoing = 0x200;

    private IntPtr _index;
    private IntPtr _tu;

    private TranslationUnit(IntPtr index, IntPtr tu)
    {
        _index = index;
        _tu = tu;
    }

    /// <summary>The libclang version string, e.g. <c>clang version 22.1.8 (...)</c>.</summary>
    public static string ClangVersion => Native.Take(Native.clang_getClangVersion());

    /// <summary>
    /// Parses <paramref name="fileName"/> whose text is <paramref name="contents"/> (an in-memory file) with the
    /// given command line. Throws <see cref="InvalidOperationException"/> when libclang itself fails.
    /// </summary>
    public static unsafe TranslationUnit Parse(string fileName, string contents, IReadOnlyList<string> args)
    {
        IntPtr index = Native.clang_createIndex(0, 0);
        var pinned = new List<IntPtr>();
        IntPtr Utf8(string s)
        {
            IntPtr p = Marshal.StringToCoTaskMemUTF8(s);
            pinned.Add(p);
            return p;
        }
        try
        {
            var argv = new IntPtr[args.Count];
            for (int i = 0; i < args.Count; i++)
            {
                argv[i] = Utf8(args[i]);
            }
            byte[] body = Encoding.UTF8.GetBytes(contents);
            IntPtr tu;
            int error;
            // argv, body and the UTF-8 copies stay fixed/allocated until libclang returns; it copies what it keeps.
            fixed (IntPtr* argvPtr = argv)
            fixed (byte* bodyPtr = body)
            {
                var unsaved = new CXUnsavedFile
                {
                    Filename = (byte*)Utf8(fileName),
                    Contents = bodyPtr,
                    Length = (nuint)body.Length,
                };
                error = Native.clang_parseTranslationUnit2(index, (byte*)Utf8(fileName), (byte**)argvPtr, args.Count,
                    &unsaved, 1, DetailedPreprocessingRecord | KeepGoing, &tu);
            }
            if (error != 0 || tu == IntPtr.Zero)
            {
                Native.clang_disposeIndex(index);
                throw new InvalidOperationException($"libclang could not parse {fileName} (CXErrorCode {error})");
            }
            return new TranslationUnit(index, tu);
        }
        finally
        {
            foreach (var p in pinned)
            {
                Marshal.FreeCoTaskMem(p);
            }
        }
    }

    public Cursor Root => new(Native.clang_getTranslationUnitCursor(Handle));

    public IReadOnlyList<ClangDiagnostic> Diagnostics
    {
        get
        {
            uint n = Native.clang_getNumDiagnostics(Handle);
            var list = new List<ClangDiagnostic>((int)n);
            for (uint i = 0; i < n; i++)
            {
                IntPtr d = Native.clang_getDiagnostic(Handle, i);
                list.Add(new ClangDiagnostic(Native.clang_getDiagnosticSeverity(d),
                    Native.Take(Native.clang_getDiagnosticSpelling(d)),
                    Cursor.Pos(Native.clang_getDiagnosticLocation(d), expansion: true)));
                Native.clang_disposeDiagnostic(d);
            }
            return list;
        }
    }

    /// <summary>The tokens of a cursor's extent (for a macro definition: its name, parameters and body).</summary>
    public unsafe List<(TokenKind Kind, string Text)> Tokens(Cursor cursor)
    {
        CXToken* tokens;
        uint count;
        // libclang allocates the token array; it is released with clang_disposeTokens below.
        Native.clang_tokenize(Handle, cursor.Extent, &tokens, &count);
        var list = new List<(TokenKind, string)>((int)count);
        try
        {
            for (uint i = 0; i < count; i++)
            {
                list.Add(((TokenKind)Native.clang_getTokenKind(tokens[i]), Native.Take(Native.clang_getTokenSpelling(Handle, tokens[i]))));
            }
        }
        finally
        {
            if (tokens != null)
            {
                Native.clang_disposeTokens(Handle, tokens, count);
            }
        }
        return list;
    }

    private IntPtr Handle => _tu != IntPtr.Zero ? _tu : throw new ObjectDisposedException(nameof(TranslationUnit));

    public void Dispose()
    {
        if (_tu != IntPtr.Zero)
        {
            Native.clang_disposeTranslationUnit(_tu);
            _tu = IntPtr.Zero;
        }
        if (_index != IntPtr.Zero)
        {
            Native.clang_disposeIndex(_index);
            _index = IntPtr.Zero;
        }
    }

    /// <summary>Renders all diagnostics of one severity or above, one per line.</summary>
    public static string Describe(IEnumerable<ClangDiagnostic> diagnostics) => string.Join("\n", diagnostics.Select(d => d.ToString()));
}
