using System;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Syscalls.Runtime.Backends.Common;
using Syscalls.Runtime.Backends.Windows;
using Syscalls.Windows;
using static Syscalls.Windows.Kernel32;
using static Syscalls.Windows.Ws2_32;

namespace Syscalls.Runtime.Backends.Iocp;

/// <summary>Issuing each opcode, and what its completion needs (SO_UPDATE_ACCEPT_CONTEXT, SO_UPDATE_CONNECT_CONTEXT).</summary>
internal sealed partial class IocpRing
{
    // reason: the slot's native block is ours until its packet is dequeued (or it completes inline); buffers are pinned POH slabs
    private unsafe void Issue(int slot)
    {
        ref Op op = ref _ops[slot];
        if (op.CancelRequested && op.Opcode != RingOpcode.Close)   // a close cannot be taken back: its handle let go
        {
            Complete(slot, 0, HostErrors.Canceled);
            return;
        }

        switch (op.Opcode)
        {
            case RingOpcode.Nop:
                Complete(slot, 0, default);
                return;
            case RingOpcode.Timeout:
                op.Phase = IocpPhase.Timer;
                long ms = (long)Math.Ceiling(op.Timeout.TotalMilliseconds);
                _timers.Enqueue((slot, op.Generation), Environment.TickCount64 + ms);
                return;
            case RingOpcode.Cancel:
                IssueCancel(slot);
                return;
            case RingOpcode.Close:
                IssueClose(slot);
                return;
        }

        Result<HandleState> associated = Associate(op.Handle!, op.Socket);
        if (!associated.TryGetValue(out HandleState? state))
        {
            Complete(slot, 0, associated.Error);
            return;
        }

        IocpOperation* block = op.Block;
        block->Overlapped = default;
        block->Bytes = 0;
        block->Flags = 0;
        bool ok;
        switch (op.Opcode)
        {
            case RingOpcode.Recv:
            case RingOpcode.Send:
            case RingOpcode.PollReadable:
                // reason: the slab is pinned (pinned object heap) and the buffer is marked in flight until Finish
                // (PollReadable has none: a zero-byte WSARecv completes once data or end of stream is there)
                fixed (byte* data = op.Buffer.Span)
                {
                    block->Buffer.buf = data;
                    block->Buffer.len = (uint)op.Buffer.Length;
                }

                // reason: block is native memory owned by this slot until its packet is dequeued (or it completes inline)
                ok = (op.Opcode != RingOpcode.Send
                    ? WSARecv(op.Socket, &block->Buffer, 1, &block->Bytes, &block->Flags, &block->Overlapped, null)
                    : WSASend(op.Socket, &block->Buffer, 1, &block->Bytes, 0, &block->Overlapped, null)) == 0;
                break;
            case RingOpcode.Accept:
                Result<nuint> accepted = NewAcceptSocket(op.Socket);
                if (!accepted.TryGetValue(out nuint a))
                {
                    Complete(slot, 0, accepted.Error);
                    return;
                }

                op.AcceptSocket = a;
                // No receive data: complete on the connection itself, not on its first bytes.
                ok = Mswsock.AcceptEx.Value(op.Socket, a, block->Addresses, 0, IocpOperation.AcceptAddressLength,
                    IocpOperation.AcceptAddressLength, &block->Bytes, &block->Overlapped) != 0;
                break;
            case RingOpcode.Connect:
                Result bound = EnsureBound(op.Socket, op.Endpoint.Family);
                if (!bound.IsSuccess)
                {
                    Complete(slot, 0, bound.Error);
                    return;
                }

                int len = Winsock.WriteSockaddr(op.Endpoint, block->Addresses);
                ok = Mswsock.ConnectEx.Value(op.Socket, (sockaddr*)block->Addresses, len, null, 0, &block->Bytes, &block->Overlapped) != 0;
                break;
            case RingOpcode.ReceiveFrom:
            case RingOpcode.SendTo:
                ok = IssueDatagram(ref op);
                break;
            default:
                Complete(slot, 0, OsError.FromKind(ErrorKind.NotSupported));
                return;
        }

        // Read the thread's error before anything else can overwrite it: AcceptEx and ConnectEx are raw pointer calls.
        OsError error = ok ? default : WinError.LastSystem();
        if (!ok && IsCutDatagram(op.Opcode, error))
        {
            // Not a failure: STATUS_BUFFER_OVERFLOW is a warning, the receive ran and its packet follows (a datagram
            // socket never skips the port, see IsStreamSocket).
            op.Phase = IocpPhase.Kernel;
            _inFlight++;
            return;
        }

        if (ok && state.SkipOnSuccess)
        {
            // FILE_SKIP_COMPLETION_PORT_ON_SUCCESS: no packet will come for this success.
            InlineCompletions++;
            Finish(slot, (int)block->Bytes, default);
            return;
        }

        if (ok || error.Code == WSA_IO_PENDING)
        {
            op.Phase = IocpPhase.Kernel;
            _inFlight++;
            return;
        }

        Finish(slot, 0, error);   // an immediate failure queues no packet, whatever the notification mode
    }

    /// <summary>The final step of Accept, Connect, Recv and Send, from a packet or inline.</summary>
    // reason: &listener is a stack local outliving setsockopt; the block is still the slot's until Complete releases it
    private unsafe void Finish(int slot, int bytes, OsError error)
    {
        ref Op op = ref _ops[slot];
        int result = bytes;
        if (op.Opcode == RingOpcode.Accept)
        {
            nuint a = op.AcceptSocket;
            op.AcceptSocket = 0;
            if (error.IsNone)
            {
                // The accepted socket takes the listener's properties; getpeername and shutdown need this.
                nuint listener = op.Socket;
                if (setsockopt(a, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, (byte*)&listener, sizeof(nuint)) != 0)
                    error = WinError.Last();
            }

            if (error.IsNone)
            {
                LastAcceptedRemote = AcceptRemote(op.Block);
                result = (int)(uint)a;   // kernel handles fit in 32 bits on 64-bit Windows
            }
            else
            {
                Winsock.Close(a);
            }
        }
        else if (op.Opcode == RingOpcode.ReceiveFrom && (error.IsNone || IsCutDatagram(op.Opcode, error)))
        {
            FinishReceiveFrom(slot, bytes, truncated: !error.IsNone);
            return;
        }
        else if (op.Opcode == RingOpcode.Connect && error.IsNone)
        {
            // Enables getpeername, shutdown and the rest on a ConnectEx socket.
            if (setsockopt(op.Socket, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, null, 0) != 0)
                error = WinError.Last();
        }

        Complete(slot, result, error);
    }

    // reason: the block stays ours until Finish; bytes and flags are stack locals
    private unsafe OsError OverlappedError(int slot)
    {
        ref Op op = ref _ops[slot];
        uint bytes = 0, flags = 0;
        if (WSAGetOverlappedResult(op.Socket, &op.Block->Overlapped, &bytes, 0, &flags) != 0)
            return default;
        OsError e = WinError.Last();
        // The socket was closed under the operation (a ring Close): the operation was canceled.
        return e.Kind == ErrorKind.BadDescriptor ? new OsError(ErrorKind.Canceled, e.Code) : e;
    }

    // reason: a Kernel-phase target's block stays allocated until its packet is dequeued, so CancelIoEx names a live OVERLAPPED
    private unsafe void IssueCancel(int slot)
    {
        ref Op cancel = ref _ops[slot];
        if (!_byUserData.TryGetValue(cancel.Target.Value, out int t) || t == slot)
        {
            Complete(slot, 0, HostErrors.NotFound);
            return;
        }

        ref Op target = ref _ops[t];
        switch (target.Phase)
        {
            case IocpPhase.Queued:
                target.CancelRequested = true;   // enqueued after this Cancel: it completes Canceled when issued
                Complete(slot, 0, default);
                return;
            case IocpPhase.Timer:
                Complete(t, 0, HostErrors.Canceled);
                Complete(slot, 0, default);
                return;
            case IocpPhase.Kernel:
                // The target still completes through its packet, with ERROR_OPERATION_ABORTED (or success if it won).
                if (CancelIoEx((nint)target.Socket, &target.Block->Overlapped) != 0)
                {
                    Complete(slot, 0, default);
                    return;
                }

                OsError e = WinError.Last();   // ERROR_NOT_FOUND: already complete, its packet is on the way
                Complete(slot, 0, e.Kind == ErrorKind.NotFound ? HostErrors.NotFound : e);
                return;
            default:
                Complete(slot, 0, HostErrors.NotFound);
                return;
        }
    }

    private void IssueClose(int slot)
    {
        ref Op op = ref _ops[slot];
        // The handle gave the socket to the ring at Enqueue and will not close it. Operations still pending on it are
        // aborted by closesocket and complete through their packets as canceled.
        Result closed = Winsock.Close(op.Socket);
        Complete(slot, 0, closed.Error);
    }

    /// <summary>Associates a socket with the port on its first operation and turns on
    /// FILE_SKIP_COMPLETION_PORT_ON_SUCCESS. Keyed by the SafeHandle object, so a reused SOCKET value in a new handle is
    /// associated afresh.</summary>
    private Result<HandleState> Associate(SafeHandle handle, nuint socket)
    {
        if (_handles.TryGetValue(handle, out HandleState? state))
            return state;
        if (CreateIoCompletionPort((nint)socket, _port, SocketKey, 0) == 0)
            return WinError.Last();   // ERROR_INVALID_PARAMETER: the socket already belongs to another port
        state = new HandleState();
        // Only when asked: the mode is per handle and permanent. FILE_SKIP_SET_EVENT_ON_HANDLE spares setting the
        // handle's event, which nobody waits for. Never on datagram sockets: see IsStreamSocket.
        if (_skipOnSuccess && IsStreamSocket(socket))
            state.SkipOnSuccess = SetFileCompletionNotificationModes((nint)socket, (byte)(FILE_SKIP_COMPLETION_PORT_ON_SUCCESS | FILE_SKIP_SET_EVENT_ON_HANDLE)) != 0;
        _handles.Add(handle, state);
        return state;
    }

    private static Result<nuint> NewAcceptSocket(nuint listener)
    {
        Result<AddressFamily> family = Winsock.GetFamily(listener);
        if (!family.TryGetValue(out AddressFamily af))
            return family.Error;
        return Winsock.Socket(af, SocketType.Stream, blocking: true);
    }

    /// <summary>ConnectEx needs a bound socket; bind to the wildcard address of the target's family when it is not.</summary>
    private static Result EnsureBound(nuint socket, AddressFamily family)
    {
        Result<NetEndpoint> local = Winsock.GetSockName(socket);
        if (local.IsSuccess)
            return Result.Success;
        if (local.Error.Kind != ErrorKind.InvalidArgument)   // WSAEINVAL: not bound yet
            return local.Error;
        NetEndpoint any = family == AddressFamily.InterNetworkV6 ? NetEndpoint.Create(new byte[16], 0) : NetEndpoint.AnyV4(0);
        return Winsock.Bind(socket, any);
    }

    // reason: the address area is in the block, which this slot still owns; the out values are stack locals
    private static unsafe NetEndpoint AcceptRemote(IocpOperation* block)
    {
        sockaddr* local = null, remote = null;
        int localLength = 0, remoteLength = 0;
        Mswsock.GetAcceptExSockaddrs.Value(block->Addresses, 0, IocpOperation.AcceptAddressLength, IocpOperation.AcceptAddressLength,
            &local, &localLength, &remote, &remoteLength);
        return remote is null ? default : Winsock.ReadSockaddr((byte*)remote, remoteLength);
    }
}
