using System;
using System.Collections.Generic;
using System.Runtime.Versioning;
using Syscalls.Runtime.Backends.Iocp;

namespace Syscalls.Runtime
{
    public static partial class BackendSelector
    {
        static partial void GetIocpProvider(ref IRingProvider? provider)
        {
            if (OperatingSystem.IsWindows())
                provider = IocpProvider.Instance;
        }
    }
}

namespace Syscalls.Runtime.Backends.Iocp
{
    /// <summary>The IOCP ring as the selector sees it: port creation and the mswsock extension functions are probed,
    /// and the multishot features it lacks are reported as missing when asked for.</summary>
    [SupportedOSPlatform("windows")]
    internal sealed class IocpProvider : IRingProvider
    {
        internal static readonly IocpProvider Instance = new();

        public BackendKind Kind => BackendKind.Iocp;

        public IReadOnlyList<BackendProbe> Probe(RingOptions options) => IocpRing.Probe(options, BackendKind.Iocp);

        public Result<IRing> Create(RingOptions options)
        {
            Result<IocpRing> ring = IocpRing.TryCreate(options);
            return ring.TryGetValue(out IocpRing? r) ? new Result<IRing>(r) : ring.Error;
        }
    }
}
