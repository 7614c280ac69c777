using System;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Syscalls.Windows;
using Xunit;
using static Syscalls.Windows.Ws2_32;

namespace Syscalls.Bindings.Tests.Calls;

/// <summary>
/// The span and in/ref overloads of Winsock and IOCP on real loopback sockets and a real completion port (run under
/// Wine): the addresses, option values, WSABUF arrays and completion entries cross without a pointer or a cast.
/// </summary>
// unsafe: WSAStartup takes a WSADATA*, a WSABUF holds a pointer to a pinned buffer, and WSASend/WSARecv report through
// uint*; every one points at a local or pinned object that outlives the call. The overloads under test pin the rest.
[SupportedOSPlatform("windows")]
public sealed unsafe class WinsockOverloadCallTests
{
    /// <summary>WSAStartup for one test (skipping off Windows); disposing it is the matching WSACleanup.</summary>
    private sealed class Winsock : IDisposable
    {
        public Winsock()
        {
            WSADATA data;
            Assert.Equal(0, WSAStartup(0x0202, &data));
        }

        public void Dispose() => WSACleanup();
    }

    private static Winsock Start()
    {
        Assert.SkipUnless(OperatingSystem.IsWindows(), "Winsock calls run on Windows (or Wine)");
        return new Winsock();
    }

    private static nuint Invalid => INVALID_SOCKET;

    private static sockaddr_in Loopback()
    {
        var addr = new sockaddr_in { sin_family = AF_INET };
        addr.sin_addr.S_un.S_addr = Native.Htonl(0x7F000001);
        return addr;
    }

    private static nuint Socket(int type, int protocol)
    {
        nuint s = socket(AF_INET, type, protocol);
        Assert.True(s != Invalid, $"socket: WSA error {Marshal.GetLastPInvokeError()}");
        return s;
    }

    private static void Ok(int result, string call) =>
        Assert.True(result != SOCKET_ERROR, $"{call}: WSA error {Marshal.GetLastPInvokeError()}");

    [Fact]
    [CallsOverload("Ws2_32.setsockopt", "Ws2_32.getsockopt", "Ws2_32.bind", "Ws2_32.getsockname", "Ws2_32.connect",
        "Ws2_32.accept", "Ws2_32.getpeername", "Ws2_32.send", "Ws2_32.WSAPoll", "Ws2_32.recv", "Ws2_32.WSASend", "Ws2_32.WSARecv")]
    public void TcpOverloads_LoopbackConnection_BytesAndAddressesArrive()
    {
        using var winsock = Start();
        nuint listener = Socket(SOCK_STREAM, IPPROTO_TCP), client = Invalid, server = Invalid;
        try
        {
            Ok(setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, 1), "setsockopt");
            var addr = Loopback();
            Ok(bind(listener, in addr), "bind");
            Ok(listen(listener, 4), "listen");
            var bound = new sockaddr_in();
            Ok(getsockname(listener, ref bound), "getsockname");
            Assert.NotEqual(0, bound.sin_port);

            client = Socket(SOCK_STREAM, IPPROTO_TCP);
            Ok(connect(client, in bound), "connect");
            var peer = new sockaddr_in();
            server = accept(listener, ref peer);
            Assert.True(server != Invalid, $"accept: WSA error {Marshal.GetLastPInvokeError()}");
            var seen = new sockaddr_in();
            Ok(getpeername(client, ref seen), "getpeername");
            Assert.Equal(bound.sin_port, seen.sin_port);
            int type = 0;
            Ok(getsockopt(server, SOL_SOCKET, SO_TYPE, ref type), "getsockopt");
            Assert.Equal(SOCK_STREAM, type);

            Assert.Equal(5, send(client, "hello"u8, 0));
            Span<WSAPOLLFD> fds = [new WSAPOLLFD { fd = server, events = POLLRDNORM }];
            Assert.Equal(1, WSAPoll(fds, 5000));
            var buffer = new byte[16];
            int n = recv(server, buffer, 0);
            Assert.Equal("hello"u8.ToArray(), buffer.AsSpan(0, n).ToArray());

            byte[] head = "gather-"u8.ToArray(), tail = "scatter"u8.ToArray(), into = new byte[14];
            fixed (byte* h = head, t = tail, i = into)
            {
                ReadOnlySpan<WSABUF> output = [new WSABUF { buf = h, len = 7 }, new WSABUF { buf = t, len = 7 }];
                uint sent = 0, received = 0, flags = 0;
                Ok(WSASend(client, output, &sent, 0, null, null), "WSASend");
                Assert.Equal(14u, sent);
                // A stream may deliver the 14 bytes in pieces: receive the rest until all arrived.
                for (uint got = 0; got < 14; got += received)
                {
                    ReadOnlySpan<WSABUF> rest = [new WSABUF { buf = i + got, len = 14 - got }];
                    Ok(WSARecv(server, rest, &received, &flags, null, null), "WSARecv");
                    Assert.NotEqual(0u, received);
                }
            }
            Assert.Equal("gather-scatter"u8.ToArray(), into);
        }
        finally
        {
            closesocket(server);
            closesocket(client);
            closesocket(listener);
        }
    }

    [Fact]
    [CallsOverload("Ws2_32.sendto", "Ws2_32.recvfrom", "Ws2_32.WSASendTo", "Ws2_32.WSARecvFrom")]
    public void UdpOverloads_SendtoRecvfrom_DatagramAndSenderArrive()
    {
        using var winsock = Start();
        nuint a = Socket(SOCK_DGRAM, IPPROTO_UDP), b = Socket(SOCK_DGRAM, IPPROTO_UDP);
        try
        {
            var any = Loopback();
            Ok(bind(a, in any), "bind");
            Ok(bind(b, in any), "bind");
            sockaddr_in at = default, bAt = default, from = default;
            Ok(getsockname(a, ref at), "getsockname");
            Ok(getsockname(b, ref bAt), "getsockname");

            Assert.Equal(4, sendto(b, "ping"u8, 0, in at));
            var buffer = new byte[8];
            int n = recvfrom(a, buffer, 0, ref from);
            Assert.Equal("ping"u8.ToArray(), buffer.AsSpan(0, n).ToArray());
            Assert.Equal(bAt.sin_port, from.sin_port);

            byte[] pong = "pong"u8.ToArray(), into = new byte[8];
            fixed (byte* p = pong, i = into)
            {
                uint sent = 0, received = 0, flags = 0;
                int fromLen = sizeof(sockaddr_in);
                sockaddr_in sender;
                Ok(WSASendTo(b, [new WSABUF { buf = p, len = 4 }], &sent, 0, (sockaddr*)&at, sizeof(sockaddr_in), null, null), "WSASendTo");
                Ok(WSARecvFrom(a, [new WSABUF { buf = i, len = 8 }], &received, &flags, (sockaddr*)&sender, &fromLen, null, null), "WSARecvFrom");
                Assert.Equal(4u, received);
                Assert.Equal(bAt.sin_port, sender.sin_port);
            }
            Assert.Equal("pong"u8.ToArray(), into[..4]);
        }
        finally
        {
            closesocket(b);
            closesocket(a);
        }
    }

    [Fact]
    [CallsOverload("Kernel32.GetQueuedCompletionStatusEx")]
    public void CompletionPortOverload_PostedPackets_DequeuedIntoTheSpan()
    {
        Assert.SkipUnless(OperatingSystem.IsWindows(), "I/O completion ports are Windows (or Wine)");
        nint port = Kernel32.CreateIoCompletionPort(Kernel32.INVALID_HANDLE_VALUE, 0, 0, 1);
        Assert.NotEqual(0, port);
        try
        {
            Assert.NotEqual(0, Kernel32.PostQueuedCompletionStatus(port, 7, 0x1234, null));
            Assert.NotEqual(0, Kernel32.PostQueuedCompletionStatus(port, 9, 0x5678, null));
            Span<OVERLAPPED_ENTRY> entries = stackalloc OVERLAPPED_ENTRY[4];
            uint removed = 0;
            Assert.NotEqual(0, Kernel32.GetQueuedCompletionStatusEx(port, entries, &removed, 1000, 0));
            Assert.Equal(2u, removed);
            Assert.Equal((nuint)0x1234, entries[0].lpCompletionKey);
            Assert.Equal(9u, entries[1].dwNumberOfBytesTransferred);
        }
        finally
        {
            Kernel32.CloseHandle(port);
        }
    }
}
