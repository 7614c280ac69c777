using System;
using System.Net.Sockets;
using System.Runtime.Versioning;
using Syscalls.Runtime.Backends.Windows;
using Syscalls.Windows;
using static Syscalls.Windows.Ws2_32;

namespace Syscalls.Runtime.Backends.Iocp;

/// <summary>The mswsock extension functions AcceptEx, ConnectEx and GetAcceptExSockaddrs. They are not exports of
/// ws2_32: WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER) with their WSAID_* guid hands out the provider's pointers,
/// which are called through the LPFN_* signatures of mswsock.h. Loaded once per process from an AF_INET TCP socket;
/// the Microsoft provider serves IPv4 and IPv6 TCP with the same functions.</summary>
[SupportedOSPlatform("windows")]
internal static class Mswsock
{
    private static readonly object s_gate = new();
    private static bool s_loaded;
    private static OsError s_error;

    // LPFN_ACCEPTEX: BOOL (SOCKET sListenSocket, SOCKET sAcceptSocket, PVOID lpOutputBuffer, DWORD
    // dwReceiveDataLength, DWORD dwLocalAddressLength, DWORD dwRemoteAddressLength, LPDWORD lpdwBytesReceived,
    // LPOVERLAPPED lpOverlapped). x64 Windows has one calling convention, so PASCAL changes nothing.
    // reason: the provider's pointer from WSAIoctl; valid while Winsock stays started, i.e. until exit (no WSACleanup)
    internal static unsafe delegate* unmanaged<nuint, nuint, void*, uint, uint, uint, uint*, OVERLAPPED*, int> AcceptEx;

    // LPFN_CONNECTEX: BOOL (SOCKET s, const struct sockaddr *name, int namelen, PVOID lpSendBuffer, DWORD
    // dwSendDataLength, LPDWORD lpdwBytesSent, LPOVERLAPPED lpOverlapped).
    // reason: the provider's pointer from WSAIoctl; valid while Winsock stays started, i.e. until exit (no WSACleanup)
    internal static unsafe delegate* unmanaged<nuint, sockaddr*, int, void*, uint, uint*, OVERLAPPED*, int> ConnectEx;

    // LPFN_GETACCEPTEXSOCKADDRS: VOID (PVOID lpOutputBuffer, DWORD dwReceiveDataLength, DWORD dwLocalAddressLength,
    // DWORD dwRemoteAddressLength, struct sockaddr **LocalSockaddr, LPINT LocalSockaddrLength, struct sockaddr
    // **RemoteSockaddr, LPINT RemoteSockaddrLength).
    // reason: the provider's pointer from WSAIoctl; valid while Winsock stays started, i.e. until exit (no WSACleanup)
    internal static unsafe delegate* unmanaged<void*, uint, uint, uint, sockaddr**, int*, sockaddr**, int*, void> GetAcceptExSockaddrs;

    /// <summary>Loads the three pointers once; later calls return the first outcome.</summary>
    internal static Result Load()
    {
        lock (s_gate)
        {
            if (s_loaded)
                return s_error.IsNone ? Result.Success : s_error;
            s_error = LoadCore();
            s_loaded = true;
            return s_error.IsNone ? Result.Success : s_error;
        }
    }

    // reason: only casts the nint that WSAIoctl returned for each WSAID to its LPFN_* signature
    private static unsafe OsError LoadCore()
    {
        Result<nuint> created = Winsock.Socket(AddressFamily.InterNetwork, SocketType.Stream);
        if (!created.TryGetValue(out nuint s))
            return created.Error;
        try
        {
            Result<nint> accept = Get(s, WSAID_ACCEPTEX);
            Result<nint> connect = Get(s, WSAID_CONNECTEX);
            Result<nint> sockaddrs = Get(s, WSAID_GETACCEPTEXSOCKADDRS);
            if (!accept.IsSuccess)
                return accept.Error;
            if (!connect.IsSuccess)
                return connect.Error;
            if (!sockaddrs.IsSuccess)
                return sockaddrs.Error;
            AcceptEx = (delegate* unmanaged<nuint, nuint, void*, uint, uint, uint, uint*, OVERLAPPED*, int>)accept.Value;
            ConnectEx = (delegate* unmanaged<nuint, sockaddr*, int, void*, uint, uint*, OVERLAPPED*, int>)connect.Value;
            GetAcceptExSockaddrs = (delegate* unmanaged<void*, uint, uint, uint, sockaddr**, int*, sockaddr**, int*, void>)sockaddrs.Value;
            return default;
        }
        finally
        {
            closesocket(s);
        }
    }

    // reason: the guid, the output pointer and the byte count are stack locals that outlive this synchronous call
    private static unsafe Result<nint> Get(nuint s, Guid id)
    {
        nint fn = 0;
        uint bytes = 0;
        int rc = WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &id, (uint)sizeof(Guid), &fn, (uint)sizeof(nint), &bytes, null, null);
        if (rc == SOCKET_ERROR)
            return WinError.Last();
        return fn != 0 ? fn : OsError.FromKind(ErrorKind.NotSupported);
    }
}
