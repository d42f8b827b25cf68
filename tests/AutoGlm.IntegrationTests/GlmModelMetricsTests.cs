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
        using var factory = new TestMeterFactory();
        var saved = new ConcurrentQueue<long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (factory.Meters.Contains(instrument.Meter) && instrument.Name == "autoglm.prefix_cache.tokens_saved")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => saved.Enqueue(value));
        listener.Start();

        var greedy = new GenerationOptions { Temperature = 0f, MaxNewTokens = 9, IgnoreEos = true };
        await using GlmModel warm = GlmModel.Load(_fixture.ModelPath, new GlmModelOptions { PrefixReuse = true, MaxBatchSize = 1, MeterFactory = factory, WarmUp = false });
        await using GlmModel cold = GlmModel.Load(_fixture.ModelPath, new GlmModelOptions { MaxBatchSize = 1, WarmUp = false });
        var history = new List<int>(warm.Tokenizer.Encode("System: be brief. User: first question?"));
        int firstPrompt = history.Count;
        GenerationResult first = await warm.GenerateAsync(history, greedy);
        history.AddRange(first.Tokens.Select(t => t.Id));
        await warm.GenerateAsync("An unrelated request that takes the slot.", greedy);
        await warm.GenerateAsync("Another one, different from the first.", greedy);

        history.AddRange(warm.Tokenizer.Encode(" User: and the second?"));
        GenerationResult reused = await warm.GenerateAsync(history, greedy);
        GenerationResult recomputed = await cold.GenerateAsync(history, greedy);

        Assert.Equal(recomputed.Tokens.Select(t => t.Id), reused.Tokens.Select(t => t.Id));
        // The first turn's prompt and answer but its last token were kept (the answer's last token was never fed).
        Assert.Contains(firstPrompt + 9 - 1, saved);
    }

    [Fact]
    public async Task GenerateAsync_PrefixReuse_RequestsSharingOnlyTheSystemPromptCopyItAndLeaveTheConversationsKvParked()
    {
        // Others that start with the same system prompt take a copy of that start; the conversation's own KV stays
        // parked, so its next turn still skips its whole history. (Taking the KV over dropped the history: turn 2
        // then reused only the system prompt.)
        using var factory = new TestMeterFactory();
        var saved = new ConcurrentQueue<long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (factory.Meters.Contains(instrument.Meter) && instrument.Name == "autoglm.prefix_cache.tokens_saved")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => saved.Enqueue(value));
        listener.Start();

        var greedy = new GenerationOptions { Temperature = 0f, MaxNewTokens = 9, IgnoreEos = true };
        await using GlmModel warm = GlmModel.Load(_fixture.ModelPath, new GlmModelOptions { PrefixReuse = true, MaxBatchSize = 1, MeterFactory = factory, WarmUp = false });
        await using GlmModel cold = GlmModel.Load(_fixture.ModelPath, new GlmModelOptions { MaxBatchSize = 1, WarmUp = false });
        var history = new List<int>(warm.Tokenizer.Encode("System: answer briefly and politely. User: first question?"));
        int firstPrompt = history.Count;
        GenerationResult first = await warm.GenerateAsync(history, greedy);
        history.AddRange(first.Tokens.Select(t => t.Id));
        int[] other = [.. warm.Tokenizer.Encode("System: answer briefly and politely. User: something else entirely.")];
        int shared = other.AsSpan().CommonPrefixLength(history.ToArray());
        GenerationResult otherWarm = await warm.GenerateAsync(other, greedy);
        GenerationResult otherCold = await cold.GenerateAsync(other, greedy);

        history.AddRange(warm.Tokenizer.Encode(" User: and the second?"));
        GenerationResult reused = await warm.GenerateAsync(history, greedy);
        GenerationResult recomputed = await cold.GenerateAsync(history, greedy);

        Assert.InRange(shared, 4, firstPrompt - 1);
        Assert.Equal(otherCold.Tokens.Select(t => t.Id), otherWarm.Tokens.Select(t => t.Id));
        Assert.Equal(recomputed.Tokens.Select(t => t.Id), reused.Tokens.Select(t => t.Id));
        Assert.Equal([shared, firstPrompt + 9 - 1], saved);
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
