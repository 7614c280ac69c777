using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using Syscalls.Runtime.Tests.Infrastructure;
using Xunit;
using Xunit.v3;

[assembly: AssemblyFixture(typeof(DescriptorLeakCheck))]
[assembly: DescriptorLeakCheck.Watch]

namespace Syscalls.Runtime.Tests.Infrastructure;

/// <summary>The leak check of the whole suite: the process must hold no more descriptors (Windows: handles) after the
/// last test than before the first, and a leak fails the run naming the test classes that could have made it.</summary>
/// <remarks>
/// <para>Test classes run in parallel, so a class cannot be judged by the count before and after it alone. Instead
/// every test notes which descriptors appeared while it ran (on Linux each is known by its number and what it points
/// at: <c>socket:[inode]</c>, <c>anon_inode:[eventfd]</c>, ...); at the end of the run, after collections and
/// finalizers have closed whatever was merely dropped, every descriptor still open that was not open at the start is
/// a leak, and the classes that saw it appear are named (one class, unless others ran beside it).</para>
/// <para>Elsewhere only a count exists (/dev/fd on macOS, GetProcessHandleCount on Windows): the run fails when the
/// count grew, naming the classes whose tests ended with more than they started with. Under Wine 8 the check is off
/// (it says so on the console): its GetProcessHandleCount is a stub that reports 0 handles.</para>
/// </remarks>
public sealed class DescriptorLeakCheck : IDisposable
{
    private static readonly object s_gate = new();
    private static readonly Dictionary<string, HashSet<string>> s_appearedIn = new();   // descriptor -> tests
    private static readonly Dictionary<string, int> s_growthOf = new();                 // class -> count growth
    private static readonly Dictionary<string, Snapshot> s_before = new();   // test id -> before it ran
    private readonly Snapshot _baseline;

    public DescriptorLeakCheck()
    {
        WarmUp();
        Settle();
        _baseline = Snapshot.Take();
        Active = Descriptors.Available;
        if (!Active)
            Console.WriteLine($"descriptor leak check off: {Descriptors.Unavailable}");
    }

    internal static bool Active { get; private set; }

    public void Dispose()
    {
        if (!Active)
            return;
        // Whatever a test dropped without disposing is closed by its finalizer: a leak is what outlives that.
        Settle();
        Snapshot end = Snapshot.Take();
        string? report = end.Named is not null && _baseline.Named is not null
            ? ReportByIdentity(end.Named.Except(_baseline.Named).ToList())
            : ReportByCount(end.Count - _baseline.Count);
        if (report is not null)
            throw new InvalidOperationException(report);
    }

    private static string? ReportByIdentity(List<string> leaked)
    {
        if (leaked.Count == 0)
            return null;
        var lines = new List<string> { $"{leaked.Count} descriptor(s) open at the end of the run that were not at its start:" };
        lock (s_gate)
        {
            foreach (string d in leaked.Order(StringComparer.Ordinal))
            {
                string tests = s_appearedIn.TryGetValue(d, out HashSet<string>? t)
                    ? string.Join("; ", t.Order(StringComparer.Ordinal))
                    : "no test (opened between tests)";
                lines.Add($"  {d}{Describe(d)} appeared while these ran: {tests}");
            }
        }

        return string.Join('\n', lines);
    }

    /// <summary>For a TCP socket, its addresses and state from /proc/net/tcp (the inode links the two).</summary>
    private static string Describe(string descriptor)
    {
        int open = descriptor.IndexOf("socket:[", StringComparison.Ordinal);
        if (open < 0)
            return "";
        string inode = descriptor[(open + 8)..^1];
        foreach (string table in new[] { "/proc/self/net/tcp", "/proc/self/net/tcp6" })
        {
            if (!File.Exists(table))
                continue;
            foreach (string line in File.ReadLines(table).Skip(1))
            {
                string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length > 9 && f[9] == inode)
                    return $" (tcp {Endpoint(f[1])} -> {Endpoint(f[2])}, state {f[3]})";
            }
        }

        return "";
    }

    /// <summary>"0100007F:1F90" (little-endian IPv4 address, port) as "127.0.0.1:8080".</summary>
    private static string Endpoint(string hex)
    {
        string[] parts = hex.Split(':');
        int port = Convert.ToInt32(parts[1], 16);
        if (parts[0].Length != 8)
            return $"[{parts[0]}]:{port}";
        uint a = Convert.ToUInt32(parts[0], 16);
        return $"{a & 0xFF}.{(a >> 8) & 0xFF}.{(a >> 16) & 0xFF}.{a >> 24}:{port}";
    }

    private static string? ReportByCount(int growth)
    {
        if (growth <= 0)
            return null;
        lock (s_gate)
        {
            string classes = string.Join(", ", s_growthOf.Where(p => p.Value > 0).OrderByDescending(p => p.Value)
                .Select(p => $"{p.Key} (+{p.Value})"));
            return $"the process holds {growth} more descriptors/handles than before the first test; classes that ended "
                   + $"with more than they started with: {(classes.Length == 0 ? "none" : classes)}";
        }
    }

    /// <summary>What the runtime opens once and keeps (the sockets engine of System.Net, the thread pool's own
    /// descriptors) is opened before the baseline, so it does not count as any test's.</summary>
    private static void WarmUp()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.ConnectAsync(listener.LocalEndPoint!).GetAwaiter().GetResult();
        using Socket server = listener.AcceptAsync().GetAwaiter().GetResult();
        client.SendAsync(new byte[1], SocketFlags.None).GetAwaiter().GetResult();
        server.ReceiveAsync(new byte[1], SocketFlags.None).GetAwaiter().GetResult();
        using IPoller poller = BackendSelector.CreatePoller();
        BackendSelector.Probe();
        // The runtime on linux-arm64 (seen under qemu) opens a pipe it keeps, both ends, the first time an exception
        // is thrown (it writes through it to probe memory); the first skipped test would otherwise be blamed for it.
        try
        {
            Throw();
        }
        catch (InvalidOperationException)
        {
        }
        // Console dups the standard streams on first use, and keeps the copies.
        Console.Out.Flush();
        Console.Error.Flush();
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void Throw() => throw new InvalidOperationException("warm-up");

    private static void Settle()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }

    /// <summary>The descriptors open at one moment: named where the OS can tell (Linux), else only counted.</summary>
    private sealed class Snapshot
    {
        private Snapshot(HashSet<string>? named, int count)
        {
            Named = named;
            Count = count;
        }

        public HashSet<string>? Named { get; }

        public int Count { get; }

        public static Snapshot Take()
        {
            if (!OperatingSystem.IsLinux())
                return new Snapshot(null, Descriptors.Available ? Descriptors.Count() : 0);
            var named = new HashSet<string>(StringComparer.Ordinal);
            foreach (string path in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
            {
                try
                {
                    // Sockets, pipes and the kernel objects of the backends (eventfd, epoll, io_uring): what tests
                    // and the runtime open. Files are left out: the runtime maps assemblies as they load.
                    string? target = new FileInfo(path).LinkTarget;
                    if (target is not null && (target.StartsWith("socket:", StringComparison.Ordinal)
                                               || target.StartsWith("pipe:", StringComparison.Ordinal)
                                               || target.StartsWith("anon_inode:", StringComparison.Ordinal)))
                        named.Add($"{Path.GetFileName(path)} -> {target}");
                }
                catch (IOException)
                {
                    // Closed between the listing and the read: it was not open at this moment after all.
                }
            }

            return new Snapshot(named, named.Count);
        }
    }

    /// <summary>Notes, for every test, what appeared while it ran.</summary>
    [AttributeUsage(AttributeTargets.Assembly)]
    public sealed class WatchAttribute : BeforeAfterTestAttribute
    {
        public override void Before(MethodInfo methodUnderTest, IXunitTest test)
        {
            if (!Active)
                return;
            Snapshot before = Snapshot.Take();
            lock (s_gate)
                s_before[test.UniqueID] = before;
        }

        public override void After(MethodInfo methodUnderTest, IXunitTest test)
        {
            if (!Active)
                return;
            Snapshot after = Snapshot.Take();
            string name = methodUnderTest.DeclaringType?.FullName ?? "?";
            lock (s_gate)
            {
                if (!s_before.Remove(test.UniqueID, out Snapshot? before))
                    return;
                if (after.Named is not null && before.Named is not null)
                {
                    foreach (string d in after.Named.Except(before.Named))
                    {
                        if (!s_appearedIn.TryGetValue(d, out HashSet<string>? tests))
                            s_appearedIn[d] = tests = new HashSet<string>(StringComparer.Ordinal);
                        tests.Add(test.TestDisplayName.StartsWith(name, StringComparison.Ordinal) ? test.TestDisplayName : $"{name}: {test.TestDisplayName}");
                    }
                }

                s_growthOf[name] = s_growthOf.GetValueOrDefault(name) + after.Count - before.Count;
            }
        }
    }
}
