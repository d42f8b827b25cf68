using AutoGlm.Chat;
using AutoGlm.Tokenization;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace AutoGlm.Extensions.Hosting.Tests;

/// <summary>The registered <see cref="IChatClient"/> with the real <see cref="AutoGlmChatClient"/> behind it.</summary>
[Collection(TinyModelCollection.Name)]
public sealed class AutoGlmChatClientHostingTests
{
    private static readonly ChatOptions s_greedy = new() { Temperature = 0f, MaxOutputTokens = 6 };
    private readonly TinyModelFixture _fixture;

    public AutoGlmChatClientHostingTests(TinyModelFixture fixture)
    {
        _fixture = fixture;
    }

    [Fact]
    public async Task GetResponseAsync_DefaultChatClient_AnswersLikeAnAutoGlmChatClientOverTheSameModel()
    {
        var services = new ServiceCollection();
        services.AddAutoGlm(o => { o.ModelPath = _fixture.ModelPath; o.ModelId = "tiny-glm"; o.LoadOnStartup = false; });
        await using ServiceProvider provider = services.BuildServiceProvider();
        IChatClient hosted = provider.GetRequiredService<IChatClient>();
        await using GlmModel model = GlmModel.Load(_fixture.ModelPath);
        using var direct = new AutoGlmChatClient(model, new AutoGlmChatClientOptions { ModelId = "tiny-glm" });

        ChatResponse expected = await direct.GetResponseAsync("Hello there", s_greedy);
        ChatResponse actual = await hosted.GetResponseAsync("Hello there", s_greedy);

        Assert.Equal(expected.Text, actual.Text);
        Assert.Equal(expected.FinishReason, actual.FinishReason);
        Assert.Equal(expected.ModelId, actual.ModelId);
        Assert.Equal((expected.Usage!.InputTokenCount, expected.Usage.OutputTokenCount), (actual.Usage!.InputTokenCount, actual.Usage.OutputTokenCount));
        Assert.InRange(actual.Usage.OutputTokenCount!.Value, 1, 6);
        Assert.Same(provider.GetRequiredService<GlmModelHost>().LoadedModel, hosted.GetService<GlmModel>());
        Assert.NotNull(hosted.GetService<Tokenizer>());
        Assert.Equal("tiny-glm", hosted.GetService<ChatClientMetadata>()!.DefaultModelId);
        Assert.IsType<AutoGlmChatClient>(hosted.GetService<AutoGlmChatClient>());
    }

    [Fact]
    public async Task GetStreamingResponseAsync_DefaultChatClient_StreamsTheSameAnswerWithUsageLast()
    {
        var services = new ServiceCollection();
        services.AddAutoGlm(o => { o.ModelPath = _fixture.ModelPath; o.LoadOnStartup = false; });
        await using ServiceProvider provider = services.BuildServiceProvider();
        IChatClient client = provider.GetRequiredService<IChatClient>();
        ChatResponse whole = await client.GetResponseAsync("Count: 1 2 3", s_greedy);

        List<ChatResponseUpdate> updates = [];
        await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync("Count: 1 2 3", s_greedy))
        {
            updates.Add(update);
        }

        Assert.Equal(whole.Text, string.Concat(updates.Select(u => u.Text)));
        Assert.Equal(whole.FinishReason, updates[^1].FinishReason);
        UsageContent usage = Assert.Single(updates[^1].Contents.OfType<UsageContent>());
        Assert.Equal(whole.Usage!.OutputTokenCount, usage.Details.OutputTokenCount);
    }

    [Fact]
    public async Task PromoteCandidateAsync_RealChatClientsUnderConcurrentStreams_EveryRequestCompletesAndTheSplitFollowsTheWeight()
    {
        var counters = new List<CountingChatClient>();
        var services = new ServiceCollection();
        services.AddAutoGlm(o => { o.ModelPath = _fixture.ModelPath; o.LoadOnStartup = false; o.MaxBatchSize = 4; })
            .UseChatClientFactory((_, model) =>
            {
                var counting = new CountingChatClient(new AutoGlmChatClient(model), model.Info.FolderPath);
                lock (counters)
                {
                    counters.Add(counting);
                }

                return counting;
            });
        await using ServiceProvider provider = services.BuildServiceProvider();
        GlmModelHost host = provider.GetRequiredService<GlmModelHost>();
        IChatClient client = provider.GetRequiredService<IChatClient>();
        await host.StartLoadingAsync();
        await host.LoadCandidateAsync(_fixture.SecondModelPath, 0.2);

        const int Requests = 60;
        int[] firstWave = await StreamConcurrentlyAsync(client, Requests);
        (CountingChatClient v1, CountingChatClient v2) = (counters[0], counters[1]);
        Assert.Equal(_fixture.SecondModelPath, v2.ModelPath);
        Assert.Equal((48, 12), (v1.Completed, v2.Completed));

        Task<int[]> secondWave = StreamConcurrentlyAsync(client, Requests);
        await Eventually.TrueAsync(() => v1.Completed + v2.Completed >= Requests + 10, "part of the second wave to finish");
        await host.PromoteCandidateAsync();
        int[] secondOutputs = await secondWave;

        Assert.All(firstWave.Concat(secondOutputs), n => Assert.InRange(n, 1, 4));
        Assert.Equal(2 * Requests, v1.Completed + v2.Completed);
        Assert.Equal(0, v1.Failed + v2.Failed);
        Assert.Equal(0, host.GetStatus().RequestsInFlight);
        Assert.Same(host.LoadedModel, client.GetService<GlmModel>());
        Assert.Equal(_fixture.SecondModelPath, host.LoadedModel!.Info.FolderPath);
    }

    [Fact]
    public async Task StopAsync_RealStreamsInFlight_EachStreamEndsWithUsageAndNewRequestsAreRejected()
    {
        var services = new ServiceCollection();
        services.AddAutoGlm(o => { o.ModelPath = _fixture.ModelPath; o.LoadOnStartup = false; o.MaxBatchSize = 4; });
        await using ServiceProvider provider = services.BuildServiceProvider();
        GlmModelHost host = provider.GetRequiredService<GlmModelHost>();
        IChatClient client = provider.GetRequiredService<IChatClient>();
        await host.StartLoadingAsync();
        GlmModel model = host.LoadedModel!;
        var options = new ChatOptions { Temperature = 0f, MaxOutputTokens = 24 };
        var enumerators = new List<IAsyncEnumerator<ChatResponseUpdate>>();
        for (int i = 0; i < 4; i++)
        {
            IAsyncEnumerator<ChatResponseUpdate> e = client.GetStreamingResponseAsync($"stream {i}", options).GetAsyncEnumerator();
            Assert.True(await e.MoveNextAsync());
            enumerators.Add(e);
        }

        Task stopping = host.StopAsync();
        await Eventually.TrueAsync(() => host.State == GlmModelHostState.Stopping, "the host to start stopping");
        await Assert.ThrowsAsync<AutoGlmException>(() => client.GetResponseAsync("late", options));
        Assert.False(stopping.IsCompleted);

        foreach (IAsyncEnumerator<ChatResponseUpdate> e in enumerators)
        {
            ChatResponseUpdate last = e.Current;
            while (await e.MoveNextAsync())
            {
                last = e.Current;
            }

            await e.DisposeAsync();
            Assert.NotNull(last.FinishReason);
            Assert.InRange(Assert.Single(last.Contents.OfType<UsageContent>()).Details.OutputTokenCount!.Value, 1, 24);
        }

        await stopping;
        Assert.Equal(GlmModelHostState.Stopped, host.State);
        Assert.Throws<ObjectDisposedException>(() => model.GenerateStreamingAsync([1, 2]));
    }

    /// <summary>Streams <paramref name="count"/> greedy requests, 12 at a time; returns each one's output token count.</summary>
    private static async Task<int[]> StreamConcurrentlyAsync(IChatClient client, int count)
    {
        var outputs = new int[count];
        var options = new ChatOptions { Temperature = 0f, MaxOutputTokens = 4 };
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 12 }, async (i, ct) =>
        {
            await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync($"request {i}", options, ct))
            {
                foreach (UsageContent usage in update.Contents.OfType<UsageContent>())
                {
                    outputs[i] = (int)usage.Details.OutputTokenCount!.Value;
                }
            }
        });
        return outputs;
    }

    /// <summary>Counts the streams that complete or fail on one model version.</summary>
    private sealed class CountingChatClient : DelegatingChatClient
    {
        private int _completed;
        private int _failed;

        public CountingChatClient(IChatClient inner, string modelPath)
            : base(inner)
        {
            ModelPath = modelPath;
        }

        public string ModelPath { get; }

        public int Completed => Volatile.Read(ref _completed);

        public int Failed => Volatile.Read(ref _failed);

        public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
            IEnumerable<ChatMessage> messages, ChatOptions? options = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            bool completed = false;
            try
            {
                await foreach (ChatResponseUpdate update in base.GetStreamingResponseAsync(messages, options, cancellationToken))
                {
                    yield return update;
                }

                completed = true;
            }
            finally
            {
                Interlocked.Increment(ref completed ? ref _completed : ref _failed);
            }
        }
    }
}
