using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace AutoGlm.Extensions.Hosting.Tests;

/// <summary>Metrics of the <c>AutoGlm</c> meter and spans of the <c>AutoGlm</c> activity source.</summary>
[Collection(TinyModelCollection.Name)]
public sealed class AutoGlmTelemetryTests
{
    private readonly TinyModelFixture _fixture;

    public AutoGlmTelemetryTests(TinyModelFixture fixture)
    {
        _fixture = fixture;
    }

    [Fact]
    public async Task GetStreamingResponseAsync_Request_RecordsGenAiMetricsWithTheirTags()
    {
        await using HostedModel hosted = HostedModel.Create(_fixture.ModelPath, o => o.ModelId = "metrics-glm");
        using var recorded = new RecordedMeasurements(hosted.Provider.GetRequiredService<IMeterFactory>());
        await hosted.Host.StartLoadingAsync();
        hosted.Factory.CloseGate();
        hosted.Factory.BetweenUpdates = () => hosted.Time.Advance(TimeSpan.FromSeconds(1));

        Task<ChatResponse> request = hosted.Client.GetStreamingResponseAsync("hi").ToChatResponseAsync();
        await hosted.Factory.WaitForStartedAsync(1);
        hosted.Time.Advance(TimeSpan.FromSeconds(2));
        hosted.Factory.OpenGate();
        await request;

        // First output after 2 s, last after 3 s: 1 s over the 4 output tokens after the first.
        Assert.Equal(2.0, recorded.Single("gen_ai.server.time_to_first_token").Value);
        Assert.Equal(3.0, recorded.Single("gen_ai.server.request.duration").Value);
        Assert.Equal(0.25, recorded.Single("gen_ai.server.time_per_output_token").Value);
        Measurement duration = recorded.Single("gen_ai.server.request.duration");
        Assert.Equal("chat", duration.Tags["gen_ai.operation.name"]);
        Assert.Equal("autoglm", duration.Tags["gen_ai.provider.name"]);
        Assert.Equal("metrics-glm", duration.Tags["gen_ai.request.model"]);
        Assert.False(duration.Tags.ContainsKey("error.type"));
        Measurement[] tokens = recorded.All("gen_ai.client.token.usage");
        Assert.Equal(
            [("input", (double)FakeChatClient.InputTokens), ("output", FakeChatClient.OutputTokens)],
            tokens.Select(t => ((string)t.Tags["gen_ai.token.type"]!, t.Value)).OrderBy(t => t.Item1));
        Assert.Equal(["s", "s", "s", "{token}"], new[] { "gen_ai.server.time_to_first_token", "gen_ai.server.request.duration", "gen_ai.server.time_per_output_token", "gen_ai.client.token.usage" }.Select(recorded.Unit));
    }

    [Fact]
    public async Task GetResponseAsync_LoadFails_RecordsTheDurationWithTheErrorTypeAndNoTokens()
    {
        await using HostedModel hosted = HostedModel.Create(_fixture.ModelPath);
        using var recorded = new RecordedMeasurements(hosted.Provider.GetRequiredService<IMeterFactory>());
        hosted.Loader.Failure = new ModelLoadException("broken");

        await Assert.ThrowsAsync<ModelLoadException>(() => hosted.Client.GetResponseAsync("hi"));

        Assert.Equal("AutoGlm.ModelLoadException", recorded.Single("gen_ai.server.request.duration").Tags["error.type"]);
        Assert.Empty(recorded.All("gen_ai.client.token.usage"));
        Assert.Empty(recorded.All("gen_ai.server.time_to_first_token"));
    }

    [Fact]
    public async Task ObservableGauges_LoadedModel_ReportQueueBatchAndKvUsage()
    {
        await using HostedModel hosted = HostedModel.Create(_fixture.ModelPath);
        using var recorded = new RecordedMeasurements(hosted.Provider.GetRequiredService<IMeterFactory>());
        _ = hosted.Client;

        recorded.Observe();
        Assert.Empty(recorded.All("autoglm.queue.depth"));

        await hosted.Host.StartLoadingAsync();
        recorded.Observe();

        Assert.Equal(0, recorded.Single("autoglm.queue.depth").Value);
        Assert.Equal(0, recorded.Single("autoglm.batch.size").Value);
        Assert.Equal(0, recorded.Single("autoglm.kv_cache.usage").Value);
        Assert.Equal("model-v1", recorded.Single("autoglm.kv_cache.usage").Tags["gen_ai.request.model"]);
        Assert.Equal(["{request}", "{request}", "1"], new[] { "autoglm.queue.depth", "autoglm.batch.size", "autoglm.kv_cache.usage" }.Select(recorded.Unit));
    }

    [Fact]
    public async Task ObservableGauges_RequestsRunningAndQueued_ReportTheirCountsAndKvShare()
    {
        await using HostedModel hosted = HostedModel.Create(_fixture.ModelPath, o => { o.MaxBatchSize = 1; o.QueueCapacity = 4; });
        using var recorded = new RecordedMeasurements(hosted.Provider.GetRequiredService<IMeterFactory>());
        await hosted.Host.StartLoadingAsync();
        using GlmModelLease lease = await hosted.Host.AcquireAsync();
        var options = new AutoGlm.Generation.GenerationOptions { Temperature = 0f, MaxNewTokens = 200, IgnoreEos = true };

        Task<AutoGlm.Generation.GenerationResult>[] running = [lease.Model.GenerateAsync("a", options), lease.Model.GenerateAsync("b", options)];
        bool seen = false;
        while (!seen && !running.All(t => t.IsCompleted))
        {
            recorded.Observe();
            seen = recorded.Single("autoglm.batch.size").Value == 1 && recorded.Single("autoglm.queue.depth").Value == 1;
            if (seen)
            {
                Assert.InRange(recorded.Single("autoglm.kv_cache.usage").Value, 1e-9, 1.0);
            }
        }

        await Task.WhenAll(running);
        Assert.True(seen, "never saw one request running and one queued");
    }

    [Fact]
    public async Task GetResponseAsync_Request_EmitsOneChatSpanWithGenAiTags()
    {
        var stopped = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "AutoGlm",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                lock (stopped)
                {
                    stopped.Add(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        await using HostedModel hosted = HostedModel.Create(_fixture.ModelPath, o => o.ModelId = "span-glm");

        await hosted.Client.GetResponseAsync("hi", new ChatOptions { MaxOutputTokens = 9, Temperature = 0.5f });

        Activity span;
        lock (stopped)
        {
            span = Assert.Single(stopped, a => (string?)a.GetTagItem("gen_ai.request.model") == "span-glm");
        }

        Assert.Equal("chat span-glm", span.DisplayName);
        Assert.Equal("chat", span.GetTagItem("gen_ai.operation.name"));
        Assert.Equal("autoglm", span.GetTagItem("gen_ai.provider.name"));
        Assert.Equal(9, span.GetTagItem("gen_ai.request.max_tokens"));
        Assert.Equal(0.5f, span.GetTagItem("gen_ai.request.temperature"));
        Assert.Equal((long)FakeChatClient.InputTokens, span.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.Equal((long)FakeChatClient.OutputTokens, span.GetTagItem("gen_ai.usage.output_tokens"));
        Assert.Equal(["stop"], (string[])span.GetTagItem("gen_ai.response.finish_reasons")!);
        Assert.Equal(false, span.GetTagItem("autoglm.model.candidate"));
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
    }

    private sealed record Measurement(double Value, Dictionary<string, object?> Tags);

    /// <summary>Collects the measurements of the <c>AutoGlm</c> meter made by one service provider's meter factory.</summary>
    private sealed class RecordedMeasurements : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Dictionary<string, List<Measurement>> _byName = [];
        private readonly Dictionary<string, string?> _units = [];

        public RecordedMeasurements(IMeterFactory factory)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "AutoGlm" && ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    lock (_byName)
                    {
                        _units[instrument.Name] = instrument.Unit;
                    }

                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<double>((i, v, t, _) => Add(i, v, t));
            _listener.SetMeasurementEventCallback<long>((i, v, t, _) => Add(i, v, t));
            _listener.SetMeasurementEventCallback<int>((i, v, t, _) => Add(i, v, t));
            _listener.Start();
        }

        public void Observe()
        {
            lock (_byName)
            {
                _byName.Remove("autoglm.queue.depth");
                _byName.Remove("autoglm.batch.size");
                _byName.Remove("autoglm.kv_cache.usage");
            }

            _listener.RecordObservableInstruments();
        }

        public Measurement[] All(string name)
        {
            lock (_byName)
            {
                return _byName.TryGetValue(name, out List<Measurement>? list) ? [.. list] : [];
            }
        }

        public Measurement Single(string name) => Assert.Single(All(name));

        public string? Unit(string name)
        {
            lock (_byName)
            {
                return _units[name];
            }
        }

        public void Dispose() => _listener.Dispose();

        private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var measurement = new Measurement(value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value));
            lock (_byName)
            {
                if (!_byName.TryGetValue(instrument.Name, out List<Measurement>? list))
                {
                    _byName[instrument.Name] = list = [];
                }

                list.Add(measurement);
            }
        }
    }
}
