using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace Syscalls.Runtime.Tests.Infrastructure;

/// <summary>SIGPIPE made live again in a child. CoreCLR sets SIGPIPE to SIG_IGN at startup, so in the test process a
/// write to a closed peer never kills anyone, with or without MSG_NOSIGNAL; in a child started with
/// <see cref="Variable"/> the SIGPIPE tests restore the default action (terminate) first, and only the flag keeps the
/// child alive.</summary>
public static class Sigpipe
{
    public const string Variable = "SYSCALLS_TEST_SIGPIPE_DEFAULT";

    /// <summary>The control verb: the child writes to a reset peer with write(2), which has no MSG_NOSIGNAL.</summary>
    public const string ControlVerb = "--child-raw-write-to-reset-peer";

    private const int SIGPIPE = 13;   // Linux (every architecture the tests run on)

    /// <summary>Exit code of a child that SIGPIPE terminated, as .NET reports it (128 + the signal).</summary>
    public const int KilledExitCode = 128 + SIGPIPE;

    /// <summary>Restores SIGPIPE's default action when this process is a child started with <see cref="Variable"/>.</summary>
    public static void RestoreDefaultIfAsked()
    {
        if (Environment.GetEnvironmentVariable(Variable) != "1" || !OperatingSystem.IsLinux())
            return;
        if (signal(SIGPIPE, 0) == -1)   // SIG_DFL
            throw new InvalidOperationException("signal(SIGPIPE, SIG_DFL) failed");
    }

    /// <summary>The control: a write without MSG_NOSIGNAL to a peer that reset; returns only if SIGPIPE did not kill
    /// this process.</summary>
    public static int RunControl()
    {
        RestoreDefaultIfAsked();
        using var pair = new Pair();
        Peers.Reset(pair.Client);
        Thread.Sleep(50);
        var chunk = new byte[4096];
        for (int i = 0; i < 100; i++)
            write(pair.Server.Descriptor, chunk, (nuint)chunk.Length);
        Console.WriteLine("still alive after writing to a reset peer");
        return 0;
    }

    [DllImport("libc.so.6", SetLastError = true)]
    private static extern nint signal(int signum, nint handler);

    [DllImport("libc.so.6", SetLastError = true)]
    private static extern nint write(int fd, byte[] buffer, nuint count);
}
