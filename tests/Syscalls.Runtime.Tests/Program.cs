using System;
using System.Threading.Tasks;
using Syscalls.Runtime.Tests.Infrastructure;

namespace Syscalls.Runtime.Tests;

/// <summary>Entry point: <c>--child-server ...</c> runs an echo server in this process (the tests start it as a child
/// so it can carry LD_PRELOAD, its own fd limit, or 10,000 descriptors of its own), <c>--child-ring</c> creates the
/// ring the selector picks under this process's environment, <c>--child-raw-write-to-reset-peer</c> is the SIGPIPE
/// control (see <see cref="Sigpipe"/>); anything else runs the tests.</summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == ChildServer.Verb)
            return ChildServer.Run(args);
        if (args.Length > 0 && args[0] == ChildServer.RingVerb)
            return ChildServer.RunRing();
        if (args.Length > 0 && args[0] == Sigpipe.ControlVerb)
            return Sigpipe.RunControl();
        if (args.Length > 0 && args[0] == ChildServer.AsyncVerb)
            return ChildServer.RunAsync(args);
        return await Xunit.Runner.InProc.SystemConsole.ConsoleRunner.Run(args);
    }
}
