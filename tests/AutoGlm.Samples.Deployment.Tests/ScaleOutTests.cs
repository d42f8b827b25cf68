using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using AutoGlm.ModelBuilder;
using Xunit.Abstractions;

namespace AutoGlm.Samples.Deployment.Tests;

/// <summary>
/// Three Web API processes on the tiny model behind the YARP gateway, under a bounded load from 127.0.0.1: one replica is
/// drained (SIGTERM) and another crashes (SIGKILL) mid-run. Requests in flight on the drained one finish, new requests go
/// to the healthy ones, and the only failures are requests that were in flight on the crashed one.
/// </summary>
public sealed class ScaleOutTests(ITestOutputHelper output)
{
    private const int Workers = 6;
    private const int MaxRequests = 5000; // a bound, not a target: a quiet machine sent 600 before the kill at 6 s; the 10 s limit ends the run first
    private static readonly TimeSpan s_drainAt = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan s_killAt = TimeSpan.FromSeconds(6);
    private static readonly TimeSpan s_runFor = TimeSpan.FromSeconds(10);

    private sealed record Outcome(int Id, TimeSpan Start, TimeSpan End, int Status, string? Replica, string? Error);

    [Fact]
    public async Task ThreeReplicasBehindYarp_DrainOneAndKillAnother_OnlyTheKilledReplicasInFlightRequestsFail()
    {
        string folder = Directory.CreateTempSubdirectory("autoglm-scale-out-").FullName;
        var replicas = new List<ReplicaProcess>();
        ReplicaProcess? gateway = null;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        try
        {
            string model = Path.Combine(folder, "model");
            await GlmModelBuilder.BuildRandomAsync(new RandomCheckpointOptions { Preset = "tiny", Seed = 1 }, model);
            for (int i = 0; i < 3; i++)
            {
                int port = ReplicaProcess.FreePort();
                replicas.Add(ReplicaProcess.Start($"replica-{i}", "AutoGlm.Samples.WebApi.dll", port,
                    $"--AutoGlm:ModelPath={model}", $"--OpenAiApi:Port={port}", "--OpenAiApi:ShutdownDelay=00:00:01.500", "--AutoGlm:DrainTimeout=00:00:20"));
            }

            await Task.WhenAll(replicas.Select(r => r.WaitHealthyAsync(http, "/health", TimeSpan.FromSeconds(60))));
            int gatewayPort = ReplicaProcess.FreePort();
            gateway = ReplicaProcess.Start("gateway", "AutoGlm.Samples.Gateway.dll", gatewayPort,
                [$"--Gateway:Port={gatewayPort}", "--Gateway:HealthCheckInterval=00:00:00.300", "--Gateway:HealthCheckTimeout=00:00:01",
                 .. replicas.Select((r, i) => $"--Gateway:Replicas:{i}={r.BaseAddress}")]);
            await gateway.WaitHealthyAsync(http, "/v1/models", TimeSpan.FromSeconds(30));

            ReplicaProcess drained = replicas[0], killed = replicas[1], survivor = replicas[2];
            var outcomes = new ConcurrentBag<Outcome>();
            var clock = Stopwatch.StartNew();
            int next = 0;
            TimeSpan termAt = TimeSpan.MaxValue, killStart = TimeSpan.MaxValue, killEnd = TimeSpan.MaxValue;
            bool killedExited = false;
            Uri completions = new(gateway.BaseAddress, "v1/chat/completions");

            async Task WorkerAsync()
            {
                while (clock.Elapsed < s_runFor)
                {
                    int id = Interlocked.Increment(ref next);
                    if (id > MaxRequests)
                    {
                        return;
                    }

                    TimeSpan start = clock.Elapsed;
                    using var content = new StringContent(
                        $$"""{"messages":[{"role":"user","content":"Request {{id}}: tell me about the river"}],"max_tokens":24,"temperature":0}""",
                        Encoding.UTF8, "application/json");
                    try
                    {
                        using HttpResponseMessage response = await http.PostAsync(completions, content);
                        string body = await response.Content.ReadAsStringAsync();
                        string? replica = response.Headers.TryGetValues("X-AutoGlm-Replica", out IEnumerable<string>? r) ? r.Single() : null;
                        string? error = response.IsSuccessStatusCode ? null
                            : (response.Headers.TryGetValues("X-AutoGlm-Gateway-Error", out IEnumerable<string>? e) ? e.Single() : null) ?? body;
                        outcomes.Add(new Outcome(id, start, clock.Elapsed, (int)response.StatusCode, replica, error));
                    }
                    catch (HttpRequestException ex)
                    {
                        outcomes.Add(new Outcome(id, start, clock.Elapsed, 0, null, ex.Message));
                    }
                }
            }

            async Task ChaosAsync()
            {
                await Task.Delay(s_drainAt);
                termAt = clock.Elapsed;
                drained.Terminate();
                await Task.Delay(s_killAt - s_drainAt);
                killStart = clock.Elapsed;
                killed.Kill();
                // SIGKILL is asynchronous: until the process is reaped its sockets may still take requests, so a request is
                // "in flight on the killed replica" if it started before the exit was observed and ended after the signal.
                killedExited = await killed.WaitForExitAsync(TimeSpan.FromSeconds(10));
                killEnd = clock.Elapsed;
            }

            await Task.WhenAll([.. Enumerable.Range(0, Workers).Select(_ => Task.Run(WorkerAsync)), ChaosAsync()]);
            bool drainedExited = await drained.WaitForExitAsync(TimeSpan.FromSeconds(30));

            Outcome[] all = [.. outcomes.OrderBy(o => o.Id)];
            Outcome[] failed = [.. all.Where(o => o.Status != 200)];
            string Count(string replica) => $"{replica}: {all.Count(o => o.Replica == replica && o.Status == 200)} ok / {all.Count(o => o.Replica == replica && o.Status != 200)} failed";
            output.WriteLine($"sent {all.Length}, succeeded {all.Length - failed.Length}, failed {failed.Length} in {clock.Elapsed.TotalSeconds:0.0} s; " +
                $"SIGTERM replica-0 at {termAt.TotalSeconds:0.00} s, SIGKILL replica-1 at {killStart.TotalSeconds:0.000} s, its exit observed at {killEnd.TotalSeconds:0.000} s; " +
                string.Join("; ", replicas.Select(r => Count(r.Name))));
            foreach (Outcome f in failed)
            {
                output.WriteLine($"  failed #{f.Id} {f.Start.TotalSeconds:0.000}-{f.End.TotalSeconds:0.000} s on {f.Replica ?? "?"}: {f.Status} {f.Error}");
            }

            Assert.True(all.Length >= 30, $"only {all.Length} requests were sent");
            Assert.True(killedExited, $"{killed.Name} did not exit within 10 s of SIGKILL");
            // The only failures: requests the killed replica had accepted and not answered when it died.
            Assert.All(failed, f =>
            {
                Assert.Equal(killed.Name, f.Replica);
                Assert.True(f.Start < killEnd && f.End >= killStart, $"#{f.Id} ({f.Start}-{f.End}) was not in flight at the kill (signal {killStart}, exit observed {killEnd})");
            });
            // Every request the drained replica took, including those in flight at SIGTERM, finished; it exited cleanly.
            Outcome[] onDrained = [.. all.Where(o => o.Replica == drained.Name)];
            Assert.Contains(onDrained, o => o.Start < termAt);
            Assert.All(onDrained, o => Assert.Equal(200, o.Status));
            Assert.True(drainedExited, $"{drained.Name} did not exit within 30 s of SIGTERM:\n{drained.Output}");
            Assert.Equal(0, drained.ExitCode);
            // Before the trouble the gateway spread requests over all three; after the kill was noticed only the survivor served.
            Assert.All(replicas, r => Assert.Contains(all, o => o.Replica == r.Name && o.Start < termAt && o.Status == 200));
            Assert.All(all.Where(o => o.Start > killEnd + TimeSpan.FromSeconds(1)), o => Assert.Equal((survivor.Name, 200), (o.Replica, o.Status)));
            Assert.Contains(all, o => o.Start > killEnd + TimeSpan.FromSeconds(1));
        }
        finally
        {
            if (gateway is not null)
            {
                await gateway.DisposeAsync();
            }

            foreach (ReplicaProcess replica in replicas)
            {
                await replica.DisposeAsync();
            }

            Directory.Delete(folder, recursive: true);
        }
    }
}
