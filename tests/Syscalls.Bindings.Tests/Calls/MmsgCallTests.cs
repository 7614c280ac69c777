using System.Runtime.Versioning;
using System.Text;
using Syscalls.Linux;
using Xunit;
using static Syscalls.Linux.LibC;

namespace Syscalls.Bindings.Tests.Calls;

/// <summary>sendmmsg/recvmmsg on UDP loopback: several datagrams per call, each mmsghdr with its own length.</summary>
// unsafe: the bindings take pointers; every one here is to a stackalloc or local that outlives the call.
[SupportedOSPlatform("linux")]
public sealed unsafe class MmsgCallTests
{
    private static int BoundUdp(out sockaddr_in bound)
    {
        int fd = (int)Native.Ok(socket(AF_INET, (int)(SOCK_DGRAM | SOCK_CLOEXEC), 0), "socket");
        var addr = new sockaddr_in { sin_family = AF_INET };
        addr.sin_addr.s_addr = Native.Htonl(INADDR_LOOPBACK);
        Native.Ok(bind(fd, (sockaddr*)&addr, (uint)sizeof(sockaddr_in)), "bind");
        uint len = (uint)sizeof(sockaddr_in);
        sockaddr_in got;
        Native.Ok(getsockname(fd, (sockaddr*)&got, &len), "getsockname");
        bound = got;
        return fd;
    }

    [Fact]
    public void Sendmmsg_ThreeDatagrams_RecvmmsgReturnsEachWithItsLength()
    {
        Native.RequireLinux();
        string[] words = ["one", "three", "eleven"];
        int receiver = BoundUdp(out var to);
        int sender = BoundUdp(out _);
        try
        {
            Native.Ok(connect(sender, (sockaddr*)&to, (uint)sizeof(sockaddr_in)), "connect");
            var payload = Encoding.ASCII.GetBytes(string.Concat(words));
            fixed (byte* p = payload)
            {
                var iov = stackalloc iovec[words.Length];
                var msgs = stackalloc mmsghdr[words.Length];
                int at = 0;
                for (int i = 0; i < words.Length; i++)
                {
                    iov[i] = new iovec { iov_base = p + at, iov_len = (nuint)words[i].Length };
                    msgs[i] = default;
                    msgs[i].msg_hdr.msg_iov = &iov[i];
                    msgs[i].msg_hdr.msg_iovlen = 1;
                    at += words[i].Length;
                }
                Assert.Equal(words.Length, Native.Ok(sendmmsg(sender, msgs, (uint)words.Length, 0), "sendmmsg"));
                for (int i = 0; i < words.Length; i++)
                {
                    Assert.Equal((uint)words[i].Length, msgs[i].msg_len);
                }
            }

            const int Slot = 16;
            var buffer = stackalloc byte[Slot * 4];
            var riov = stackalloc iovec[4];
            var rmsgs = stackalloc mmsghdr[4];
            for (int i = 0; i < 4; i++)
            {
                riov[i] = new iovec { iov_base = buffer + i * Slot, iov_len = Slot };
                rmsgs[i] = default;
                rmsgs[i].msg_hdr.msg_iov = &riov[i];
                rmsgs[i].msg_hdr.msg_iovlen = 1;
            }
            // MSG_WAITFORONE: block for the first datagram only, then take whatever else is queued; loopback may
            // deliver the three in more than one batch.
            int got = 0;
            while (got < words.Length)
            {
                long n = recvmmsg(receiver, rmsgs + got, (uint)(4 - got), MSG_WAITFORONE, null);
                got += (int)Native.Ok(n, "recvmmsg");
            }
            Assert.Equal(words.Length, got);
            for (int i = 0; i < words.Length; i++)
            {
                Assert.Equal(words[i], Encoding.ASCII.GetString(buffer + i * Slot, (int)rmsgs[i].msg_len));
            }
        }
        finally
        {
            close(sender);
            close(receiver);
        }
    }
}
