using System;
using System.Runtime.InteropServices;

namespace Syscalls.Runtime;

/// <summary>The operations a completion ring accepts.</summary>
public enum RingOpcode : byte
{
    /// <summary>Completes at once; for wake-ups and tests.</summary>
    Nop = 0,
    /// <summary>Accept one connection; the completion's <see cref="RingCompletion.Result"/> is the new descriptor.</summary>
    Accept,
    /// <summary>Connect a socket to <see cref="RingOperation.Endpoint"/>.</summary>
    Connect,
    /// <summary>Receive into <see cref="RingOperation.Buffer"/>; 0 bytes means end of stream.</summary>
    Recv,
    /// <summary>Send <see cref="RingOperation.Buffer"/> (never raises SIGPIPE); may complete partially.</summary>
    Send,
    /// <summary>Read a file descriptor at <see cref="RingOperation.Offset"/> (-1: current position).</summary>
    Read,
    /// <summary>Write a file descriptor at <see cref="RingOperation.Offset"/> (-1: current position).</summary>
    Write,
    /// <summary>Close the descriptor; the ring takes it from its <see cref="SafeHandle"/>, which is then invalid.</summary>
    Close,
    /// <summary>Complete after <see cref="RingOperation.Timeout"/> with <see cref="ErrorKind.TimedOut"/>.</summary>
    Timeout,
    /// <summary>Cancel the operation tagged <see cref="RingOperation.Target"/>; it completes with <see cref="ErrorKind.Canceled"/>.</summary>
    Cancel,
    /// <summary>Accept repeatedly: one completion per connection with <see cref="RingCompletionFlags.More"/> until the last.</summary>
    AcceptMultishot,
    /// <summary>Receive repeatedly into buffers of the group <see cref="RingOperation.BufferGroup"/>; each completion
    /// names its buffer (<see cref="RingCompletion.BufferId"/>), to be given back with <see cref="IRing.ReturnBuffer"/>.</summary>
    RecvMultishot,
    /// <summary>Complete once the socket has something to receive (data, end of stream or a pending error), receiving
    /// nothing: a receive can then be issued with a buffer that is not held while the connection is idle. io_uring's
    /// POLL_ADD(POLLIN), Windows' zero-byte WSARecv, a readable wait on the emulated ring. A success has
    /// <see cref="RingCompletion.Result"/> 0; a pending error may be reported here or by the receive that
    /// follows.</summary>
    PollReadable,
    /// <summary>Receive one datagram into <see cref="RingOperation.Buffer"/>. The completion names the sender
    /// (<see cref="RingCompletion.Source"/>); a datagram longer than the buffer is cut to it and completes with
    /// <see cref="RingCompletionFlags.Truncated"/>, its <see cref="RingCompletion.Result"/> then the datagram's real
    /// length where the OS tells it (io_uring; the emulated ring on Linux), else the buffer's length (IOCP; the
    /// emulated ring elsewhere). recvmsg on io_uring, WSARecvFrom on IOCP, readiness and recvfrom emulated.</summary>
    ReceiveFrom,
    /// <summary>Send <see cref="RingOperation.Buffer"/> as one datagram to <see cref="RingOperation.Endpoint"/> (the
    /// connected peer when the endpoint is <c>default</c>); never raises SIGPIPE. sendmsg on io_uring, WSASendTo on
    /// IOCP, readiness plus sendto when emulated.</summary>
    SendTo,
}

/// <summary>One operation for <see cref="IRing.Enqueue"/>. Build it with the static factories.</summary>
/// <remarks>The ring holds a reference on <see cref="Handle"/> (DangerousAddRef) and marks <see cref="Buffer"/> in
/// flight from submission to the final completion, cancellation included, so neither the descriptor number nor the
/// memory can be reused under the kernel.</remarks>
[StructLayout(LayoutKind.Auto)]
public readonly struct RingOperation
{
    private RingOperation(RingOpcode opcode, UserData userData, SafeHandle? handle)
    {
        Opcode = opcode;
        UserData = userData;
        Handle = handle;
    }

    /// <summary>What to do.</summary>
    public RingOpcode Opcode { get; private init; }

    /// <summary>Echoed by every completion of this operation.</summary>
    public UserData UserData { get; private init; }

    /// <summary>The descriptor operated on (null for Nop, Timeout, Cancel).</summary>
    public SafeHandle? Handle { get; private init; }

    /// <summary>Data buffer of Recv/Send/Read/Write.</summary>
    public BufferSlice Buffer { get; private init; }

    /// <summary>Buffer group of RecvMultishot.</summary>
    public ushort BufferGroup { get; private init; }

    /// <summary>File offset of Read/Write; -1 means the current position.</summary>
    public long Offset { get; private init; }

    /// <summary>Delay of Timeout.</summary>
    public TimeSpan Timeout { get; private init; }

    /// <summary>The operation a Cancel targets.</summary>
    public UserData Target { get; private init; }

    /// <summary>Address of Connect; destination of SendTo (<c>default</c>: the connected peer).</summary>
    public NetEndpoint Endpoint { get; private init; }

    /// <summary>A no-op.</summary>
    public static RingOperation Nop(UserData userData) => new(RingOpcode.Nop, userData, null);

    /// <summary>Accept one connection on a listening socket (the new socket is close-on-exec).</summary>
    public static RingOperation Accept(SafeHandle listener, UserData userData)
        => new(RingOpcode.Accept, userData, Check(listener));

    /// <summary>Accept connections until canceled or failed (needs <see cref="RingFeatures.MultishotAccept"/>).</summary>
    public static RingOperation AcceptMultishot(SafeHandle listener, UserData userData)
        => new(RingOpcode.AcceptMultishot, userData, Check(listener));

    /// <summary>Connect a socket.</summary>
    public static RingOperation Connect(SafeHandle socket, NetEndpoint endpoint, UserData userData)
        => new(RingOpcode.Connect, userData, Check(socket)) { Endpoint = endpoint };

    /// <summary>Receive into a buffer slice.</summary>
    public static RingOperation Recv(SafeHandle socket, BufferSlice buffer, UserData userData)
        => new(RingOpcode.Recv, userData, Check(socket)) { Buffer = CheckBuffer(buffer) };

    /// <summary>Receive repeatedly into a registered buffer group (needs <see cref="RingFeatures.MultishotRecv"/>).</summary>
    public static RingOperation RecvMultishot(SafeHandle socket, ushort bufferGroup, UserData userData)
        => new(RingOpcode.RecvMultishot, userData, Check(socket)) { BufferGroup = bufferGroup };

    /// <summary>Wait until the socket has something to receive, without receiving it.</summary>
    public static RingOperation PollReadable(SafeHandle socket, UserData userData)
        => new(RingOpcode.PollReadable, userData, Check(socket));

    /// <summary>Send a buffer slice.</summary>
    public static RingOperation Send(SafeHandle socket, BufferSlice buffer, UserData userData)
        => new(RingOpcode.Send, userData, Check(socket)) { Buffer = CheckBuffer(buffer) };

    /// <summary>Receive one datagram into a buffer slice (the completion names its sender, reports a cut).</summary>
    public static RingOperation ReceiveFrom(SafeHandle socket, BufferSlice buffer, UserData userData)
        => new(RingOpcode.ReceiveFrom, userData, Check(socket)) { Buffer = CheckBuffer(buffer) };

    /// <summary>Send a buffer slice as one datagram to <paramref name="destination"/> (<c>default</c>: the peer of a
    /// connected socket).</summary>
    public static RingOperation SendTo(SafeHandle socket, BufferSlice buffer, NetEndpoint destination, UserData userData)
        => new(RingOpcode.SendTo, userData, Check(socket)) { Buffer = CheckBuffer(buffer), Endpoint = destination };

    /// <summary>Read a descriptor into a buffer slice at <paramref name="offset"/> (-1: current position).</summary>
    public static RingOperation Read(SafeHandle handle, BufferSlice buffer, long offset, UserData userData)
        => new(RingOpcode.Read, userData, Check(handle)) { Buffer = CheckBuffer(buffer), Offset = offset };

    /// <summary>Write a buffer slice to a descriptor at <paramref name="offset"/> (-1: current position).</summary>
    public static RingOperation Write(SafeHandle handle, BufferSlice buffer, long offset, UserData userData)
        => new(RingOpcode.Write, userData, Check(handle)) { Buffer = CheckBuffer(buffer), Offset = offset };

    /// <summary>Close a descriptor through the ring; the handle is invalid afterwards.</summary>
    public static RingOperation Close(SafeHandle handle, UserData userData)
        => new(RingOpcode.Close, userData, Check(handle));

    /// <summary>Complete after a delay.</summary>
    public static RingOperation TimeoutAfter(TimeSpan delay, UserData userData)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        return new(RingOpcode.Timeout, userData, null) { Timeout = delay };
    }

    /// <summary>Cancel the operation tagged <paramref name="target"/>.</summary>
    public static RingOperation Cancel(UserData target, UserData userData)
        => new(RingOpcode.Cancel, userData, null) { Target = target };

    private static SafeHandle Check(SafeHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        if (handle.IsInvalid || handle.IsClosed)
            throw new ObjectDisposedException(nameof(handle), "The descriptor is closed or invalid.");
        return handle;
    }

    private static BufferSlice CheckBuffer(BufferSlice buffer)
        => buffer.Pool is null ? throw new ArgumentException("The buffer slice has no pool.", nameof(buffer)) : buffer;
}
