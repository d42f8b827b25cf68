using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using AutoGlm.Generation;
using Microsoft.Extensions.AI;

namespace AutoGlm.IntegrationTests;

[Collection(TinyModelCollection.Name)]
public sealed class GlmModelMetricsTests
{
    private readonly TinyModelFixture _fixture;

    public GlmModelMetricsTests(TinyModelFixture fixture)
    {
        _fixture = fixture;
    }

    [Fact]
    public async Task GenerateAsync_WithMeterFactory_RecordsGenAiMetricsOnTheAutoGlmMeter()
    {
        using var factory = new TestMeterFactory();
        var recorded = new ConcurrentQueue<(string Name, double Value, string? TokenType)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (factory.Meters.Contains(instrument.Meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((i, value, tags, _) => recorded.Enqueue((i.Name, value, tags.ToArray().FirstOrDefault(t => t.Key == "gen_ai.operation.name").Value as string)));
        listener.SetMeasurementEventCallback<int>((i, value, tags, _) => recorded.Enqueue((i.Name, value, tags.ToArray().FirstOrDefault(t => t.Key == "gen_ai.token.type").Value as string)));
        listener.Start();

        await using GlmModel model = GlmModel.Load(_fixture.ModelPath, new GlmModelOptions { MeterFactory = factory, WarmUp = false });
        GenerationResult result = await model.GenerateAsync("metrics please", new GenerationOptions { Temperature = 0, MaxNewTokens = 5, IgnoreEos = true });

        Assert.Equal("AutoGlm", Assert.Single(factory.Meters).Name);
        Assert.Single(recorded, r => r.Name == "gen_ai.server.time_to_first_token" && r.TokenType == "text_completion");
        Assert.Single(recorded, r => r.Name == "gen_ai.server.request.duration" && r.TokenType == "text_completion");
        Assert.Contains(recorded, r => r.Name == "autoglm.batch.size" && r.Value == 1);
        Assert.DoesNotContain(recorded, r => r.Name == "gen_ai.client.token.usage");

        // The chat client over the same model records the client metrics on the same meter.
        using var client = new AutoGlm.Chat.AutoGlmChatClient(model);
        ChatResponse response = await client.GetResponseAsync("usage please", new ChatOptions { MaxOutputTokens = 3, Temperature = 0f });
        Assert.Contains(recorded, r => r.Name == "gen_ai.client.token.usage" && r.TokenType == "output" && r.Value == response.Usage!.OutputTokenCount);
        Assert.Contains(recorded, r => r.Name == "gen_ai.client.token.usage" && r.TokenType == "input" && r.Value == response.Usage!.InputTokenCount);
        Assert.Single(recorded, r => r.Name == "gen_ai.server.request.duration" && r.TokenType == "chat");
        Assert.Equal(1, recorded.Count(r => r.Name == "gen_ai.client.operation.duration"));
        Assert.Equal(5, result.Tokens.Count);
    }

    [Fact]
    public async Task GenerateAsync_PrefixReuseWithOneSlot_KeptKvOutlivesTheRequestsThatUseTheSlotMeanwhile()
    {
        // The kept KV waits outside the decoder's slots, so a conversation's next turn finds it even after other
        // requests ran in the only slot; its greedy tokens equal a cold run's.
        await using var rig = new PrefixReuseRig(_fixture.ModelPath);
        List<int> history = await rig.FirstTurnAsync("System: be brief. User: first question?");
        int firstPrompt = history.Count - rig.Greedy.MaxNewTokens;
        await rig.Warm.GenerateAsync("An unrelated request that takes the slot.", rig.Greedy);
        await rig.Warm.GenerateAsync("Another one, different from the first.", rig.Greedy);

        (IEnumerable<int> reused, IEnumerable<int> recomputed) = await rig.NextTurnWarmAndColdAsync(history, " User: and the second?");

        Assert.Equal(recomputed, reused);
        // The first turn's prompt and answer but its last token were kept (the answer's last token was never fed).
        Assert.Contains(firstPrompt + 9 - 1, rig.TokensSaved);
    }

    [Fact]
    public async Task GenerateAsync_PrefixReuse_RequestsSharingOnlyTheSystemPromptCopyItAndLeaveTheConversationsKvParked()
    {
        // Others that start with the same system prompt take a copy of that start; the conversation's own KV stays
        // parked, so its next turn still skips its whole history. (Taking the KV over dropped the history: turn 2
        // then reused only the system prompt.)
        await using var rig = new PrefixReuseRig(_fixture.ModelPath);
        List<int> history = await rig.FirstTurnAsync("System: answer briefly and politely. User: first question?");
        int firstPrompt = history.Count - rig.Greedy.MaxNewTokens;
        const string Other = "System: answer briefly and politely. User: something else entirely.";
        int shared = rig.Warm.Tokenizer.Encode(Other).ToArray().AsSpan().CommonPrefixLength(history.ToArray());
        (IEnumerable<int> otherWarm, IEnumerable<int> otherCold) = await rig.NextTurnWarmAndColdAsync([], Other);

        (IEnumerable<int> reused, IEnumerable<int> recomputed) = await rig.NextTurnWarmAndColdAsync(history, " User: and the second?");

        Assert.InRange(shared, 4, firstPrompt - 1);
        Assert.Equal(otherCold, otherWarm);
        Assert.Equal(recomputed, reused);
        Assert.Equal([shared, firstPrompt + 9 - 1], rig.TokensSaved);
    }

    [Fact]
    public async Task Load_WarmUp_RecordsNoMetricUntilTheFirstRequest()
    {
        using var factory = new TestMeterFactory();
        var recorded = new ConcurrentQueue<(string Name, double Value)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (factory.Meters.Contains(instrument.Meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((i, value, _, _) => recorded.Enqueue((i.Name, value)));
        listener.SetMeasurementEventCallback<int>((i, value, _, _) => recorded.Enqueue((i.Name, value)));
        listener.SetMeasurementEventCallback<long>((i, value, _, _) => recorded.Enqueue((i.Name, value)));
        listener.Start();

        // The warm-up generation decodes one token; neither it nor its batch of one shows in the metrics.
        await using GlmModel model = GlmModel.Load(_fixture.ModelPath, new GlmModelOptions { MeterFactory = factory, WarmUp = true, PrefixReuse = true });
        Assert.DoesNotContain(recorded, r => r.Name == "autoglm.batch.size");
        Assert.DoesNotContain(recorded, r => r.Name == "gen_ai.server.time_to_first_token");
        Assert.DoesNotContain(recorded, r => r.Name == "autoglm.prefix_cache.lookups");

        await model.GenerateAsync("metrics please", new GenerationOptions { Temperature = 0, MaxNewTokens = 3, IgnoreEos = true });
        Assert.Equal(2, recorded.Count(r => r.Name == "autoglm.batch.size"));
        Assert.Single(recorded, r => r.Name == "autoglm.prefix_cache.lookups");
    }

    // Two one-slot models on the tiny model, one keeping prefixes (its tokens_saved values recorded in order), one cold.
    private sealed class PrefixReuseRig : IAsyncDisposable
    {
        private readonly TestMeterFactory _factory = new();
        private readonly MeterListener _listener = new();

        public PrefixReuseRig(string modelPath)
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (_factory.Meters.Contains(instrument.Meter) && instrument.Name == "autoglm.prefix_cache.tokens_saved")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => TokensSaved.Enqueue(value));
            _listener.Start();
            Warm = GlmModel.Load(modelPath, new GlmModelOptions { PrefixReuse = true, MaxBatchSize = 1, MeterFactory = _factory, WarmUp = false });
            Cold = GlmModel.Load(modelPath, new GlmModelOptions { MaxBatchSize = 1, WarmUp = false });
        }

        public GlmModel Warm { get; }

        public GlmModel Cold { get; }

        public ConcurrentQueue<long> TokensSaved { get; } = new();

        public GenerationOptions Greedy { get; } = new() { Temperature = 0f, MaxNewTokens = 9, IgnoreEos = true };

        // A conversation's first turn on the warm model: its prompt and answer.
        public async Task<List<int>> FirstTurnAsync(string text)
        {
            var history = new List<int>(Warm.Tokenizer.Encode(text));
            GenerationResult answer = await Warm.GenerateAsync(history, Greedy);
            history.AddRange(answer.Tokens.Select(t => t.Id));
            return history;
        }

        // Appends text to history and answers it on both models.
        public async Task<(IEnumerable<int> Warm, IEnumerable<int> Cold)> NextTurnWarmAndColdAsync(List<int> history, string text)
        {
            history.AddRange(Warm.Tokenizer.Encode(text));
            GenerationResult warm = await Warm.GenerateAsync(history, Greedy);
            GenerationResult cold = await Cold.GenerateAsync(history, Greedy);
            return (warm.Tokens.Select(t => t.Id), cold.Tokens.Select(t => t.Id));
        }

        public async ValueTask DisposeAsync()
        {
            await Warm.DisposeAsync();
            await Cold.DisposeAsync();
            _listener.Dispose();
            _factory.Dispose();
        }
    }

    private sealed class TestMeterFactory : IMeterFactory
    {
        public List<Meter> Meters { get; } = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options.Name, options.Version, options.Tags, scope: this);
            Meters.Add(meter);
            return meter;
        }

        public void Dispose()
        {
            foreach (Meter meter in Meters)
            {
                meter.Dispose();
            }
        }
    }
}
