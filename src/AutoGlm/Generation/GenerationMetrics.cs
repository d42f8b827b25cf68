using System.Diagnostics.Metrics;

namespace AutoGlm.Generation;

/// <summary>
/// The scheduler's instruments on the <c>AutoGlm</c> meter, named after the OpenTelemetry GenAI semantic
/// conventions where they exist (<c>gen_ai.server.time_to_first_token</c>,
/// <c>gen_ai.server.time_per_output_token</c>, <c>gen_ai.server.request.duration</c>,
/// <c>gen_ai.client.token.usage</c>) and <c>autoglm.*</c> for the rest (<c>autoglm.queue.depth</c>,
/// <c>autoglm.batch.size</c>, <c>autoglm.kv_cache.usage</c>, <c>autoglm.prefix_cache.*</c>).
/// </summary>
/// <remarks>
/// Recording allocates nothing (at most one tag, a constant string). The scheduler loop records; observable
/// instruments are read by whichever thread collects. Thread-safe.
/// </remarks>
internal sealed class GenerationMetrics
{
    /// <summary>The meter name every AutoGlm instrument lives on.</summary>
    public const string MeterName = "AutoGlm";

    private static readonly KeyValuePair<string, object?> s_inputTokens = new("gen_ai.token.type", "input");
    private static readonly KeyValuePair<string, object?> s_outputTokens = new("gen_ai.token.type", "output");

    private readonly Histogram<double> _timeToFirstToken;
    private readonly Histogram<double> _timePerOutputToken;
    private readonly Histogram<double> _requestDuration;
    private readonly Histogram<int> _tokenUsage;
    private readonly Histogram<int> _batchSize;
    private readonly Counter<long> _prefixLookups;
    private readonly Counter<long> _prefixHits;
    private readonly Counter<long> _prefixTokensSaved;

    /// <summary>Creates the instruments on <paramref name="meter"/>; the gauges read the given callbacks when collected.</summary>
    public GenerationMetrics(Meter meter, Func<int> queueDepth, Func<int> kvTokensInUse)
    {
        ArgumentNullException.ThrowIfNull(meter);
        ArgumentNullException.ThrowIfNull(queueDepth);
        ArgumentNullException.ThrowIfNull(kvTokensInUse);
        _timeToFirstToken = meter.CreateHistogram<double>("gen_ai.server.time_to_first_token", "s", "Time from a request's submission to its first generated token.");
        _timePerOutputToken = meter.CreateHistogram<double>("gen_ai.server.time_per_output_token", "s", "Mean time between a request's tokens after the first.");
        _requestDuration = meter.CreateHistogram<double>("gen_ai.server.request.duration", "s", "Time from a request's submission to its last token.");
        _tokenUsage = meter.CreateHistogram<int>("gen_ai.client.token.usage", "{token}", "Prompt (input) and generated (output) tokens per request.");
        _batchSize = meter.CreateHistogram<int>("autoglm.batch.size", "{sequence}", "Sequences decoded together in one model step.");
        _prefixLookups = meter.CreateCounter<long>("autoglm.prefix_cache.lookups", "{request}", "Requests admitted while prefix reuse is on.");
        _prefixHits = meter.CreateCounter<long>("autoglm.prefix_cache.hits", "{request}", "Requests that started from a kept KV prefix.");
        _prefixTokensSaved = meter.CreateCounter<long>("autoglm.prefix_cache.tokens_saved", "{token}", "Prompt tokens not recomputed thanks to a kept KV prefix.");
        meter.CreateObservableGauge("autoglm.queue.depth", queueDepth, "{request}", "Requests waiting for admission.");
        meter.CreateObservableGauge("autoglm.kv_cache.usage", kvTokensInUse, "{token}", "KV-cache positions reserved by running sequences.");
    }

    /// <summary>Records a request's first token.</summary>
    public void FirstToken(TimeSpan sinceSubmission) => _timeToFirstToken.Record(sinceSubmission.TotalSeconds);

    /// <summary>Records a request admitted with prefix reuse on, which found <paramref name="reusedTokens"/> of its prompt kept (0: a miss).</summary>
    public void PrefixLookup(int reusedTokens)
    {
        _prefixLookups.Add(1);
        if (reusedTokens > 0)
        {
            _prefixHits.Add(1);
            _prefixTokensSaved.Add(reusedTokens);
        }
    }

    /// <summary>Records one batched decode step.</summary>
    public void DecodeStep(int rows) => _batchSize.Record(rows);

    /// <summary>Records a request that finished normally (stop or length).</summary>
    public void Completed(int promptTokens, int completionTokens, GenerationTimings timings)
    {
        _requestDuration.Record(timings.TotalTime.TotalSeconds);
        if (completionTokens > 1)
        {
            _timePerOutputToken.Record(timings.TimePerOutputToken.TotalSeconds);
        }

        _tokenUsage.Record(promptTokens, s_inputTokens);
        _tokenUsage.Record(completionTokens, s_outputTokens);
    }
}
