using System;

namespace Syscalls.Runtime;

/// <summary>One datagram received by <see cref="AsyncDatagramSocket.ReceiveFromAsync"/>: how much of it the buffer
/// took, who sent it, and whether it was cut.</summary>
public readonly struct DatagramReceiveResult : IEquatable<DatagramReceiveResult>
{
    /// <summary>Creates a result.</summary>
    public DatagramReceiveResult(int receivedBytes, NetEndpoint remoteEndpoint, bool isTruncated, int datagramLength)
    {
        ReceivedBytes = receivedBytes;
        RemoteEndpoint = remoteEndpoint;
        IsTruncated = isTruncated;
        DatagramLength = datagramLength;
    }

    /// <summary>Bytes written into the caller's buffer.</summary>
    public int ReceivedBytes { get; }

    /// <summary>The sender.</summary>
    public NetEndpoint RemoteEndpoint { get; }

    /// <summary>The datagram was longer than the buffer: the buffer holds its start, the rest is gone.</summary>
    public bool IsTruncated { get; }

    /// <summary>The datagram's whole length: <see cref="ReceivedBytes"/> unless <see cref="IsTruncated"/>; for a cut
    /// one, its real length where it is known (a ring loop, which receives into a 64 KiB buffer first; a poller loop on
    /// Linux, through MSG_TRUNC) and -1 where the OS does not tell it (a poller loop on Windows or macOS).</summary>
    public int DatagramLength { get; }

    /// <inheritdoc/>
    public bool Equals(DatagramReceiveResult other)
        => ReceivedBytes == other.ReceivedBytes && RemoteEndpoint == other.RemoteEndpoint && IsTruncated == other.IsTruncated
           && DatagramLength == other.DatagramLength;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is DatagramReceiveResult r && Equals(r);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(ReceivedBytes, RemoteEndpoint, IsTruncated, DatagramLength);

    /// <summary>Equality.</summary>
    public static bool operator ==(DatagramReceiveResult left, DatagramReceiveResult right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(DatagramReceiveResult left, DatagramReceiveResult right) => !left.Equals(right);

    /// <inheritdoc/>
    public override string ToString()
        => $"{ReceivedBytes} bytes from {RemoteEndpoint}{(IsTruncated ? $" (truncated, datagram {(DatagramLength < 0 ? "length unknown" : DatagramLength + " bytes")})" : "")}";
}
