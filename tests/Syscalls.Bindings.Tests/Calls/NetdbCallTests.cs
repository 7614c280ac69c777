using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Syscalls.Linux;
using Xunit;
using static Syscalls.Linux.LibC;

namespace Syscalls.Bindings.Tests.Calls;

/// <summary>getaddrinfo/freeaddrinfo/gai_strerror through the bindings: localhost resolves to the loopback address
/// with the port in network order, and a failure comes back as an EAI_* code gai_strerror names.</summary>
// unsafe: the bindings take pointers; every one here is to a local or a u8 literal that outlives the call.
[SupportedOSPlatform("linux")]
public sealed unsafe class NetdbCallTests
{
    [Fact]
    public void Getaddrinfo_Localhost_LoopbackWithPortInNetworkOrder()
    {
        Native.RequireLinux();
        var hints = new addrinfo { ai_family = AF_INET, ai_socktype = (int)SOCK_STREAM };
        addrinfo* list = null;
        fixed (byte* host = "localhost"u8, port = "8080"u8)
        {
            Assert.Equal(0, getaddrinfo(host, port, &hints, &list));
        }
        try
        {
            Assert.True(list != null);
            int count = 0;
            for (var ai = list; ai != null; ai = ai->ai_next, count++)
            {
                Assert.Equal(AF_INET, ai->ai_family);
                Assert.Equal((uint)sizeof(sockaddr_in), ai->ai_addrlen);
                var sin = (sockaddr_in*)ai->ai_addr;
                Assert.Equal(Native.Htons(8080), sin->sin_port);
                Assert.Equal(Native.Htonl(INADDR_LOOPBACK), sin->sin_addr.s_addr);
            }
            Assert.True(count >= 1);
        }
        finally
        {
            freeaddrinfo(list);
        }
    }

    [Fact]
    public void Getaddrinfo_NumericHostNotAnAddress_EaiNonameNamedByGaiStrerror()
    {
        Native.RequireLinux();
        var hints = new addrinfo { ai_flags = AI_NUMERICHOST, ai_family = AF_UNSPEC };
        addrinfo* list = null;
        int rc;
        fixed (byte* host = "not-an-address"u8)
        {
            rc = getaddrinfo(host, null, &hints, &list);
        }
        Assert.Equal(EAI_NONAME, rc);
        Assert.True(list == null);
        string? text = Marshal.PtrToStringUTF8((nint)gai_strerror(rc));
        Assert.False(string.IsNullOrEmpty(text));
        Assert.NotEqual(text, Marshal.PtrToStringUTF8((nint)gai_strerror(EAI_AGAIN)));
    }
}
