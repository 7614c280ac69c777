using System.Buffers.Binary;
using System.Runtime.CompilerServices;

// Byte order as C spells it: <arpa/inet.h> and <winsock2.h> give these names (macros on macOS, inline functions over
// __bswap_16/32 in glibc, exports of ws2_32.dll) with C's unsigned types, so `using static` call sites read like C.
// Managed on purpose: a native call for a byte swap would cost more than the swap, and macOS has no symbol to call.
// A family list must not bind these names as functions (the class would have them twice).

namespace Syscalls.Linux
{
    public static partial class LibC
    {
        /// <summary>Host to network (big-endian) order of a 16-bit value: <c>uint16_t htons(uint16_t)</c>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ushort htons(ushort hostshort) => ByteOrder.ToNetwork(hostshort);

        /// <summary>Host to network (big-endian) order of a 32-bit value: <c>uint32_t htonl(uint32_t)</c>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static uint htonl(uint hostlong) => ByteOrder.ToNetwork(hostlong);

        /// <summary>Network (big-endian) to host order of a 16-bit value: <c>uint16_t ntohs(uint16_t)</c>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ushort ntohs(ushort netshort) => ByteOrder.ToNetwork(netshort);

        /// <summary>Network (big-endian) to host order of a 32-bit value: <c>uint32_t ntohl(uint32_t)</c>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static uint ntohl(uint netlong) => ByteOrder.ToNetwork(netlong);
    }
}

namespace Syscalls.Darwin
{
    public static partial class LibC
    {
        /// <summary>Host to network (big-endian) order of 16 bits: the <c>htons</c> macro of arpa/inet.h.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ushort htons(ushort hostshort) => ByteOrder.ToNetwork(hostshort);

        /// <summary>Host to network (big-endian) order of 32 bits: the <c>htonl</c> macro of arpa/inet.h.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static uint htonl(uint hostlong) => ByteOrder.ToNetwork(hostlong);

        /// <summary>Network (big-endian) to host order of 16 bits: the <c>ntohs</c> macro of arpa/inet.h.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ushort ntohs(ushort netshort) => ByteOrder.ToNetwork(netshort);

        /// <summary>Network (big-endian) to host order of 32 bits: the <c>ntohl</c> macro of arpa/inet.h.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static uint ntohl(uint netlong) => ByteOrder.ToNetwork(netlong);
    }
}

namespace Syscalls.Windows
{
    public static partial class Ws2_32
    {
        /// <summary>Host to network (big-endian) order of 16 bits: <c>u_short htons(u_short)</c>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ushort htons(ushort hostshort) => ByteOrder.ToNetwork(hostshort);

        /// <summary>Host to network (big-endian) order of 32 bits: <c>u_long htonl(u_long)</c>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static uint htonl(uint hostlong) => ByteOrder.ToNetwork(hostlong);

        /// <summary>Network (big-endian) to host order of 16 bits: <c>u_short ntohs(u_short)</c>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ushort ntohs(ushort netshort) => ByteOrder.ToNetwork(netshort);

        /// <summary>Network (big-endian) to host order of 32 bits: <c>u_long ntohl(u_long)</c>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static uint ntohl(uint netlong) => ByteOrder.ToNetwork(netlong);
    }
}

namespace Syscalls
{
    /// <summary>The one swap behind every OS's names: a no-op on a big-endian host, as in C.</summary>
    internal static class ByteOrder
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ushort ToNetwork(ushort value) =>
            System.BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(value) : value;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static uint ToNetwork(uint value) =>
            System.BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(value) : value;
    }
}
