using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;
using Syscalls.Windows;
using Xunit;
using static Syscalls.Windows.Ws2_32;

namespace Syscalls.Bindings.Tests.Calls;

/// <summary>
/// The Winsock catalogue beyond plain sockets, run under Wine: GetAddrInfoW, WSASendMsg with WSARecvMsg loaded through
/// WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER, WSAID_WSARECVMSG), and TransmitFile both as mswsock's export and
/// through the WSAID_TRANSMITFILE pointer.
/// </summary>
// unsafe: the bindings take pointers; every one here is to a local, stackalloc or pinned array that outlives the call.
[SupportedOSPlatform("windows")]
public sealed unsafe class WinsockExtensionCallTests : IDisposable
{
    private static readonly uint Loopback = Native.Htonl(0x7f000001);

    private readonly bool _started;

    public WinsockExtensionCallTests()
    {
        if (OperatingSystem.IsWindows())
        {
            WSADATA data;
            Assert.Equal(0, WSAStartup(0x0202, &data));
            _started = true;
        }
    }

    public void Dispose()
    {
        if (_started)
        {
            WSACleanup();
        }
    }

    private static void RequireWindows() =>
        Assert.SkipUnless(OperatingSystem.IsWindows(), "Winsock calls run on Windows (or Wine)");

    private static nuint Check(nuint s, string call)
    {
        Assert.True(s != INVALID_SOCKET, $"{call} failed, WSA error {WSAGetLastError()}");
        return s;
    }

    private static void Check(int rc, string call) =>
        Assert.True(rc != SOCKET_ERROR, $"{call} failed, WSA error {WSAGetLastError()}");

    private static nuint Bound(int type, int protocol, out sockaddr_in addr)
    {
        nuint s = Check(socket(AF_INET, type, protocol), "socket");
        var a = new sockaddr_in { sin_family = AF_INET };
        a.sin_addr.S_un.S_addr = Loopback;
        Check(bind(s, (sockaddr*)&a, sizeof(sockaddr_in)), "bind");
        int len = sizeof(sockaddr_in);
        Check(getsockname(s, (sockaddr*)&a, &len), "getsockname");
        addr = a;
        return s;
    }

    /// <summary>A connected loopback TCP pair (blocking sockets).</summary>
    private static (nuint Client, nuint Server) TcpPair()
    {
        nuint listener = Bound(SOCK_STREAM, IPPROTO_TCP, out var addr);
        try
        {
            Check(listen(listener, 1), "listen");
            nuint client = Check(socket(AF_INET, SOCK_STREAM, IPPROTO_TCP), "socket");
            Check(connect(client, (sockaddr*)&addr, sizeof(sockaddr_in)), "connect");
            return (client, Check(accept(listener, null, null), "accept"));
        }
        finally
        {
            closesocket(listener);
        }
    }

    private static string Receive(nuint s, int length)
    {
        var buffer = new byte[length];
        int got = 0;
        fixed (byte* p = buffer)
        {
            while (got < length)
            {
                int n = recv(s, p + got, length - got, 0);
                Assert.True(n > 0, $"recv returned {n}, WSA error {WSAGetLastError()}");
                got += n;
            }
        }
        return Encoding.ASCII.GetString(buffer);
    }

    private static nint ExtensionFunction(nuint s, Guid id)
    {
        nint fn = 0;
        uint bytes = 0;
        int rc = WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &id, (uint)sizeof(Guid), &fn, (uint)sizeof(nint),
            &bytes, null, null);
        Check(rc, "WSAIoctl");
        Assert.NotEqual(0, fn);
        return fn;
    }

    [Fact]
    public void GetAddrInfoW_Localhost_LoopbackWithPortInNetworkOrder()
    {
        RequireWindows();
        var hints = new ADDRINFOW { ai_family = AF_INET, ai_socktype = SOCK_STREAM };
        ADDRINFOW* list = null;
        fixed (char* host = "localhost", port = "8080")
        {
            Assert.Equal(0, GetAddrInfoW(host, port, &hints, &list));
        }
        try
        {
            Assert.True(list != null);
            var sin = (sockaddr_in*)list->ai_addr;
            Assert.Equal(AF_INET, list->ai_family);
            Assert.Equal(Native.Htons(8080), sin->sin_port);
            Assert.Equal(Loopback, sin->sin_addr.S_un.S_addr);
        }
        finally
        {
            FreeAddrInfoW(list);
        }
    }

    [Fact]
    public void WSASendMsg_UdpLoopback_WSARecvMsgThroughExtensionPointerGetsIt()
    {
        RequireWindows();
        nuint receiver = Bound(SOCK_DGRAM, IPPROTO_UDP, out var to);
        nuint sender = Bound(SOCK_DGRAM, IPPROTO_UDP, out var from);
        try
        {
            var recvMsg = new LPFN_WSARECVMSG(ExtensionFunction(receiver, WSAID_WSARECVMSG));
            var text = Encoding.ASCII.GetBytes("datagram");
            uint sent = 0, received = 0;
            fixed (byte* p = text)
            {
                var buf = new WSABUF { len = (uint)text.Length, buf = p };
                var msg = new WSAMSG
                {
                    name = (sockaddr*)&to, namelen = sizeof(sockaddr_in), lpBuffers = &buf, dwBufferCount = 1,
                };
                Check(WSASendMsg(sender, &msg, 0, &sent, null, null), "WSASendMsg");
            }
            Assert.Equal((uint)text.Length, sent);

            byte* data = stackalloc byte[64];
            sockaddr_in peer;
            var rbuf = new WSABUF { len = 64, buf = data };
            var rmsg = new WSAMSG
            {
                name = (sockaddr*)&peer, namelen = sizeof(sockaddr_in), lpBuffers = &rbuf, dwBufferCount = 1,
            };
            Check(recvMsg.Value(receiver, &rmsg, &received, null, null), "WSARecvMsg");
            Assert.Equal("datagram", Encoding.ASCII.GetString(data, (int)received));
            Assert.Equal(from.sin_port, peer.sin_port);
        }
        finally
        {
            closesocket(sender);
            closesocket(receiver);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TransmitFile_FileWithHeadAndTail_PeerReceivesAllThree(bool throughExtensionPointer)
    {
        RequireWindows();
        string path = Path.GetTempFileName();
        File.WriteAllText(path, "file body");
        var (client, server) = TcpPair();
        try
        {
            using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
            var head = Encoding.ASCII.GetBytes("<head>");
            var tail = Encoding.ASCII.GetBytes("<tail>");
            fixed (byte* h = head, t = tail)
            {
                var buffers = new TRANSMIT_FILE_BUFFERS
                {
                    Head = h, HeadLength = (uint)head.Length, Tail = t, TailLength = (uint)tail.Length,
                };
                nint handle = file.DangerousGetHandle();
                int ok = throughExtensionPointer
                    ? new LPFN_TRANSMITFILE(ExtensionFunction(client, WSAID_TRANSMITFILE)).Value(
                        client, handle, 0, 0, null, &buffers, 0)
                    : Mswsock.TransmitFile(client, handle, 0, 0, null, &buffers, 0);
                Assert.True(ok != 0, $"TransmitFile failed, WSA error {WSAGetLastError()}");
            }
            Assert.Equal("<head>file body<tail>", Receive(server, 21));
        }
        finally
        {
            closesocket(client);
            closesocket(server);
            File.Delete(path);
        }
    }
}
