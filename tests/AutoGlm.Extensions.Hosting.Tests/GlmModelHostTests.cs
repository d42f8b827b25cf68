using AutoGlm.Generation;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AutoGlm.Extensions.Hosting.Tests;

[Collection(TinyModelCollection.Name)]
public sealed class GlmModelHostTests
{
    private const string StoppingMessage = "The AutoGlm model host is shutting down and accepts no new requests; send the request to another instance or retry after it restarts.";
    private readonly TinyModelFixture _fixture;

    public GlmModelHostTests(TinyModelFixture fixture)
    {
        _fixture = fixture;
    }

    [Fact]
    public async Task GetResponseAsync_LazyHostAndConcurrentFirstRequests_LoadsTheModelOnce()
    {
        await using HostedModel hosted = HostedModel.Create(_fixture.ModelPath);
        await hosted.HostedService.StartAsync(CancellationToken.None);
        Assert.Equal(GlmModelHostState.NotLoaded, hosted.Host.State);
        Assert.Equal(0, hosted.Loader.LoadCount);

        ChatResponse[] responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => hosted.Client.GetResponseAsync("hi")));

        Assert.All(responses, r => Assert.Equal("hello", r.Text));
        Assert.Equal(1, hosted.Loader.LoadCount);
        Assert.Equal(GlmModelHostState.Ready, hosted.Host.State);
        FakeChatClient client = Assert.Single(hosted.Factory.Clients);
        Assert.Equal(8, client.Served);
        Assert.Same(client.Model, hosted.Host.LoadedModel);
        Assert.Same(client.Model, hosted.Client.GetService<GlmModel>());
        ChatClientMetadata metadata = hosted.Client.GetService<ChatClientMetadata>()!;
        Assert.Equal(("autoglm", "model-v1"), (metadata.ProviderName, metadata.DefaultModelId));
        Assert.Same(client, hosted.Client.GetService<FakeChatClient>());
    }

    [Fact]
    public async Task StartAsync_LoadOnStartup_StartsLoadingWithoutWaitingAndReportsUnhealthyUntilLoaded()
    {
        await using HostedModel hosted = HostedModel.Create(_fixture.ModelPath, o => o.LoadOnStartup = true);
        hosted.Loader.HoldLoads();
        var check = new GlmModelHealthCheck(hosted.Host);

        await hosted.HostedService.StartAsync(CancellationToken.None);

        Assert.Equal(GlmModelHostState.Loading, hosted.Host.State);
        HealthCheckResult loading = await check.CheckHealthAsync(new HealthCheckContext());
        Assert.Equal(HealthStatus.Unhealthy, loading.Status);
        Assert.Equal($"Model '{_fixture.ModelPath}' is loading.", loading.Description);
        Task<ChatResponse> waiting = hosted.Client.GetResponseAsync("hi");
        Assert.False(waiting.IsCompleted);

        hosted.Loader.ReleaseLoads();

        Assert.Equal("hello", (await waiting).Text);
        Assert.Equal(GlmModelHostState.Ready, hosted.Host.State);
        Assert.Equal(1, hosted.Loader.LoadCount);
        HealthCheckResult ready = await check.CheckHealthAsync(new HealthCheckContext());
        Assert.Equal(HealthStatus.Healthy, ready.Status);
        Assert.Equal($"Model '{_fixture.ModelPath}' is serving: 0 running, 0 of 64 queued.", ready.Description);
    }

    [Fact]
    public async Task CheckHealthAsync_RequestsQueuedBehindAFullBatch_ReportsDegradedThenHealthy()
    {
        await using HostedModel hosted = HostedModel.Create(_fixture.ModelPath, o => { o.MaxBatchSize = 1; o.QueueCapacity = 2; o.DegradedQueueFraction = 0.5; });
        await hosted.Host.StartLoadingAsync();
        var check = new GlmModelHealthCheck(hosted.Host);
        var options = new GenerationOptions { Temperature = 0f, MaxNewTokens = 200, IgnoreEos = true };
        GlmModelLease first = await hosted.Host.AcquireAsync();
        GlmModelLease second = await hosted.Host.AcquireAsync();

        // One batch slot: while the first request decodes, the second waits in the model's queue.
        Task<GenerationResult>[] running = [first.Model.GenerateAsync("a", options), second.Model.GenerateAsync("b", options)];
        HealthCheckResult? degraded = null;
        while (!running.All(t => t.IsCompleted) && degraded is null)
        {
            HealthCheckResult result = await check.CheckHealthAsync(new HealthCheckContext());
            degraded = result.Status == HealthStatus.Degraded ? result : null;
        }

        await Task.WhenAll(running);
        first.Dispose();
        second.Dispose();
        HealthCheckResult seen = Assert.NotNull(degraded);
        // Seen either before the scheduler admitted the first request (2 queued) or after (1 queued, 1 running).
        int queued = (int)seen.Data["queued_requests"];
        Assert.InRange(queued, 1, 2);
        Assert.Equal($"The request queue of model '{_fixture.ModelPath}' is nearly full: {queued} of 2 places taken.", seen.Description);
        Assert.Equal(2, seen.Data["requests_in_flight"]);
        HealthCheckResult after = await check.CheckHealthAsync(new HealthCheckContext());
        Assert.Equal(HealthStatus.Healthy, after.Status);
        Assert.Equal(0, after.Data["requests_in_flight"]);
    }

    [Fact]
    public async Task GetResponseAsync_LoadFails_ReportsFailedAndTheNextRequestLoadsAgain()
    {
        await using HostedModel hosted = HostedModel.Create(_fixture.ModelPath);
        var failure = new ModelLoadException("model.onnx is truncated");
        hosted.Loader.Failure = failure;
        var check = new GlmModelHealthCheck(hosted.Host);

        var thrown = await Assert.ThrowsAsync<ModelLoadException>(() => hosted.Client.GetResponseAsync("hi"));

        Assert.Same(failure, thrown);
        Assert.Equal(GlmModelHostState.Failed, hosted.Host.State);
        Assert.Same(failure, hosted.Host.GetStatus().LoadError);
        HealthCheckResult failed = await check.CheckHealthAsync(new HealthCheckContext());
        Assert.Equal(HealthStatus.Unhealthy, failed.Status);
        Assert.Equal($"Loading model '{_fixture.ModelPath}' failed: model.onnx is truncated", failed.Description);
        Assert.Same(failure, failed.Exception);

        hosted.Loader.Failure = null;

        Assert.Equal("hello", (await hosted.Client.GetResponseAsync("hi")).Text);
        Assert.Equal(2, hosted.Loader.LoadCount);
        Assert.Equal(GlmModelHostState.Ready, hosted.Host.State);
        Assert.Null(hosted.Host.GetStatus().LoadError);
    }

    [Fact]
    public async Task GetResponseAsync_KvBudgetSmallerThanTheContext_FailsTheLoadQuotingBoth()
    {
        int context;
        await using (GlmModel probe = GlmModel.Load(_fixture.ModelPath, new GlmModelOptions { WarmUp = false }))
        {
            context = probe.MaxSequenceLength;
        }

        await using HostedModel hosted = HostedModel.Create(_fixture.ModelPath, o => { o.KvBudgetTokens = 16; o.WarmUp = false; });

        var ex = await Assert.ThrowsAsync<ModelLoadException>(() => hosted.Client.GetResponseAsync("hi"));

        Assert.Equal(
            $"The AutoGlm model host: KvBudgetTokens (16) is smaller than one max-length sequence ({context} tokens) of model '{_fixture.ModelPath}', " +
            $"so a long request could never run; raise KvBudgetTokens to at least {context} or set MaxSequenceLength to at most 16.",
            ex.Message);
        Assert.Equal(GlmModelHostState.Failed, hosted.Host.State);
        Assert.Empty(hosted.Factory.Clients);
        Assert.Throws<ObjectDisposedException>(() => hosted.Loader.Loaded.Single().GenerateStreamingAsync([1, 2]));
    }

    [Fact]
    public async Task StopAsync_RequestsInFlight_CompleteWhileNewOnesAreRejected()
    {
        await using HostedModel hosted = HostedModel.Create(_fixture.ModelPath, o => o.DrainTimeout = TimeSpan.FromMinutes(1));
        await hosted.Host.StartLoadingAsync();
        hosted.Factory.CloseGate();
        Task<ChatResponse>[] inFlight = [.. Enumerable.Range(0, 3).Select(_ => hosted.Client.GetResponseAsync("hi"))];
        await hosted.Factory.WaitForStartedAsync(3);

        Task stopping = hosted.HostedService.StopAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => hosted.Host.State == GlmModelHostState.Stopping, "the host to start stopping");

        var rejected = await Assert.ThrowsAsync<AutoGlmException>(() => hosted.Client.GetResponseAsync("hi"));
        Assert.Equal(StoppingMessage, rejected.Message);
        var rejectedStream = await Assert.ThrowsAsync<AutoGlmException>(async () =>
        {
            await foreach (ChatResponseUpdate _ in hosted.Client.GetStreamingResponseAsync("hi"))
            {
            }
        });
        Assert.Equal(StoppingMessage, rejectedStream.Message);
        Assert.Equal(3, hosted.Host.GetStatus().RequestsInFlight);
        Assert.False(stopping.IsCompleted);
        FakeChatClient client = Assert.Single(hosted.Factory.Clients);
        Assert.False(client.IsDisposed);

        hosted.Factory.OpenGate();

        Assert.All(await Task.WhenAll(inFlight), r => Assert.Equal("hello", r.Text));
        await stopping;
        Assert.Equal(GlmModelHostState.Stopped, hosted.Host.State);
        Assert.Equal(3, client.Served);
        Assert.Equal(0, client.Cancelled);
        Assert.True(client.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => client.Model.GenerateStreamingAsync([1, 2]));
        Assert.Equal(StoppingMessage, (await Assert.ThrowsAsync<AutoGlmException>(() => hosted.Client.GetResponseAsync("hi"))).Message);
    }

    [Fact]
    public async Task StopAsync_DrainTimeoutRunsOut_CancelsTheRequestsStillRunning()
    {
        await using HostedModel hosted = HostedModel.Create(_fixture.ModelPath, o => o.DrainTimeout = TimeSpan.FromSeconds(10));
        await hosted.Host.StartLoadingAsync();
        hosted.Factory.CloseGate();
        Task<ChatResponse> stuck = hosted.Client.GetResponseAsync("hi");
        await hosted.Factory.WaitForStartedAsync(1);

        Task stopping = hosted.Host.StopAsync();
        await Eventually.TrueAsync(() => hosted.Time.ActiveTimerCount == 1, "the drain timer");
        hosted.Time.Advance(TimeSpan.FromSeconds(9));
        await Task.Delay(50);
        Assert.False(stopping.IsCompleted);
        Assert.False(stuck.IsCompleted);

        hosted.Time.Advance(TimeSpan.FromSeconds(1));

        await stopping;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stuck);
        FakeChatClient client = Assert.Single(hosted.Factory.Clients);
        Assert.Equal(1, client.Cancelled);
        Assert.True(client.IsDisposed);
        Assert.Equal(GlmModelHostState.Stopped, hosted.Host.State);
    }

    [Fact]
    public async Task KeepAlive_IdleForThePeriod_UnloadsAndTheNextRequestLoadsAgain()
    {
        await using HostedModel hosted = HostedModel.Create(_fixture.ModelPath, o => o.KeepAlive = TimeSpan.FromMinutes(5));
        Assert.Equal("hello", (await hosted.Client.GetResponseAsync("hi")).Text);
        FakeChatClient first = Assert.Single(hosted.Factory.Clients);

        hosted.Time.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(GlmModelHostState.Ready, hosted.Host.State);
        hosted.Time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(GlmModelHostState.NotLoaded, hosted.Host.State);
        Assert.Null(hosted.Host.LoadedModel);
        await Eventually.TrueAsync(() => first.IsDisposed, "the idle model's chat client to be disposed");
        await Eventually.TrueAsync(() => IsDisposed(first.Model), "the idle model to be disposed");
        HealthCheckResult unloaded = await new GlmModelHealthCheck(hosted.Host).CheckHealthAsync(new HealthCheckContext());
        Assert.Equal(HealthStatus.Healthy, unloaded.Status);
        Assert.Equal($"Model '{_fixture.ModelPath}' is not loaded; it loads on the next request.", unloaded.Description);

        Assert.Equal("hello", (await hosted.Client.GetResponseAsync("hi")).Text);

        Assert.Equal(2, hosted.Loader.LoadCount);
        Assert.Equal(2, hosted.Factory.Clients.Count);
        Assert.Equal(1, hosted.Factory.Clients[1].Served);
        Assert.Equal(GlmModelHostState.Ready, hosted.Host.State);
    }

    [Fact]
    public async Task KeepAlive_LoadedAtStartUpButNeverUsed_UnloadsAfterThePeriod()
    {
        await using HostedModel hosted = HostedModel.Create(_fixture.ModelPath, o => { o.KeepAlive = TimeSpan.FromSeconds(30); o.LoadOnStartup = true; });
        await hosted.HostedService.StartAsync(CancellationToken.None);
        await hosted.Host.StartLoadingAsync();

        hosted.Time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(GlmModelHostState.Ready, hosted.Host.State);
        hosted.Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(GlmModelHostState.NotLoaded, hosted.Host.State);
        await Eventually.TrueAsync(() => Assert.Single(hosted.Factory.Clients).IsDisposed, "the unused model to be released");
    }

    [Fact]
    public async Task KeepAlive_DuringARollout_DoesNotUnload()
    {
        await using HostedModel hosted = HostedModel.Create(_fixture.ModelPath, o => o.KeepAlive = TimeSpan.FromSeconds(30));
        await hosted.Host.StartLoadingAsync();
        await hosted.Host.LoadCandidateAsync(_fixture.SecondModelPath, 0.5);

        hosted.Time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(GlmModelHostState.Ready, hosted.Host.State);
        await hosted.Host.RollBackCandidateAsync();
        hosted.Time.Advance(TimeSpan.FromSeconds(30));

        Assert.Equal(GlmModelHostState.NotLoaded, hosted.Host.State);
    }

    [Fact]
    public async Task KeepAlive_RequestStillRunning_KeepsTheModelUntilItHasBeenIdleForThePeriod()
    {
        await using HostedModel hosted = HostedModel.Create(_fixture.ModelPath, o => o.KeepAlive = TimeSpan.FromMinutes(5));
        await hosted.Host.StartLoadingAsync();
        hosted.Factory.CloseGate();
        Task<ChatResponse> slow = hosted.Client.GetResponseAsync("hi");
        await hosted.Factory.WaitForStartedAsync(1);

        hosted.Time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(GlmModelHostState.Ready, hosted.Host.State);
        hosted.Factory.OpenGate();
        await slow;
        hosted.Time.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(GlmModelHostState.Ready, hosted.Host.State);
        hosted.Time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(GlmModelHostState.NotLoaded, hosted.Host.State);
        Assert.Equal(1, hosted.Loader.LoadCount);
    }

    [Fact]
    public async Task PromoteCandidateAsync_UnderConcurrentLoad_SplitsTrafficByWeightAndLosesNoRequest()
    {
        await using HostedModel hosted = HostedModel.Create(_fixture.ModelPath, o => o.MaxBatchSize = 4);
        hosted.Factory.Generate = true;
        GlmModelHost host = hosted.Host;
        await host.StartLoadingAsync();
        await host.LoadCandidateAsync(_fixture.SecondModelPath, 0.1);
        Assert.Equal(2, hosted.Loader.LoadCount);
        (FakeChatClient v1, FakeChatClient v2) = (hosted.Factory.Clients[0], hosted.Factory.Clients[1]);
        Assert.Equal(_fixture.SecondModelPath, v2.Model.Info.FolderPath);
        GlmModelHostStatus rollout = host.GetStatus();
        Assert.Equal((_fixture.ModelPath, _fixture.SecondModelPath, 0.1), (rollout.ModelPath, rollout.CandidateModelPath, rollout.CandidateTrafficShare));

        const int Requests = 200;
        ChatResponse[] split = await RunConcurrentlyAsync(hosted.Client, Requests, parallelism: 16);

        Assert.All(split, r => Assert.Equal("3 tokens", r.Text));
        Assert.Equal(Requests, v1.Served + v2.Served);
        Assert.Equal(Requests / 10, v2.Served);

        // Promote while requests run on both models: those on the old one finish there, new ones go to the new one.
        int servedBefore = v1.Served + v2.Served;
        Task<ChatResponse[]> during = RunConcurrentlyAsync(hosted.Client, Requests, parallelism: 16);
        await Eventually.TrueAsync(() => v1.Served + v2.Served - servedBefore >= 40, "requests to run before the promotion");
        await host.PromoteCandidateAsync();
        int v1AtPromotion = v1.Served;
        ChatResponse[] promoted = await during;

        Assert.All(promoted, r => Assert.Equal("3 tokens", r.Text));
        Assert.Equal(2 * Requests, v1.Served + v2.Served);
        Assert.Equal(v1AtPromotion, v1.Served);
        Assert.True(v1.IsDisposed);
        Assert.True(IsDisposed(v1.Model));
        Assert.False(v2.IsDisposed);
        GlmModelHostStatus after = host.GetStatus();
        Assert.Equal((_fixture.SecondModelPath, (string?)null, GlmModelHostState.Ready), (after.ModelPath, after.CandidateModelPath, after.State));
        Assert.Equal("model-v1", host.ModelId);
        Assert.Same(v2.Model, host.LoadedModel);
    }

    [Fact]
    public async Task RollBackCandidateAsync_AfterARollout_SendsEverythingBackToTheCurrentModel()
    {
        await using HostedModel hosted = HostedModel.Create(_fixture.ModelPath);
        GlmModelHost host = hosted.Host;
        await host.StartLoadingAsync();
        await host.LoadCandidateAsync(_fixture.SecondModelPath, 0.5);
        (FakeChatClient v1, FakeChatClient v2) = (hosted.Factory.Clients[0], hosted.Factory.Clients[1]);
        await RunConcurrentlyAsync(hosted.Client, 10, parallelism: 1);
        Assert.Equal((5, 5), (v1.Served, v2.Served));
        host.SetCandidateTrafficShare(0.25);
        await RunConcurrentlyAsync(hosted.Client, 8, parallelism: 1);
        Assert.Equal((11, 7), (v1.Served, v2.Served));

        await host.RollBackCandidateAsync();
        await RunConcurrentlyAsync(hosted.Client, 10, parallelism: 4);

        Assert.Equal((21, 7), (v1.Served, v2.Served));
        Assert.True(v2.IsDisposed);
        Assert.True(IsDisposed(v2.Model));
        Assert.Null(host.GetStatus().CandidateModelPath);
        Assert.Equal(_fixture.ModelPath, host.GetStatus().ModelPath);
    }

    [Fact]
    public async Task SwapAsync_RequestInFlightOnTheOldModel_FinishesThereBeforeTheOldModelIsDisposed()
    {
        await using HostedModel hosted = HostedModel.Create(_fixture.ModelPath);
        await hosted.Host.StartLoadingAsync();
        hosted.Factory.CloseGate();
        Task<ChatResponse> onOld = hosted.Client.GetResponseAsync("hi");
        await hosted.Factory.WaitForStartedAsync(1);

        Task swapping = hosted.Host.SwapAsync(_fixture.SecondModelPath);
        await Eventually.TrueAsync(() => hosted.Factory.Clients.Count == 2 && hosted.Host.GetStatus().ModelPath == _fixture.SecondModelPath, "the new model to be promoted");
        FakeChatClient old = hosted.Factory.Clients[0];
        Assert.False(swapping.IsCompleted);
        Assert.False(old.IsDisposed);

        hosted.Factory.OpenGate();
        await swapping;

        Assert.Equal("hello", (await onOld).Text);
        Assert.Equal(1, old.Served);
        Assert.True(old.IsDisposed);
        Assert.Equal("hello", (await hosted.Client.GetResponseAsync("hi")).Text);
        Assert.Equal(1, hosted.Factory.Clients[1].Served);
    }

    [Fact]
    public async Task PromoteCandidateAsync_WhileTheFirstLoadIsStillRunning_ServesWaitingRequestsFromThePromotedModel()
    {
        await using HostedModel hosted = HostedModel.Create(_fixture.ModelPath);
        hosted.Loader.HoldLoads(_fixture.ModelPath);
        Task<ChatResponse> waiting = hosted.Client.GetResponseAsync("hi");
        await Eventually.TrueAsync(() => hosted.Loader.LoadCount == 1, "the first load to start");

        await hosted.Host.LoadCandidateAsync(_fixture.SecondModelPath, 0);
        await hosted.Host.PromoteCandidateAsync();
        hosted.Loader.ReleaseLoads();

        Assert.Equal("hello", (await waiting).Text);
        FakeChatClient promoted = hosted.Factory.Clients.Single(c => c.Model.Info.FolderPath == _fixture.SecondModelPath);
        Assert.Equal(1, promoted.Served);
        await Eventually.TrueAsync(() => hosted.Factory.Clients.Count == 2, "the overtaken load to finish");
        FakeChatClient overtaken = hosted.Factory.Clients.Single(c => c.Model.Info.FolderPath == _fixture.ModelPath);
        await Eventually.TrueAsync(() => overtaken.IsDisposed && IsDisposed(overtaken.Model), "the overtaken model to be disposed");
        Assert.Equal(0, overtaken.Served);
        Assert.Same(promoted.Model, hosted.Host.LoadedModel);
        Assert.Equal(GlmModelHostState.Ready, hosted.Host.State);
    }

    [Fact]
    public async Task RolloutCalls_InTheWrongState_ThrowWithClearMessages()
    {
        await using HostedModel hosted = HostedModel.Create(_fixture.ModelPath);
        GlmModelHost host = hosted.Host;

        Assert.Equal("No candidate model is in rollout; call LoadCandidateAsync first.", Assert.Throws<InvalidOperationException>(() => host.SetCandidateTrafficShare(0.5)).Message);
        Assert.Equal("No candidate model is in rollout; call LoadCandidateAsync first.", (await Assert.ThrowsAsync<InvalidOperationException>(() => host.PromoteCandidateAsync())).Message);
        Assert.Equal("No candidate model is in rollout; call LoadCandidateAsync first.", (await Assert.ThrowsAsync<InvalidOperationException>(() => host.RollBackCandidateAsync())).Message);
        var share = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => host.LoadCandidateAsync(_fixture.SecondModelPath, 1.5));
        Assert.StartsWith("The traffic share must be between 0 and 1 (e.g. 0.1 for 10%); got 1.5.", share.Message, StringComparison.Ordinal);

        await host.LoadCandidateAsync(_fixture.SecondModelPath, 0.1);
        var twice = await Assert.ThrowsAsync<InvalidOperationException>(() => host.LoadCandidateAsync(_fixture.ModelPath, 0.1));

        Assert.Equal($"A candidate model ('{_fixture.SecondModelPath}') is already in rollout; promote it or roll it back before loading '{_fixture.ModelPath}'.", twice.Message);
    }

    [Fact]
    public async Task AddKeyedAutoGlm_TwoModels_EachKeyedChatClientServesItsOwnModel()
    {
        var factory = new FakeChatClientFactory();
        var services = new ServiceCollection();
        services.AddKeyedAutoGlm("v1", o => { o.ModelPath = _fixture.ModelPath; o.LoadOnStartup = false; }).UseChatClientFactory((_, m) => factory.Create(m));
        services.AddKeyedAutoGlm("v2", o => { o.ModelPath = _fixture.SecondModelPath; o.LoadOnStartup = true; }).UseChatClientFactory((_, m) => factory.Create(m));
        await using ServiceProvider provider = services.BuildServiceProvider();
        var hostedService = provider.GetServices<Microsoft.Extensions.Hosting.IHostedService>().Single();
        await hostedService.StartAsync(CancellationToken.None);
        await provider.GetRequiredKeyedService<GlmModelHost>("v2").StartLoadingAsync();
        Assert.Equal(GlmModelHostState.NotLoaded, provider.GetRequiredKeyedService<GlmModelHost>("v1").State);

        await provider.GetRequiredKeyedService<IChatClient>("v1").GetResponseAsync("hi");
        await provider.GetRequiredKeyedService<IChatClient>("v2").GetResponseAsync("hi");
        await provider.GetRequiredKeyedService<IChatClient>("v2").GetResponseAsync("hi");

        FakeChatClient v1 = factory.Clients.Single(c => c.Model.Info.FolderPath == _fixture.ModelPath);
        FakeChatClient v2 = factory.Clients.Single(c => c.Model.Info.FolderPath == _fixture.SecondModelPath);
        Assert.Equal((1, 2), (v1.Served, v2.Served));
        await hostedService.StopAsync(CancellationToken.None);
        Assert.True(v1.IsDisposed && v2.IsDisposed);
        var ex = await Assert.ThrowsAsync<AutoGlmException>(() => provider.GetRequiredKeyedService<IChatClient>("v1").GetResponseAsync("hi"));
        Assert.Equal("The AutoGlm model host 'v1' is shutting down and accepts no new requests; send the request to another instance or retry after it restarts.", ex.Message);
    }

    [Fact]
    public async Task DisposeAsync_ServiceProvider_DisposesTheLoadedModel()
    {
        HostedModel hosted = HostedModel.Create(_fixture.ModelPath);
        await hosted.Client.GetResponseAsync("hi");
        FakeChatClient client = Assert.Single(hosted.Factory.Clients);

        await hosted.DisposeAsync();

        Assert.True(client.IsDisposed);
        Assert.True(IsDisposed(client.Model));
    }

    [Fact]
    public async Task Dispose_Synchronous_CancelsTheRequestInFlightAndDisposesTheModelAtOnce()
    {
        await using HostedModel hosted = HostedModel.Create(_fixture.ModelPath, o => o.DrainTimeout = TimeSpan.FromMinutes(5));
        await hosted.Host.StartLoadingAsync();
        hosted.Factory.CloseGate();
        Task<ChatResponse> stuck = hosted.Client.GetResponseAsync("hi");
        await hosted.Factory.WaitForStartedAsync(1);
        FakeChatClient client = Assert.Single(hosted.Factory.Clients);

        // No drain and no wait on a task: the models are disposed on this thread, the request is cancelled.
        hosted.Host.Dispose();

        Assert.Equal(GlmModelHostState.Stopped, hosted.Host.State);
        Assert.True(client.IsDisposed);
        Assert.True(IsDisposed(client.Model));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stuck);
        AutoGlmException rejected = await Assert.ThrowsAsync<AutoGlmException>(() => hosted.Client.GetResponseAsync("again"));
        Assert.Equal("The AutoGlm model host is shutting down and accepts no new requests; send the request to another instance or retry after it restarts.", rejected.Message);
        await hosted.Host.StopAsync();
    }

    private static async Task<ChatResponse[]> RunConcurrentlyAsync(IChatClient client, int count, int parallelism)
    {
        var results = new ChatResponse[count];
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (i, ct) =>
        {
            results[i] = await client.GetResponseAsync("hi", cancellationToken: ct);
        });
        return results;
    }

    private static bool IsDisposed(GlmModel model)
    {
        try
        {
            _ = model.GenerateStreamingAsync([1, 2], GenerationOptions.Greedy);
            return false;
        }
        catch (ObjectDisposedException)
        {
            return true;
        }
    }
}
