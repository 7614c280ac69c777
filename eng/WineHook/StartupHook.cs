using System;
using System.Runtime.InteropServices;
using System.Threading;

/// <summary>Repairs the SEH frame list Wine 8 leaves behind when CoreCLR catches an exception. Loaded by eng/wine.sh
/// into every test executable it runs (DOTNET_STARTUP_HOOKS); inert outside Wine.</summary>
/// <remarks>
/// <para>Wine 8's x86-64 dispatcher pushes a frame on TEB->ExceptionList around each language handler it calls
/// (call_handler in dlls/ntdll/signal_x86_64.c) and pops it when the handler returns. CoreCLR's handler does not
/// return when it catches: it resumes the catching frame directly, so the pushed frame stays at the head of the list,
/// in dead stack. The next exception Wine dispatches on that thread (the next failing or skipped xunit test: reflection
/// invoke puts a native frame between the test and xunit's catch) calls that frame's garbage "handler", faults,
/// recurses until "virtual_setup_exception stack overflow", and the process hangs.</para>
/// <para>Every managed throw raises FirstChanceException on the throwing thread before Wine dispatches anything, and a
/// thread's first exception finds the list clean (leaked frames only come from caught exceptions). So the hook records
/// the head at a thread's first exception and, at each later one, drops a deeper head back to it: while managed code
/// runs, the only live Wine frames are those of the thread's start, far up the stack.</para>
/// </remarks>
internal static unsafe class StartupHook
{
    private const nint EndOfList = -1;

    [ThreadStatic]
    private static nint t_cleanHead;

    [ThreadStatic]
    private static bool t_recorded;

    [ThreadStatic]
    private static nint* t_tib;

    // NTSTATUS NtQueryInformationThread(HANDLE, THREADINFOCLASS, PVOID, ULONG, PULONG): x64 ntdll exports no
    // NtCurrentTeb; ThreadBasicInformation (0) carries the TEB address.
    private static delegate* unmanaged<nint, int, byte*, uint, uint*, int> s_queryThread;

    public static void Initialize()
    {
        if (!OperatingSystem.IsWindows() || !NativeLibrary.TryLoad("ntdll.dll", out nint ntdll))
            return;
        if (!NativeLibrary.TryGetExport(ntdll, "wine_get_version", out _)
            || !NativeLibrary.TryGetExport(ntdll, "NtQueryInformationThread", out nint query))
            return;
        s_queryThread = (delegate* unmanaged<nint, int, byte*, uint, uint*, int>)query;
        AppDomain.CurrentDomain.FirstChanceException += (_, _) => Repair();
        // CoreCLR prints an unhandled exception itself, but under Wine that print has gone missing before the process
        // hung (a CI run showed only Wine's "Unhandled exception 0xe0434352 ... starting debugger"): say it here first.
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
            Console.Error.WriteLine($"wine hook: unhandled exception on thread {Environment.CurrentManagedThreadId} "
                + $"('{Thread.CurrentThread.Name}'): {e.ExceptionObject}");
    }

    private static nint* Tib()
    {
        if (t_tib == null)
        {
            byte* info = stackalloc byte[48];   // THREAD_BASIC_INFORMATION: TebBaseAddress at offset 8
            if (s_queryThread(-2, 0, info, 48, null) == 0)   // -2: the current-thread pseudo handle
                t_tib = *(nint**)(info + 8);
        }

        return t_tib;
    }

    private static void Repair()
    {
        nint* tib = Tib();   // NT_TIB.ExceptionList is the TEB's first field
        if (tib == null)
            return;
        nint head = tib[0];
        if (!t_recorded)
        {
            t_cleanHead = head;
            t_recorded = true;
            return;
        }

        // Frames are pushed deeper (lower addresses) as calls nest: a head below the clean one is a leaked frame.
        if (head != t_cleanHead && head != EndOfList && (t_cleanHead == EndOfList || (nuint)head < (nuint)t_cleanHead))
            tib[0] = t_cleanHead;
    }
}
