using System;
using System.Collections.Generic;
using System.Threading;
using Syscalls.Runtime.Sockets;

namespace Syscalls.Runtime.Tests.Ring;

/// <summary>An echo server written against the ring contract alone, on its own thread (which then owns the ring).
/// <see cref="Multishot"/> false: single-shot accept, receive into a rented buffer, send (re-sent on partial
/// completion), close through the ring. True: multishot accept, multishot receive from a buffer group, the lent buffer
/// sent back as it is and returned to the group once sent; receives that end with ENOBUFS are re-armed when buffers
/// come back. Any unexpected completion is recorded in <see cref="Failures"/>.</summary>
public sealed class RingEchoLoop : IDisposable
{
    private const byte Accept = 1, Recv = 2, Send = 3, Close = 4;
    private const ushort Group = 5;

    private readonly IRing _ring;
    private readonly SocketHandle _listener;
    private readonly RingBufferPool _pool;
    private readonly Dictionary<uint, Conn> _conns = new();
    private readonly List<uint> _starved = new();
    private readonly Thread _thread;
    private volatile bool _stop;
    private uint _nextSlot;

    public RingEchoLoop(IRing ring, bool multishot, int bufferSize = 4096, int bufferCount = 256)
    {
        _ring = ring;
        Multishot = multishot;
        (_listener, EndPoint) = RingKit.Listen();
        _pool = new RingBufferPool(bufferSize, bufferCount);
        _thread = new Thread(Loop) { IsBackground = true, Name = "ring-echo" };
        _thread.Start();
    }

    public bool Multishot { get; }

    public System.Net.IPEndPoint EndPoint { get; }

    public List<string> Failures { get; } = new();

    public int Accepted { get; private set; }

    public int Closed { get; private set; }

    public long BuffersReturned { get; private set; }

    public void Dispose()
    {
        _stop = true;
        _ring.Wake();
        _thread.Join(10000);
        _ring.Dispose();
        _listener.Dispose();
    }

    private void Loop()
    {
        try
        {
            if (Multishot)
                _ring.RegisterBufferGroup(Group, _pool).ThrowIfFailed();
            Arm(Multishot ? RingOperation.AcceptMultishot(_listener, Tag(0, Accept)) : RingOperation.Accept(_listener, Tag(0, Accept)));
            var completions = new RingCompletion[128];
            while (!_stop)
            {
                long returned = BuffersReturned;
                int n = _ring.SubmitAndWait(completions, -1).Value;
                for (int i = 0; i < n; i++)
                    OnCompletion(completions[i]);
                if (_starved.Count > 0 && BuffersReturned != returned)
                {
                    foreach (uint slot in _starved)
                    {
                        if (_conns.TryGetValue(slot, out Conn? starved) && !starved.Closing)
                            Arm(RingOperation.RecvMultishot(starved.Handle, Group, Tag(slot, Recv)));
                    }

                    _starved.Clear();
                }
            }
        }
        catch (Exception e)
        {
            lock (Failures)
                Failures.Add(e.ToString());
        }
    }

    private void OnCompletion(RingCompletion c)
    {
        uint slot = c.UserData.Slot;
        switch (c.UserData.Tag)
        {
            case Accept:
                if (!c.IsSuccess)
                {
                    Fail(c);
                    return;
                }

                Accepted++;
                var conn = new Conn { Handle = new SocketHandle(c.Result) };
                uint s = ++_nextSlot;
                _conns[s] = conn;
                if (Multishot)
                {
                    Arm(RingOperation.RecvMultishot(conn.Handle, Group, Tag(s, Recv)));
                    if (!c.HasMore)
                        Arm(RingOperation.AcceptMultishot(_listener, Tag(0, Accept)));
                }
                else
                {
                    _pool.TryRent(out conn.Buffer);
                    Arm(RingOperation.Recv(conn.Handle, _pool.Slice(conn.Buffer, 0, _pool.BufferSize), Tag(s, Recv)));
                    Arm(RingOperation.Accept(_listener, Tag(0, Accept)));
                }

                return;
            case Recv:
                OnReceived(slot, c);
                return;
            case Send:
                OnSent(slot, c);
                return;
            case Close:
                if (!c.IsSuccess)
                    Fail(c);
                Closed++;
                Conn closed = _conns[slot];
                _conns.Remove(slot);
                if (!Multishot)
                    _pool.Return(closed.Buffer);
                return;
        }
    }

    private void OnReceived(uint slot, RingCompletion c)
    {
        if (!_conns.TryGetValue(slot, out Conn? conn) || conn.Closing)
        {
            if ((c.Flags & RingCompletionFlags.Buffer) != 0)
                _ring.ReturnBuffer(Group, c.BufferId);   // the final completion of a receive canceled by the close
            return;
        }

        if (c.IsSuccess && c.Result > 0)
        {
            int buffer = Multishot ? c.BufferId : conn.Buffer;
            conn.Queue.Enqueue((buffer, c.Result));
            if (conn.Queue.Count == 1)
                SendHead(slot, conn);
            if (Multishot)
            {
                if (!c.HasMore)
                    Arm(RingOperation.RecvMultishot(conn.Handle, Group, Tag(slot, Recv)));
            }

            return;
        }

        if (Multishot && c.Error.Kind == ErrorKind.OutOfMemory)
        {
            _starved.Add(slot);   // ENOBUFS: the group ran dry; re-armed after this batch returned buffers
            return;
        }

        if (!c.IsSuccess && c.Error.Kind is not (ErrorKind.ConnectionReset or ErrorKind.Canceled))
            Fail(c);
        conn.PeerDone = true;
        if (conn.Queue.Count == 0)
            CloseConn(slot, conn);
    }

    private void CloseConn(uint slot, Conn conn)
    {
        conn.Closing = true;
        Arm(RingOperation.Close(conn.Handle, Tag(slot, Close)));
    }

    private void OnSent(uint slot, RingCompletion c)
    {
        if (!_conns.TryGetValue(slot, out Conn? conn) || conn.Closing)
            return;
        if (!c.IsSuccess)
        {
            Fail(c);
            return;
        }

        var (buffer, length) = conn.Queue.Peek();
        conn.Sent += c.Result;
        if (conn.Sent < length)
        {
            SendHead(slot, conn);   // partial: the rest of the same buffer
            return;
        }

        conn.Queue.Dequeue();
        conn.Sent = 0;
        if (Multishot)
        {
            _ring.ReturnBuffer(Group, buffer);
            BuffersReturned++;
        }

        if (conn.Queue.Count > 0)
            SendHead(slot, conn);
        else if (conn.PeerDone)
            CloseConn(slot, conn);
        else if (!Multishot)
            Arm(RingOperation.Recv(conn.Handle, _pool.Slice(conn.Buffer, 0, _pool.BufferSize), Tag(slot, Recv)));
    }

    private void SendHead(uint slot, Conn conn)
    {
        var (buffer, length) = conn.Queue.Peek();
        Arm(RingOperation.Send(conn.Handle, _pool.Slice(buffer, conn.Sent, length - conn.Sent), Tag(slot, Send)));
    }

    private void Arm(in RingOperation op) => RingKit.Enqueue(_ring, op);

    private void Fail(RingCompletion c)
    {
        lock (Failures)
            Failures.Add(c.ToString());
    }

    private static UserData Tag(uint slot, byte tag) => UserData.Create(slot, 1, tag);

    private sealed class Conn
    {
        public SocketHandle Handle = null!;
        public int Buffer;
        public int Sent;
        public bool PeerDone;
        public bool Closing;
        public readonly Queue<(int Buffer, int Length)> Queue = new();
    }
}
