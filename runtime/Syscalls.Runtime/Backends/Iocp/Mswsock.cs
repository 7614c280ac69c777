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

    // The LPFN_* types are generated from mswsock.h's typedefs and proven against them (bindings/API.md). The
    // pointers come from the provider through WSAIoctl and stay valid while Winsock is started, i.e. until exit (no
    // WSACleanup); x64 Windows has one calling convention, so the typedefs' PASCAL changes nothing.
    internal static LPFN_ACCEPTEX AcceptEx;
    internal static LPFN_CONNECTEX ConnectEx;
    internal static LPFN_GETACCEPTEXSOCKADDRS GetAcceptExSockaddrs;

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
            AcceptEx = new LPFN_ACCEPTEX(accept.Value);
            ConnectEx = new LPFN_CONNECTEX(connect.Value);
            GetAcceptExSockaddrs = new LPFN_GETACCEPTEXSOCKADDRS(sockaddrs.Value);
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
