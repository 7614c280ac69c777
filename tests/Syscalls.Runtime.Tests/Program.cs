using System;
using System.Threading.Tasks;
using Syscalls.Runtime.Tests.Infrastructure;

namespace Syscalls.Runtime.Tests;

/// <summary>Entry point: <c>--child-server ...</c> runs an echo server in this process (the tests start it as a child
/// so it can carry LD_PRELOAD, its own fd limit, or 10,000 descriptors of its own); anything else runs the tests.</summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == ChildServer.Verb)
            return ChildServer.Run(args);
        if (args.Length > 0 && args[0] == ChildServer.AsyncVerb)
            return ChildServer.RunAsync(args);
        return await Xunit.Runner.InProc.SystemConsole.ConsoleRunner.Run(args);
    }
}
