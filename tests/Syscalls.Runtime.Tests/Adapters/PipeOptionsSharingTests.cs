using System;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading.Tasks;
using Syscalls.Runtime.Tests.Infrastructure;
using Syscalls.Runtime.Tests.Loop;
using Xunit;

namespace Syscalls.Runtime.Tests.Adapters;

/// <summary>Pipes made from one <see cref="ConnectionPipeOptions"/> share one validated copy of it, and on one loop one
/// pair of <see cref="PipeOptions"/> (an idle connection is the C10K figure, and each used to carry its own three
/// objects); a change to the options reaches the pipes made after it and leaves the earlier ones alone.</summary>
public class PipeOptionsSharingTests
{
    [Theory]
    [MemberData(nameof(TestBackends.Loops), MemberType = typeof(TestBackends))]
    public async Task PipesFromOneOptions_ShareItsSnapshot_AndAChangeReachesOnlyLaterPipes(string backend)
    {
        using var server = new AdapterServer(backend);
        using var pool = new PinnedBlockMemoryPool();
        var options = new ConnectionPipeOptions { Pool = pool, InputPauseThreshold = 64 * 1024, InputResumeThreshold = 32 * 1024 };
        (Socket clientA, AsyncConnection a) = await server.ConnectSocket();
        (Socket clientB, AsyncConnection b) = await server.ConnectSocket();
        (Socket clientC, AsyncConnection c) = await server.ConnectSocket();
        using Socket ca = clientA, cb = clientB, cc = clientC;

        ConnectionPipe pipeA = a.AsPipe(options);
        ConnectionPipe pipeB = b.AsPipe(options);
        Assert.Same(pipeA.Options, pipeB.Options);
        Assert.NotSame(options, pipeA.Options);
        (PipeOptions input, PipeOptions output) = pipeA.Options.PipeOptionsOn(server.Loop);
        Assert.Same(input, pipeB.Options.PipeOptionsOn(server.Loop).Input);
        Assert.Same(output, pipeB.Options.PipeOptionsOn(server.Loop).Output);
        Assert.Equal(64 * 1024, input.PauseWriterThreshold);
        Assert.Same(pool, input.Pool);

        // A change: the next pipe has it, the earlier ones keep what they were made with.
        options.InputPauseThreshold = 128 * 1024;
        ConnectionPipe pipeC = c.AsPipe(options);
        Assert.NotSame(pipeA.Options, pipeC.Options);
        Assert.Equal(128 * 1024, pipeC.Options.PipeOptionsOn(server.Loop).Input.PauseWriterThreshold);
        Assert.Equal(64 * 1024, pipeA.Options.InputPauseThreshold);
        Assert.Equal(64 * 1024, pipeA.Options.PipeOptionsOn(server.Loop).Input.PauseWriterThreshold);

        // A change that makes the options invalid is still refused.
        options.InputResumeThreshold = 256 * 1024;
        Assert.Throws<ArgumentOutOfRangeException>(() => ConnectionPipe.Create(a, options));

        foreach (ConnectionPipe pipe in new[] { pipeA, pipeB, pipeC })
            await LoopKit.Off(pipe.DisposeAsync().AsTask());
    }

    [Fact]
    public void PipeOptions_ArePerLoop_EachResumingTheTransportOnItsOwnLoop()
    {
        using EventLoop first = EventLoop.Start(new LoopOptions());
        using EventLoop second = EventLoop.Start(new LoopOptions());
        ConnectionPipeOptions snapshot = new ConnectionPipeOptions { ApplicationScheduler = PipeScheduler.ThreadPool }.Snapshot();

        (PipeOptions input1, PipeOptions output1) = snapshot.PipeOptionsOn(first);
        (PipeOptions input2, PipeOptions output2) = snapshot.PipeOptionsOn(second);
        Assert.NotSame(input1, input2);
        Assert.Same(LoopPipeScheduler.For(first), input1.WriterScheduler);
        Assert.Same(LoopPipeScheduler.For(first), output1.ReaderScheduler);
        Assert.Same(LoopPipeScheduler.For(second), input2.WriterScheduler);
        Assert.Same(PipeScheduler.ThreadPool, input2.ReaderScheduler);
        Assert.Same(PipeScheduler.ThreadPool, output2.WriterScheduler);
        Assert.False(input1.UseSynchronizationContext);
        Assert.Same(snapshot, snapshot.Snapshot());
    }
}
