using AutoGlm.Tests.Shared;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

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
    public async Task GetStreamingResponseAsync_Request_RecordsClientMetricsWithTheirTags()
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

        // 2 s before the gate opened, 1 s between the text and the usage update: 3 s as the caller saw it.
        Measurement duration = recorded.Single("gen_ai.client.operation.duration");
        Assert.Equal(3.0, duration.Value);
        Assert.Equal("chat", duration.Tags["gen_ai.operation.name"]);
        Assert.Equal("autoglm", duration.Tags["gen_ai.provider.name"]);
        Assert.Equal("metrics-glm", duration.Tags["gen_ai.request.model"]);
        Assert.Equal("fake-model", duration.Tags["gen_ai.response.model"]);
        Assert.False(duration.Tags.ContainsKey("error.type"));
        Measurement[] tokens = recorded.All("gen_ai.client.token.usage");
        Assert.Equal(
            [("input", (double)FakeChatClient.InputTokens), ("output", FakeChatClient.OutputTokens)],
            tokens.Select(t => ((string)t.Tags["gen_ai.token.type"]!, t.Value)).OrderBy(t => t.Item1));
        Assert.All(tokens, t => Assert.Equal("metrics-glm", t.Tags["gen_ai.request.model"]));
        Assert.Equal(["s", "{token}"], new[] { "gen_ai.client.operation.duration", "gen_ai.client.token.usage" }.Select(recorded.Unit));

        // The fake chat client runs no generation, so the scheduler recorded no server metric for this request.
        Assert.Empty(recorded.All("gen_ai.server.request.duration"));
    }

    [Fact]
    public async Task GetResponseAsync_LoadFails_RecordsTheDurationWithTheErrorTypeAndNoTokens()
    {
        await using HostedModel hosted = HostedModel.Create(_fixture.ModelPath);
        using var recorded = new RecordedMeasurements(hosted.Provider.GetRequiredService<IMeterFactory>());
        hosted.Loader.Failure = new ModelLoadException("broken");

        await Assert.ThrowsAsync<ModelLoadException>(() => hosted.Client.GetResponseAsync("hi"));

        Assert.Equal("AutoGlm.ModelLoadException", recorded.Single("gen_ai.client.operation.duration").Tags["error.type"]);
        Assert.Empty(recorded.All("gen_ai.client.token.usage"));
    }

    [Fact]
    public async Task LoadCounters_TwoHostedModels_ReportOneSumPerInstrument()
    {
        await using HostedModel hosted = HostedModel.Create(_fixture.ModelPath, services: s => s.AddKeyedAutoGlm("second", o =>
        {
            o.ModelPath = _fixture.SecondModelPath;
            o.LoadOnStartup = false;
            o.WarmUp = false;
        }));
        using var recorded = new RecordedMeasurements(hosted.Provider.GetRequiredService<IMeterFactory>());

        recorded.Observe();
        Assert.Empty(recorded.All("autoglm.queue.depth"));

        await hosted.Host.StartLoadingAsync();
        await hosted.Provider.GetRequiredKeyedService<GlmModelHost>("second").StartLoadingAsync();
        recorded.Observe();

        int budget = hosted.Host.GetStatus().KvBudgetTokens;
        Assert.Equal(0, recorded.Single("autoglm.queue.depth").Value);
        Assert.Equal(0, recorded.Single("autoglm.kv_cache.usage").Value);
        Assert.Equal(2 * budget, recorded.Single("autoglm.kv_cache.limit").Value);
        Assert.Equal("autoglm", recorded.Single("autoglm.kv_cache.limit").Tags["gen_ai.provider.name"]);
        Assert.Equal(["{request}", "{token}", "{token}"], new[] { "autoglm.queue.depth", "autoglm.kv_cache.usage", "autoglm.kv_cache.limit" }.Select(recorded.Unit));
    }

    [Fact]
    public async Task LoadCounters_RequestsRunningAndQueued_ReportTheQueueAndTheKvReserved()
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
            seen = recorded.Single("autoglm.queue.depth").Value == 1 && recorded.Single("autoglm.kv_cache.usage").Value > 0;
        }

        await Task.WhenAll(running);
        Assert.True(seen, "never saw one request running and one queued");
        Assert.Equal(2, recorded.All("gen_ai.server.request.duration").Count(m => (string?)m.Tags["gen_ai.operation.name"] == "text_completion"));
        Assert.All(recorded.All("autoglm.batch.size"), m => Assert.Equal(1, m.Value));
    }

    [Fact]
    public async Task GetResponseAsync_Request_EmitsOneChatSpanWithGenAiTags()
    {
        using var spans = new SpanRecorder("AutoGlm");
        await using HostedModel hosted = HostedModel.Create(_fixture.ModelPath, o => o.ModelId = "span-glm");

        ChatResponse response = await hosted.Client.GetResponseAsync("hi", new ChatOptions { MaxOutputTokens = 9, Temperature = 0.5f });

        Activity span = Assert.Single(spans.Stopped, a => (string?)a.GetTagItem("gen_ai.request.model") == "span-glm");
        Assert.Equal("chat span-glm", span.DisplayName);
        Assert.Equal(ActivityKind.Internal, span.Kind);
        Assert.Equal("chat", span.GetTagItem("gen_ai.operation.name"));
        Assert.Equal("autoglm", span.GetTagItem("gen_ai.provider.name"));
        Assert.Equal(9, span.GetTagItem("gen_ai.request.max_tokens"));
        Assert.Equal(0.5f, span.GetTagItem("gen_ai.request.temperature"));
        Assert.Equal(response.ResponseId, span.GetTagItem("gen_ai.response.id"));
        Assert.Equal("fake-model", span.GetTagItem("gen_ai.response.model"));
        Assert.Equal((long)FakeChatClient.InputTokens, span.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.Equal((long)FakeChatClient.OutputTokens, span.GetTagItem("gen_ai.usage.output_tokens"));
        Assert.Equal(["stop"], (string[])span.GetTagItem("gen_ai.response.finish_reasons")!);
        Assert.Equal(false, span.GetTagItem("autoglm.model.candidate"));
        Assert.Equal(hosted.Host.GetStatus().ModelPath, span.GetTagItem("autoglm.model.path"));
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
    }

    [Fact]
    public async Task UseOpenTelemetry_AddedToThePipeline_EmitsOneChatSpanCarryingAutoGlmsAttributes()
    {
        using var spans = new SpanRecorder("AutoGlm", "test.meai");
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddAutoGlm(o => { o.ModelPath = _fixture.ModelPath; o.ModelId = "otel-twice"; o.LoadOnStartup = false; o.WarmUp = false; })
            .ChatClientBuilder.UseOpenTelemetry(sourceName: "test.meai");
        await using ServiceProvider provider = services.BuildServiceProvider();

        await provider.GetRequiredService<IChatClient>().GetResponseAsync("hi", new ChatOptions { MaxOutputTokens = 3 });

        Activity span = Assert.Single(spans.Stopped, a => a.OperationName.StartsWith("chat", StringComparison.Ordinal));
        Assert.Equal("test.meai", span.Source.Name);
        Assert.Equal("chat otel-twice", span.DisplayName);
        Assert.Equal(false, span.GetTagItem("autoglm.model.candidate"));
    }

    [Fact]
    public async Task OpenTelemetrySdk_HostedAndPlainClientsOnOneMeter_ExportsConventionalInstrumentsWithoutDuplicateWarnings()
    {
        using var diagnostics = new OpenTelemetryDiagnostics();
        var metrics = new List<Metric>();
        var exportedSpans = new List<Activity>();
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(AutoGlmTelemetry.MeterName).AddInMemoryExporter(metrics))
            .WithTracing(t => t.AddSource(AutoGlmTelemetry.ActivitySourceName).AddInMemoryExporter(exportedSpans));
        services.AddAutoGlm(o => { o.ModelPath = _fixture.ModelPath; o.ModelId = "otel-glm"; o.LoadOnStartup = false; o.WarmUp = false; });
        await using ServiceProvider provider = services.BuildServiceProvider();
        MeterProvider meterProvider = provider.GetRequiredService<MeterProvider>();
        _ = provider.GetRequiredService<TracerProvider>();
        IMeterFactory meterFactory = provider.GetRequiredService<IMeterFactory>();

        // The hosted client, and a model of the application's own on the same meter with a plain AutoGlmChatClient over it.
        ChatResponse hostedResponse = await provider.GetRequiredService<IChatClient>().GetResponseAsync("hi", new ChatOptions { MaxOutputTokens = 3, Temperature = 0f });
        await using GlmModel own = await GlmModel.LoadAsync(_fixture.SecondModelPath, new GlmModelOptions { MeterFactory = meterFactory, WarmUp = false });
        using var plain = new AutoGlm.Chat.AutoGlmChatClient(own, new AutoGlm.Chat.AutoGlmChatClientOptions { ModelId = "own-glm" });
        await plain.GetResponseAsync("hello", new ChatOptions { MaxOutputTokens = 2, Temperature = 0f });
        await own.GenerateAsync("steps", new AutoGlm.Generation.GenerationOptions { MaxNewTokens = 3, Temperature = 0f, IgnoreEos = true });
        Assert.True(meterProvider.ForceFlush());

        Assert.DoesNotContain(diagnostics.Events, e => e.Contains("Duplicate", StringComparison.Ordinal));
        Dictionary<string, Metric> byName = metrics.GroupBy(m => m.Name).ToDictionary(g => g.Key, g => g.Last());
        var expected = new (string Name, string Unit, MetricType Type)[]
        {
            ("gen_ai.client.operation.duration", "s", MetricType.Histogram),
            ("gen_ai.client.token.usage", "{token}", MetricType.Histogram),
            ("gen_ai.server.request.duration", "s", MetricType.Histogram),
            ("gen_ai.server.time_to_first_token", "s", MetricType.Histogram),
            ("gen_ai.server.time_per_output_token", "s", MetricType.Histogram),
            ("autoglm.batch.size", "{sequence}", MetricType.Histogram),
            ("autoglm.queue.depth", "{request}", MetricType.LongSumNonMonotonic),
            ("autoglm.kv_cache.usage", "{token}", MetricType.LongSumNonMonotonic),
            ("autoglm.kv_cache.limit", "{token}", MetricType.LongSumNonMonotonic),
            ("autoglm.kv_cache.memory", "By", MetricType.LongGauge),
        };
        Assert.Equal(expected.Select(e => e.Name).Order(), byName.Keys.Order());
        Assert.All(expected, e => Assert.Equal((e.Unit, e.Type), (byName[e.Name].Unit, byName[e.Name].MetricType)));

        // Each request is measured once as a client operation and once by the scheduler, with the model it asked for.
        // Other test classes may record on other AutoGlm meters meanwhile: look at this test's models only.
        Dictionary<string, object?>[] clientPoints = Points(byName["gen_ai.client.operation.duration"]);
        Assert.Equal(["otel-glm", "own-glm"], clientPoints.Select(p => (string)p["gen_ai.request.model"]!).Order());
        Assert.All(clientPoints, p => Assert.Equal(("chat", "autoglm"), ((string)p["gen_ai.operation.name"]!, (string)p["gen_ai.provider.name"]!)));
        Dictionary<string, object?>[] serverPoints = Points(byName["gen_ai.server.request.duration"]);
        Assert.Equal(["otel-glm", "own-glm"], serverPoints.Select(p => (string)p["gen_ai.response.model"]!).Order());
        Assert.Equal(
            [("input", "otel-glm"), ("input", "own-glm"), ("output", "otel-glm"), ("output", "own-glm")],
            Points(byName["gen_ai.client.token.usage"]).Select(p => ((string)p["gen_ai.token.type"]!, (string)p["gen_ai.request.model"]!)).Order());

        Activity[] chats = [.. exportedSpans.Where(a => a.Source.Name == AutoGlmTelemetry.ActivitySourceName)];
        Assert.Equal(["chat otel-glm", "chat own-glm"], chats.Select(a => a.DisplayName).Order());
        Activity hostedSpan = chats.Single(a => a.DisplayName == "chat otel-glm");
        Assert.Equal(hostedResponse.ResponseId, hostedSpan.GetTagItem("gen_ai.response.id"));
        Assert.Equal("otel-glm", hostedSpan.GetTagItem("gen_ai.response.model"));
        Assert.Equal(hostedResponse.Usage!.OutputTokenCount, hostedSpan.GetTagItem("gen_ai.usage.output_tokens"));
    }

    [Fact]
    public void OpenTelemetryDiagnostics_ConflictingInstruments_AreCaught()
    {
        // The listener the duplicate check relies on does hear the SDK's DuplicateMetricInstrument warning.
        using var diagnostics = new OpenTelemetryDiagnostics();
        using var meter = new Meter("AutoGlm.Tests.Duplicates");
        using MeterProvider provider = Sdk.CreateMeterProviderBuilder().AddMeter(meter.Name).AddInMemoryExporter(new List<Metric>()).Build();

        meter.CreateHistogram<int>("autoglm.batch.size", "{sequence}");
        meter.CreateCounter<int>("autoglm.batch.size", "{request}");

        Assert.Contains(diagnostics.Events, e => e.Contains("Duplicate Instrument 'autoglm.batch.size'", StringComparison.Ordinal));
    }

    private static Dictionary<string, object?>[] Points(Metric metric) => [.. AllPoints(metric).Where(p =>
        p.TryGetValue("gen_ai.request.model", out object? model) && model is "otel-glm" or "own-glm")];

    private static List<Dictionary<string, object?>> AllPoints(Metric metric)
    {
        var points = new List<Dictionary<string, object?>>();
        foreach (ref readonly MetricPoint point in metric.GetMetricPoints())
        {
            var tags = new Dictionary<string, object?>();
            foreach (KeyValuePair<string, object?> tag in point.Tags)
            {
                tags[tag.Key] = tag.Value;
            }

            points.Add(tags);
        }

        return points;
    }

    /// <summary>Records the spans of the given sources that stop while it lives.</summary>
    private sealed class SpanRecorder : IDisposable
    {
        private readonly ActivityListener _listener;
        private readonly List<Activity> _stopped = [];

        public SpanRecorder(params string[] sources)
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => sources.Contains(source.Name),
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = activity =>
                {
                    lock (_stopped)
                    {
                        _stopped.Add(activity);
                    }
                },
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public Activity[] Stopped
        {
            get
            {
                lock (_stopped)
                {
                    return [.. _stopped];
                }
            }
        }

        public void Dispose() => _listener.Dispose();
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
                _byName.Remove("autoglm.kv_cache.usage");
                _byName.Remove("autoglm.kv_cache.limit");
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
