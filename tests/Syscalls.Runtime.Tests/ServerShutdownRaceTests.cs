using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Syscalls.Runtime.Tests.Infrastructure;
using Xunit;

namespace Syscalls.Runtime.Tests;

/// <summary>Dispose from another thread racing the loop: its start (Run not yet running) and its end (Run returning
/// after Stop). Either way the server shuts down exactly once: each connection is closed once, as canceled, and Run
/// either serves or refuses with ObjectDisposedException, never anything else.</summary>
public class ServerShutdownRaceTests
{
    [Theory]
    [MemberData(nameof(TestBackends.Servers), MemberType = typeof(TestBackends))]
    public void Dispose_RacingRunFromAnotherThread_ShutsDownExactlyOnce(string backend)
    {
        int iterations = Platform.IsWine ? 6 : 40;
        for (int i = 0; i < iterations; i++)
        {
            var handler = new EchoHandler();
            IServer server = BackendSelector.CreateServer(new ServerOptions { Backend = TestBackends.Kind(backend) }, handler);
            var clients = new List<Socket>();
            Exception? failure = null;
            using var started = new ManualResetEventSlim();
            var loop = new Thread(() =>
            {
                try
                {
                    started.Set();
                    server.Run();
                }
                catch (ObjectDisposedException) when (i % 2 == 1)
                {
                    // Dispose came first: Run refuses, and nothing was served.
                }
                catch (Exception e)
                {
                    failure = e;
                }
            }) { IsBackground = true };
            try
            {
                if (i % 2 == 0)
                {
                    // The end: connections open and served, then Stop and Dispose at once from two threads.
                    loop.Start();
                    for (int c = 0; c < 2; c++)
                        clients.Add(Peers.Connect(server.LocalEndpoint.ToIPEndPoint()));
                    Assert.True(EchoHandler.WaitFor(() => handler.Opened == clients.Count), "connections not opened");
                    Parallel.Invoke(server.Stop, server.Dispose);
                }
                else
                {
                    // The start: Dispose as the loop thread begins.
                    loop.Start();
                    started.Wait(TestContext.Current.CancellationToken);
                    server.Dispose();
                }

                Assert.True(loop.Join(TimeSpan.FromSeconds(20)), "Run did not return");
                server.Dispose();   // again, after the end: nothing left to do
                Assert.Null(failure);
                Assert.Equal(handler.Opened, handler.Closed);
                Assert.All(handler.CloseReasons, r => Assert.Equal(ErrorKind.Canceled, r.Kind));
            }
            finally
            {
                foreach (Socket c in clients)
                    c.Dispose();
            }
        }
    }
}
