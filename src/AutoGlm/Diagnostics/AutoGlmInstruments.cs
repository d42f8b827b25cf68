using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace AutoGlm.Diagnostics;

/// <summary>
/// Every instrument of the <c>AutoGlm</c> meter and the <c>AutoGlm</c> activity source, defined once here (names, units,
/// descriptions, bucket advice after the OpenTelemetry GenAI semantic conventions) and created once per <see cref="Meter"/>,
/// however many models, chat clients and hosts record on it; so an OpenTelemetry SDK never sees two definitions of one name.
/// </summary>
/// <remarks>
/// Thread-safe. The asynchronous counters read every registered <see cref="LoadSource"/> and report their sum, so several
/// models on one meter report one value (the total) instead of competing measurements with the same attributes.
/// </remarks>
internal sealed class AutoGlmInstruments
{
    public const string OperationNameTag = "gen_ai.operation.name";
    public const string ProviderNameTag = "gen_ai.provider.name";
    public const string RequestModelTag = "gen_ai.request.model";
    public const string ResponseModelTag = "gen_ai.response.model";
    public const string TokenTypeTag = "gen_ai.token.type";
    public const string ErrorTypeTag = "error.type";

    /// <summary>The GenAI operation of a chat request.</summary>
    public const string ChatOperation = "chat";

    /// <summary>The GenAI operation of a raw generation (<see cref="GlmModel.GenerateAsync(string, Generation.GenerationOptions?, CancellationToken)"/>).</summary>
    public const string TextCompletionOperation = "text_completion";

    private static readonly ConditionalWeakTable<Meter, AutoGlmInstruments> s_byMeter = [];

    // Bucket boundaries the GenAI semantic conventions advise for each instrument.
    private static readonly double[] s_durationBuckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
    private static readonly double[] s_timeToFirstTokenBuckets = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];
    private static readonly double[] s_timePerOutputTokenBuckets = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5];
    private static readonly int[] s_tokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
    private static readonly int[] s_batchBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256];
    private static readonly KeyValuePair<string, object?> s_provider = new(ProviderNameTag, AutoGlmTelemetry.ProviderName);

    private readonly Lock _sourcesLock = new();
    private readonly List<LoadSource> _sources = [];

    private AutoGlmInstruments(Meter meter)
    {
        ClientOperationDuration = meter.CreateHistogram("gen_ai.client.operation.duration", "s", "GenAI operation duration.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_durationBuckets });
        ClientTokenUsage = meter.CreateHistogram<int>("gen_ai.client.token.usage", "{token}", "Number of input and output tokens used.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = s_tokenBuckets });
        ServerRequestDuration = meter.CreateHistogram("gen_ai.server.request.duration", "s", "Generative AI server request duration such as time-to-last byte or last output token.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_durationBuckets });
        ServerTimeToFirstToken = meter.CreateHistogram("gen_ai.server.time_to_first_token", "s", "Time to generate first token for successful responses.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_timeToFirstTokenBuckets });
        ServerTimePerOutputToken = meter.CreateHistogram("gen_ai.server.time_per_output_token", "s", "Time per output token generated after the first token for successful responses.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_timePerOutputTokenBuckets });
        BatchSize = meter.CreateHistogram<int>("autoglm.batch.size", "{sequence}", "Sequences decoded together in one model step.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = s_batchBuckets });
        PrefixLookups = meter.CreateCounter<long>("autoglm.prefix_cache.lookups", "{request}", "Requests admitted while prefix reuse is on.");
        PrefixHits = meter.CreateCounter<long>("autoglm.prefix_cache.hits", "{request}", "Requests that started from a kept KV prefix.");
        PrefixTokensSaved = meter.CreateCounter<long>("autoglm.prefix_cache.tokens_saved", "{token}", "Prompt tokens not recomputed thanks to a kept KV prefix.");
        meter.CreateObservableUpDownCounter("autoglm.queue.depth", () => Sum(static s => s.QueuedRequests()), "{request}", "Requests waiting for a batch slot.");
        meter.CreateObservableUpDownCounter("autoglm.kv_cache.usage", () => Sum(static s => s.KvTokensInUse()), "{token}", "KV cache positions reserved by running requests.");
        meter.CreateObservableUpDownCounter("autoglm.kv_cache.limit", () => Sum(static s => s.KvBudgetTokens()), "{token}", "KV cache positions the loaded models may reserve.");
        meter.CreateObservableGauge("autoglm.kv_cache.memory", SumBytes, "By", "Bytes of memory the KV caches of the loaded models hold.");
        Preemptions = meter.CreateCounter<long>("autoglm.kv_cache.preemptions", "{request}", "Running requests whose KV was dropped to make room for another's next block, then recomputed.");
    }

    /// <summary>The <c>AutoGlm</c> activity source: one <c>chat {model}</c> span per chat request.</summary>
    public static ActivitySource ActivitySource { get; } = new(AutoGlmTelemetry.ActivitySourceName);

    /// <summary><c>gen_ai.client.operation.duration</c>: a chat request as its caller sees it (waiting for a model load included).</summary>
    public Histogram<double> ClientOperationDuration { get; }

    /// <summary><c>gen_ai.client.token.usage</c>: input and output tokens of a chat request.</summary>
    public Histogram<int> ClientTokenUsage { get; }

    /// <summary><c>gen_ai.server.request.duration</c>: a generation from submission to its last token (or failure).</summary>
    public Histogram<double> ServerRequestDuration { get; }

    /// <summary><c>gen_ai.server.time_to_first_token</c>.</summary>
    public Histogram<double> ServerTimeToFirstToken { get; }

    /// <summary><c>gen_ai.server.time_per_output_token</c>.</summary>
    public Histogram<double> ServerTimePerOutputToken { get; }

    /// <summary><c>autoglm.batch.size</c>: rows of one decode step.</summary>
    public Histogram<int> BatchSize { get; }

    /// <summary><c>autoglm.prefix_cache.lookups</c>: requests admitted with prefix reuse on.</summary>
    public Counter<long> PrefixLookups { get; }

    /// <summary><c>autoglm.prefix_cache.hits</c>: requests that started from a kept KV prefix.</summary>
    public Counter<long> PrefixHits { get; }

    /// <summary><c>autoglm.prefix_cache.tokens_saved</c>: prompt tokens not recomputed.</summary>
    public Counter<long> PrefixTokensSaved { get; }

    /// <summary><c>autoglm.kv_cache.preemptions</c>: running requests preempted for lack of KV budget.</summary>
    public Counter<long> Preemptions { get; }

    /// <summary>The instruments on <paramref name="meter"/>, created on first use.</summary>
    public static AutoGlmInstruments For(Meter meter)
    {
        ArgumentNullException.ThrowIfNull(meter);
        return s_byMeter.GetValue(meter, static m => new AutoGlmInstruments(m));
    }

    /// <summary>The instruments on <paramref name="meterFactory"/>'s <c>AutoGlm</c> meter, or null without a factory.</summary>
    public static AutoGlmInstruments? For(IMeterFactory? meterFactory)
        => meterFactory is null ? null : For(meterFactory.Create(new MeterOptions(AutoGlmTelemetry.MeterName)));

    /// <summary>Adds a model's load to the asynchronous counters until the returned registration is disposed.</summary>
    public IDisposable Register(LoadSource source)
    {
        lock (_sourcesLock)
        {
            _sources.Add(source);
        }

        return new Registration(this, source);
    }

    private IEnumerable<Measurement<int>> Sum(Func<LoadSource, int> read)
    {
        LoadSource[] sources;
        lock (_sourcesLock)
        {
            sources = [.. _sources];
        }

        if (sources.Length == 0)
        {
            return [];
        }

        int total = 0;
        foreach (LoadSource source in sources)
        {
            total += read(source);
        }

        return [new Measurement<int>(total, s_provider)];
    }

    private IEnumerable<Measurement<long>> SumBytes()
    {
        LoadSource[] sources;
        lock (_sourcesLock)
        {
            sources = [.. _sources];
        }

        if (sources.Length == 0)
        {
            return [];
        }

        long total = 0;
        foreach (LoadSource source in sources)
        {
            total += source.KvBytes?.Invoke() ?? 0;
        }

        return [new Measurement<long>(total, s_provider)];
    }

    /// <summary>How a model's load is read when the counters are collected (<paramref name="KvBytes"/>: KV memory held, when known).</summary>
    public sealed record LoadSource(Func<int> QueuedRequests, Func<int> KvTokensInUse, Func<int> KvBudgetTokens, Func<long>? KvBytes = null);

    private sealed class Registration(AutoGlmInstruments owner, LoadSource source) : IDisposable
    {
        public void Dispose()
        {
            lock (owner._sourcesLock)
            {
                owner._sources.Remove(source);
            }
        }
    }
}
