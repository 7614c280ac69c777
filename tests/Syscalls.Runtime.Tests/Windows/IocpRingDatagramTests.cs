using System.Net.Sockets;
using Syscalls.Runtime.Backends.Iocp;
using Syscalls.Runtime.Tests.Ring;
using Xunit;
using static Syscalls.Runtime.Tests.Windows.WindowsTestSupport;

namespace Syscalls.Runtime.Tests.Windows;

/// <summary>WSARecvFrom / WSASendTo through the IOCP ring: the checks every ring passes, with the IOCP ring asked to
/// skip the port on success and not (datagram sockets never skip it: a cut datagram's WSAEMSGSIZE is a warning whose
/// packet still comes).</summary>
public sealed class IocpRingDatagramTests
{
    private static IocpRing Create(bool skipOnSuccess)
    {
        RequireWindows();
        return IocpRing.TryCreate(new RingOptions { Entries = 64 }, skipOnSuccess).Value;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void IocpRing_SendToAndReceiveFrom_CarryWholeDatagramsAndNameTheSender(bool skipOnSuccess)
    {
        using IocpRing ring = Create(skipOnSuccess);
        RingDatagramChecks.SendToAndReceiveFrom(ring, AddressFamily.InterNetwork);
        RingDatagramChecks.SendToAndReceiveFrom(ring, AddressFamily.InterNetworkV6);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void IocpRing_ReceiveFromIntoSmallerBuffer_ReportsTruncationWithTheBufferLength(bool skipOnSuccess)
    {
        using IocpRing ring = Create(skipOnSuccess);
        RingDatagramChecks.Truncated(ring, realLength: false);   // Winsock cannot tell a cut datagram's length
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void IocpRing_CancelPendingReceiveFrom_CompletesCanceledAndTheNextDatagramArrives(bool skipOnSuccess)
    {
        using IocpRing ring = Create(skipOnSuccess);
        RingDatagramChecks.CancelReceive(ring);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void IocpRing_SendToDefaultEndpoint_SendsToTheConnectedPeer(bool skipOnSuccess)
    {
        using IocpRing ring = Create(skipOnSuccess);
        RingDatagramChecks.SendToConnectedPeer(ring);
    }
}
