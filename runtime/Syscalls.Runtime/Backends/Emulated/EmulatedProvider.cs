using System;
using System.Collections.Generic;
using Syscalls.Runtime.Backends.Emulated;

namespace Syscalls.Runtime
{
    public static partial class BackendSelector
    {
        static partial void GetEmulatedProvider(ref IRingProvider? provider)
        {
            if (OperatingSystem.IsLinux() || OperatingSystem.IsWindows() || OperatingSystem.IsMacOS())
                provider = EmulatedProvider.Instance;
        }
    }
}

namespace Syscalls.Runtime.Backends.Emulated
{
    /// <summary>The emulated ring as the selector sees it: available wherever a poller is (the selector's default poller:
    /// epoll, else poll, SYSCALLS_BACKEND=poll picking poll; WSAPoll on Windows; kqueue on macOS), with every feature of
    /// the contract.</summary>
    internal sealed class EmulatedProvider : IRingProvider
    {
        internal static readonly EmulatedProvider Instance = new();

        public BackendKind Kind => BackendKind.Emulated;

        public IReadOnlyList<BackendProbe> Probe(RingOptions options)
        {
            try
            {
                using IPoller poller = BackendSelector.CreatePoller();
                return [new BackendProbe(BackendKind.Emulated, "poller", true, default, poller.Name)];
            }
            catch (OsException e)
            {
                return [new BackendProbe(BackendKind.Emulated, "poller", false, e.Error, "no poller")];
            }
        }

        public Result<IRing> Create(RingOptions options)
        {
            try
            {
                return new Result<IRing>(EmulatedRing.Create(options, BackendSelector.CreatePoller()));
            }
            catch (OsException e)
            {
                return e.Error;
            }
        }
    }
}
