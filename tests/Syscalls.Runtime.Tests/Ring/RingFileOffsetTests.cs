using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Pipes;
using Syscalls.Runtime.Tests.Infrastructure;
using Xunit;

namespace Syscalls.Runtime.Tests.Ring;

/// <summary>Read and Write honour <see cref="RingOperation.Offset"/> as io_uring does: an offset is pread/pwrite (the file
/// position neither used nor moved), -1 is the current position (used and moved). Every ring backend, a real file.</summary>
public sealed class RingFileOffsetTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"syscalls-ring-offset-{Guid.NewGuid():N}.bin");
    private readonly RingBufferPool _pool = new(4096, 2);
    private readonly List<RingCompletion> _got = new();
    private readonly int _w;
    private readonly int _r;
    private uint _next;

    public RingFileOffsetTests()
    {
        Assert.True(_pool.TryRent(out _w));
        Assert.True(_pool.TryRent(out _r));
    }

    public void Dispose() => File.Delete(_path);

    [Theory]
    [MemberData(nameof(RingKit.Backends), MemberType = typeof(RingKit))]
    public void Ring_ReadWriteAtOffset_UsesTheOffsetAndLeavesThePositionAlone(string backend)
    {
        Platform.RequireLinux("Read/Write of a file descriptor (read/write are in the Linux bindings only)");
        using IRing ring = RingKit.Create(backend);
        using (var file = File.OpenHandle(_path, FileMode.CreateNew, FileAccess.ReadWrite))
        {
            Assert.Equal(10, Write(ring, file, "0123456789"u8, -1));   // position 0 -> 10
            Assert.Equal(2, Write(ring, file, "AB"u8, 4));              // in place, position stays 10
            Assert.Equal("3AB6", Read(ring, file, 4, 3));
            Assert.Equal(2, Write(ring, file, "XY"u8, -1));            // at 10, where the position was left
            Assert.Equal("", Read(ring, file, 100, -1));               // position 12: end of file
            Assert.Equal("0123AB6789XY", Read(ring, file, 100, 0));
            Assert.Equal(1, Write(ring, file, "Z"u8, 20));             // past the end: a hole of zeros
            Assert.Equal("", Read(ring, file, 100, 100));              // past the end: nothing, no error
            Assert.Equal("\0\0\0\0\0\0\0\0Z", Read(ring, file, 100, -1));   // the position is still 12
        }

        Assert.Equal("0123AB6789XY\0\0\0\0\0\0\0\0Z"u8.ToArray(), File.ReadAllBytes(_path));
    }

    [Theory]
    [MemberData(nameof(RingKit.Backends), MemberType = typeof(RingKit))]
    public void Ring_ReadAtOffsetOnWriteOnlyFile_FailsWithBadDescriptor(string backend)
    {
        Platform.RequireLinux("Read/Write of a file descriptor (read/write are in the Linux bindings only)");
        using IRing ring = RingKit.Create(backend);
        File.WriteAllBytes(_path, "content"u8.ToArray());
        using var file = File.OpenHandle(_path, FileMode.Open, FileAccess.Write);
        RingCompletion c = Submit(ring, RingOperation.Read(file, _pool.Slice(_r, 0, 16), 2, Next()));
        Assert.Equal(ErrorKind.BadDescriptor, c.Error.Kind);
    }

    [Theory]
    [MemberData(nameof(RingKit.Backends), MemberType = typeof(RingKit))]
    public void Ring_ReadAtOffsetOnPipe_ReadsTheStream(string backend)
    {
        Platform.RequireLinux("Read/Write of a file descriptor (read/write are in the Linux bindings only)");
        // A pipe has no positions: io_uring reads it as a stream whatever the offset, and so does the emulation
        // (pread's ESPIPE turns into a plain read).
        using IRing ring = RingKit.Create(backend);
        using var server = new AnonymousPipeServerStream(PipeDirection.Out);
        server.Write("pipe"u8);
        server.Flush();
        Assert.Equal("pipe", Read(ring, server.ClientSafePipeHandle, 100, 5));
    }

    private int Write(IRing ring, System.Runtime.InteropServices.SafeHandle file, ReadOnlySpan<byte> data, long offset)
    {
        data.CopyTo(_pool.GetSpan(_w));
        RingCompletion c = Submit(ring, RingOperation.Write(file, _pool.Slice(_w, 0, data.Length), offset, Next()));
        Assert.True(c.IsSuccess, c.ToString());
        return c.Result;
    }

    private string Read(IRing ring, System.Runtime.InteropServices.SafeHandle file, int length, long offset)
    {
        _pool.GetSpan(_r).Clear();
        RingCompletion c = Submit(ring, RingOperation.Read(file, _pool.Slice(_r, 0, length), offset, Next()));
        Assert.True(c.IsSuccess, c.ToString());
        return System.Text.Encoding.Latin1.GetString(_pool.GetSpan(_r)[..c.Result]);
    }

    /// <summary>One operation at a time: io_uring runs queued operations concurrently unless linked.</summary>
    private RingCompletion Submit(IRing ring, in RingOperation op)
    {
        RingKit.Enqueue(ring, op);
        return RingKit.WaitFor(ring, _got, op.UserData);
    }

    private UserData Next() => RingKit.Tag(++_next, 9);
}
