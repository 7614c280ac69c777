using System;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Syscalls.Windows;
using Xunit;

namespace Syscalls.Bindings.Tests.Calls;

/// <summary>
/// The Windows error slot through the bindings (runs under Wine): a failing Winsock call leaves its error where
/// <c>Marshal.GetLastPInvokeError</c>, <c>WSAGetLastError</c> and <c>GetLastError</c> all read it. The two readers are
/// bound without SetLastError (their families' <c>noerror</c> line): with it, the stub would clear the slot first and
/// they would always return 0.
/// </summary>
// unsafe: WSAStartup takes a pointer to a local WSADATA that outlives the call.
[SupportedOSPlatform("windows")]
public sealed unsafe class WinsockCallTests
{
    [Fact]
    public void ErrorSlot_FailedCloseSocket_ReadByAllThreeReaders()
    {
        Assert.SkipUnless(OperatingSystem.IsWindows(), "Winsock calls run on Windows (or Wine)");
        WSADATA data;
        Assert.Equal(0, Ws2_32.WSAStartup(0x0202, &data));
        try
        {
            Assert.Equal(Ws2_32.SOCKET_ERROR, Ws2_32.closesocket(Ws2_32.INVALID_SOCKET));
            Assert.Equal(Ws2_32.WSAENOTSOCK, Marshal.GetLastPInvokeError());
            Assert.Equal(Ws2_32.WSAENOTSOCK, Ws2_32.WSAGetLastError());
            Assert.Equal((uint)Ws2_32.WSAENOTSOCK, Kernel32.GetLastError());
            // The readers did not disturb the captured value either.
            Assert.Equal(Ws2_32.WSAENOTSOCK, Marshal.GetLastPInvokeError());
        }
        finally
        {
            Ws2_32.WSACleanup();
        }
    }

    [Fact]
    public void ErrorSlot_FailedCloseHandle_GetLastErrorReadsIt()
    {
        Assert.SkipUnless(OperatingSystem.IsWindows(), "kernel32 calls run on Windows (or Wine)");
        Assert.Equal(0, Kernel32.CloseHandle(0x1234)); // no such handle
        Assert.Equal(Kernel32.ERROR_INVALID_HANDLE, Marshal.GetLastPInvokeError());
        Assert.Equal((uint)Kernel32.ERROR_INVALID_HANDLE, Kernel32.GetLastError());
    }
}
