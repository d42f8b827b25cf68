using System.Diagnostics;
using System.Diagnostics.Metrics;
using AutoGlm.Diagnostics;

namespace AutoGlm.Generation;

/// <summary>
/// What one scheduler records on the <c>AutoGlm</c> meter: the GenAI server metrics per request, the batch size per decode step,
/// and its queue and KV cache load (see <see cref="AutoGlmInstruments"/>, where every instrument is defined).
/// </summary>
/// <remarks>
/// Recording allocates nothing: the tags are a <see cref="TagList"/> of constant or per-request strings. The scheduler loop
/// records; the load is read by whichever thread collects. Thread-safe.
/// </remarks>
internal sealed class GenerationMetrics : IDisposable
{
    private readonly AutoGlmInstruments _instruments;
    private readonly IDisposable _load;

    /// <summary>Records on <paramref name="meter"/>; the load counters read the given callbacks when collected.</summary>
    public GenerationMetrics(Meter meter, Func<int> queueDepth, Func<int> kvTokensInUse, Func<int> kvBudgetTokens, Func<long>? kvBytes = null)
    {
        ArgumentNullException.ThrowIfNull(meter);
        _instruments = AutoGlmInstruments.For(meter);
        _load = _instruments.Register(new AutoGlmInstruments.LoadSource(queueDepth, kvTokensInUse, kvBudgetTokens, kvBytes));
    }

    /// <summary>Records a running sequence preempted (its KV dropped, to be recomputed) for lack of KV budget.</summary>
    public void Preempted() => _instruments.Preemptions.Add(1);

    /// <summary>Records a request's first token.</summary>
    public void FirstToken(GenerationOptions options, TimeSpan sinceSubmission)
    {
        if (!options.ExcludeFromMetrics)
        {
            _instruments.ServerTimeToFirstToken.Record(sinceSubmission.TotalSeconds, Tags(options));
        }
    }

    /// <summary>Records a request admitted with prefix reuse on, which found <paramref name="reusedTokens"/> of its prompt kept (0: a miss).</summary>
    public void PrefixLookup(int reusedTokens)
    {
        _instruments.PrefixLookups.Add(1);
        if (reusedTokens > 0)
        {
            _instruments.PrefixHits.Add(1);
            _instruments.PrefixTokensSaved.Add(reusedTokens);
        }
    }

    /// <summary>Records one batched decode step.</summary>
    public void DecodeStep(int rows) => _instruments.BatchSize.Record(rows);

    /// <summary>Records a request that finished normally (stop or length).</summary>
    public void Completed(GenerationOptions options, int completionTokens, GenerationTimings timings)
    {
        if (options.ExcludeFromMetrics)
        {
            return;
        }

        TagList tags = Tags(options);
        _instruments.ServerRequestDuration.Record(timings.TotalTime.TotalSeconds, tags);
        if (completionTokens > 1)
        {
            _instruments.ServerTimePerOutputToken.Record(timings.TimePerOutputToken.TotalSeconds, tags);
        }
    }

    /// <summary>Records a request that ended with <paramref name="error"/> (cancelled, or the model failed).</summary>
    public void Failed(GenerationOptions options, TimeSpan sinceSubmission, Exception error)
    {
        if (options.ExcludeFromMetrics)
        {
            return;
        }

        TagList tags = Tags(options);
        tags.Add(AutoGlmInstruments.ErrorTypeTag, error.GetType().FullName);
        _instruments.ServerRequestDuration.Record(sinceSubmission.TotalSeconds, tags);
    }

    /// <summary>Stops adding this scheduler's load to the counters.</summary>
    public void Dispose() => _load.Dispose();

    private static TagList Tags(GenerationOptions options)
    {
        var tags = new TagList
        {
            { AutoGlmInstruments.OperationNameTag, options.TelemetryOperationName },
            { AutoGlmInstruments.ProviderNameTag, AutoGlmTelemetry.ProviderName },
        };
        if (options.TelemetryModelId is { } model)
        {
            tags.Add(AutoGlmInstruments.RequestModelTag, model);
            tags.Add(AutoGlmInstruments.ResponseModelTag, model);
        }

        return tags;
    }
}
