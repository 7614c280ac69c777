using System.Collections.Generic;
using System.Linq;

namespace Syscalls.Generator.Emitter;

/// <summary>
/// Prints the overloads of one function. A public overload is either the P/Invoke itself or a forwarder to a
/// private one whose native signature differs (padded variadic call on Apple arm64, a <c>syscall(2)</c> wrapper).
/// The P/Invoke is a <c>[LibraryImport]</c> partial, or in stub mode the blittable stub written out.
/// </summary>
internal static class FunctionWriter
{
    private const string Marshal = "global::System.Runtime.InteropServices.Marshal";

    /// <summary>The number of variadic <c>nint</c> arguments of each overload: 0..max for variadic functions.</summary>
    public static IEnumerable<int> Overloads(FunctionModel f) => f.IsVariadic ? Enumerable.Range(0, f.MaxVariadic + 1) : [0];

    public static void Write(CodeWriter w, OsModel os, TargetModel layout, FunctionModel f, int variadic, Emission e)
    {
        var names = VariadicNames(f, variadic);
        var ps = f.Parameters.Concat(names.Select(n => new ParameterModel(n, CsType.NInt))).ToList();
        string name = Identifiers.Escape(f.Name);
        string signature = $"{f.Return.Code} {name}({Params(ps)})";
        string remarks = $"<c>{Identifiers.Xml(f.Prototype ?? f.Name)}</c>";
        if (f.IsVariadic)
        {
            remarks += $" Variadic in C: this overload passes {variadic} variadic argument{(variadic == 1 ? "" : "s")}.";
        }
        if (f.IsFast && f.Kind == FunctionKind.Import)
        {
            remarks += " Called without the GC transition (<c>[SuppressGCTransition]</c>): it is answered in user space or "
                + "by a trivial system call, never blocks and never calls back.";
        }
        if (f.CapturesOnFailure)
        {
            remarks += " <c>Marshal.GetLastPInvokeError</c> is updated when it returns -1 (its failure value) and left "
                + "as it was on success.";
        }
        if (!f.SetsError)
        {
            remarks += " Reports nothing through the error slot, so the binding neither clears nor captures it "
                + "(<c>Marshal.GetLastPInvokeError</c> is not updated).";
        }
        if (f.Kind == FunctionKind.Syscall)
        {
            remarks += $" No libc wrapper: calls <c>syscall({f.SyscallConstant}, ...)</c>.";
        }
        w.Doc(f.Doc, remarks, f.Page);

        if (!e.IsNative(os))
        {
            w.Line($"public static {signature} => {e.Throw(os, f.Name)};");
            return;
        }
        if (f.Kind == FunctionKind.Syscall)
        {
            string native = "__" + f.Name + "_syscall";
            var args = new List<string> { f.SyscallConstant! }
                .Concat(f.Parameters.Select(p => $"unchecked((nint){p.Name})")).ToList();
            w.Line($"public static {signature} => unchecked(({f.Return.Code}){native}({string.Join(", ", args)}));");
            w.Line();
            var nativeParams = new List<ParameterModel> { new("number", CsType.Long) }
                .Concat(f.Parameters.Select((p, i) => new ParameterModel("a" + (i + 1), CsType.NInt))).ToList();
            WriteImport(w, "private", CsType.Long, native, nativeParams, f, e);
            return;
        }
        int pads = variadic > 0 && layout.Platform.Os == "darwin" && layout.Arch == "arm64" ? Padding(f, layout) : 0;
        if (pads == 0 && f.CapturesOnFailure)
        {
            // errno is read only after a failure: on success it means nothing (POSIX), and the clear-call-capture
            // sequence of SetLastError = true is two native calls, more than this call costs.
            string fast = "__" + f.Name + "_fast";
            w.Line("[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]");
            w.Open($"public static {signature}");
            w.Line($"{f.Return.Code} __retVal = {fast}({string.Join(", ", ps.Select(p => p.Name))});");
            w.Open("if (__retVal == -1)");
            w.Line($"{Marshal}.SetLastPInvokeError({Marshal}.GetLastSystemError());");
            w.Close();
            w.Line("return __retVal;");
            w.Close();
            w.Line();
            WriteImport(w, "private", f.Return, fast, ps, f with { SetsError = false }, e);
            return;
        }
        if (pads == 0)
        {
            WriteImport(w, "public", f.Return, name, ps, f, e);
            return;
        }
        // Apple arm64 passes variadic arguments on the stack, not in x0-x7 (dotnet/runtime#48796): fill the
        // remaining argument registers with padding so the variadic ones land on the stack as the callee expects.
        string padded = "__" + f.Name + "_va" + variadic;
        int fixedCount = f.Parameters.Count;
        var padParams = Enumerable.Range(fixedCount, pads).Select(i => new ParameterModel("__pad" + i, CsType.NInt));
        var nativePs = f.Parameters.Concat(padParams).Concat(names.Select(n => new ParameterModel(n, CsType.NInt))).ToList();
        var callArgs = f.Parameters.Select(p => p.Name).Concat(Enumerable.Repeat("0", pads)).Concat(names);
        w.Line($"public static {signature} => {padded}({string.Join(", ", callArgs)});");
        w.Line();
        WriteImport(w, "private", f.Return, padded, nativePs, f, e);
    }

    private static int Padding(FunctionModel f, TargetModel layout)
    {
        if (f.Parameters.Any(p => p.Type is CsNamed { IsRecord: true } or CsNamed { Size: 16 }))
        {
            throw new EmitterException($"{layout.Target}: {f.Name}: a variadic function with a by-value struct parameter "
                + "cannot be padded for Apple arm64");
        }
        int registers = f.Parameters.Count(p => p.Type is not CsNamed { IsFloatingPoint: true });
        return System.Math.Max(0, 8 - registers);
    }

    private static IReadOnlyList<string> VariadicNames(FunctionModel f, int count)
    {
        var taken = new HashSet<string>(f.Parameters.Select(p => p.Name));
        return f.VariadicNames(count).Take(count).Select(n => taken.Contains(n) ? "va_" + n : n).ToList();
    }

    private static string Params(IEnumerable<ParameterModel> ps) => string.Join(", ", ps.Select(p => p.Type.Code + " " + p.Name));

    private static void WriteImport(CodeWriter w, string visibility, CsType ret, string name, List<ParameterModel> ps,
        FunctionModel f, Emission e)
    {
        string lib = Identifiers.Literal(f.Library), entry = Identifiers.Literal(f.EntryPoint);
        if (!e.IsStub)
        {
            w.Line($"[LibraryImport({lib}, EntryPoint = {entry}{(f.SetsError ? ", SetLastError = true" : "")})]");
            if (f.IsFast)
            {
                w.Line("[SuppressGCTransition]");
            }
            if (f.CallConv is { } cc)
            {
                w.Line($"[UnmanagedCallConv(CallConvs = new[] {{ typeof(CallConv{cc}) }})]");
            }
            w.Line($"{visibility} static partial {ret.Code} {name}({Params(ps)});");
            return;
        }
        // What the LibraryImport generator emits for a blittable signature: with SetLastError = true, clear errno,
        // call, capture errno before anything else can change it; without, the call alone.
        bool isVoid = ret.Equals(CsType.Void);
        string call = $"__PInvoke({string.Join(", ", ps.Select(p => p.Name))});";
        w.Open($"{visibility} static {ret.Code} {name}({Params(ps)})");
        if (!f.SetsError)
        {
            w.Line(isVoid ? call : "return " + call);
        }
        else
        {
            if (!isVoid)
            {
                w.Line($"{ret.Code} __retVal;");
            }
            w.Line($"{Marshal}.SetLastSystemError(0);");
            w.Line(isVoid ? call : "__retVal = " + call);
            w.Line($"{Marshal}.SetLastPInvokeError({Marshal}.GetLastSystemError());");
            if (!isVoid)
            {
                w.Line("return __retVal;");
            }
        }
        w.Line();
        string cconv = f.CallConv == "Stdcall" ? ", CallingConvention = global::System.Runtime.InteropServices.CallingConvention.StdCall" : "";
        w.Line($"[global::System.Runtime.InteropServices.DllImport({lib}, EntryPoint = {entry}, ExactSpelling = true{cconv})]");
        if (f.IsFast)
        {
            w.Line("[global::System.Runtime.InteropServices.SuppressGCTransition]");
        }
        w.Line($"static extern {ret.Code} __PInvoke({Params(ps)});");
        w.Close();
    }
}
