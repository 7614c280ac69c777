using System;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Syscalls.Runtime;

/// <summary>An IPv4 or IPv6 address and port as a value (no allocation), portable across OSes;
/// backends turn it into their native <c>sockaddr</c> layout.</summary>
public readonly struct NetEndpoint : IEquatable<NetEndpoint>
{
    // The 16 address bytes in network order, split in two so the struct stays a plain value (IPv4 uses the first 4).
    private readonly ulong _hi;
    private readonly ulong _lo;

    private NetEndpoint(AddressFamily family, ulong hi, ulong lo, ushort port, uint scopeId)
    {
        Family = family;
        _hi = hi;
        _lo = lo;
        Port = port;
        ScopeId = scopeId;
    }

    /// <summary><see cref="AddressFamily.InterNetwork"/> or <see cref="AddressFamily.InterNetworkV6"/>;
    /// <see cref="AddressFamily.Unspecified"/> for <c>default</c>.</summary>
    public AddressFamily Family { get; }

    /// <summary>The port, host order.</summary>
    public ushort Port { get; }

    /// <summary>The IPv6 scope id (0 for IPv4).</summary>
    public uint ScopeId { get; }

    /// <summary>True for IPv4, IPv6, false for <c>default</c>.</summary>
    public bool IsValid => Family is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6;

    /// <summary>Number of address bytes: 4, 16, or 0 for <c>default</c>.</summary>
    public int AddressLength => Family switch
    {
        AddressFamily.InterNetwork => 4,
        AddressFamily.InterNetworkV6 => 16,
        _ => 0,
    };

    /// <summary>127.0.0.1:<paramref name="port"/>.</summary>
    public static NetEndpoint Loopback(int port) => IPv4(127, 0, 0, 1, port);

    /// <summary>[::1]:<paramref name="port"/>.</summary>
    public static NetEndpoint LoopbackV6(int port) => new(AddressFamily.InterNetworkV6, 0, 1, checked((ushort)port), 0);

    /// <summary>0.0.0.0:<paramref name="port"/>.</summary>
    public static NetEndpoint AnyV4(int port) => IPv4(0, 0, 0, 0, port);

    /// <summary>a.b.c.d:<paramref name="port"/>.</summary>
    public static NetEndpoint IPv4(byte a, byte b, byte c, byte d, int port)
        => new(AddressFamily.InterNetwork, ((ulong)a << 56) | ((ulong)b << 48) | ((ulong)c << 40) | ((ulong)d << 32), 0,
            checked((ushort)port), 0);

    /// <summary>From address bytes in network order (4 or 16 of them).</summary>
    public static NetEndpoint Create(ReadOnlySpan<byte> address, int port, uint scopeId = 0)
    {
        ushort p = checked((ushort)port);
        if (address.Length == 4)
            return new(AddressFamily.InterNetwork, (ulong)BinaryPrimitives.ReadUInt32BigEndian(address) << 32, 0, p, 0);
        if (address.Length == 16)
        {
            return new(AddressFamily.InterNetworkV6, BinaryPrimitives.ReadUInt64BigEndian(address),
                BinaryPrimitives.ReadUInt64BigEndian(address[8..]), p, scopeId);
        }

        throw new ArgumentException("An IP address has 4 or 16 bytes.", nameof(address));
    }

    /// <summary>From an <see cref="IPEndPoint"/>.</summary>
    public static NetEndpoint FromIPEndPoint(IPEndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        Span<byte> bytes = stackalloc byte[16];
        endpoint.Address.TryWriteBytes(bytes, out int written);
        uint scope = endpoint.AddressFamily == AddressFamily.InterNetworkV6 ? (uint)endpoint.Address.ScopeId : 0;
        return Create(bytes[..written], endpoint.Port, scope);
    }

    /// <summary>Copies the address bytes (network order) into <paramref name="destination"/>; returns how many.</summary>
    public int CopyAddressTo(Span<byte> destination)
    {
        int n = AddressLength;
        if (destination.Length < n)
            throw new ArgumentException("Destination too small.", nameof(destination));
        if (n == 4)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)(_hi >> 32));
        }
        else if (n == 16)
        {
            BinaryPrimitives.WriteUInt64BigEndian(destination, _hi);
            BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _lo);
        }

        return n;
    }

    /// <summary>The same address with another port.</summary>
    public NetEndpoint WithPort(int port) => new(Family, _hi, _lo, checked((ushort)port), ScopeId);

    /// <summary>Converts to an <see cref="IPEndPoint"/> (allocates).</summary>
    public IPEndPoint ToIPEndPoint()
    {
        Span<byte> bytes = stackalloc byte[16];
        int n = CopyAddressTo(bytes);
        if (n == 0)
            throw new InvalidOperationException("default(NetEndpoint) has no address.");
        var address = n == 4 ? new IPAddress(bytes[..4]) : new IPAddress(bytes[..16], ScopeId);
        return new IPEndPoint(address, Port);
    }

    /// <inheritdoc/>
    public bool Equals(NetEndpoint other)
        => Family == other.Family && _hi == other._hi && _lo == other._lo && Port == other.Port && ScopeId == other.ScopeId;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is NetEndpoint e && Equals(e);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Family, _hi, _lo, Port, ScopeId);

    /// <summary>Equality.</summary>
    public static bool operator ==(NetEndpoint left, NetEndpoint right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(NetEndpoint left, NetEndpoint right) => !left.Equals(right);

    /// <inheritdoc/>
    public override string ToString() => IsValid ? ToIPEndPoint().ToString() : "(none)";
}
