using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace AutoGlm.Extensions.Hosting;

/// <summary>
/// The <c>AutoGlm</c> meter's instruments, named after the OpenTelemetry GenAI conventions where they exist
/// (<c>gen_ai.server.*</c>, <c>gen_ai.client.token.usage</c>) and <c>autoglm.*</c> for the rest; plus the <c>AutoGlm</c> activity source.
/// </summary>
/// <remarks>Thread-safe. One per service provider; the observable gauges read every model host registered with it.</remarks>
internal sealed class AutoGlmMetrics : IDisposable
{
    public const string MeterName = "AutoGlm";
    public const string ProviderName = "autoglm";

    private static readonly double[] s_secondsBuckets = [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120];
    private static readonly long[] s_tokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576];

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Lock _hostsLock = new();
    private readonly List<GlmModelHost> _hosts = [];

    public AutoGlmMetrics(IMeterFactory? meterFactory)
    {
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        TimeToFirstToken = _meter.CreateHistogram("gen_ai.server.time_to_first_token", "s", "Time from the request's arrival to its first streamed output.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_secondsBuckets });
        TimePerOutputToken = _meter.CreateHistogram("gen_ai.server.time_per_output_token", "s", "Time per output token after the first, per request.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_secondsBuckets });
        RequestDuration = _meter.CreateHistogram("gen_ai.server.request.duration", "s", "Time from the request's arrival to its last output.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_secondsBuckets });
        TokenUsage = _meter.CreateHistogram<long>("gen_ai.client.token.usage", "{token}", "Input and output tokens per request.",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = s_tokenBuckets });
        _meter.CreateObservableGauge("autoglm.queue.depth", () => Observe(static s => s.QueuedRequests), "{request}", "Requests waiting for a batch slot.");
        _meter.CreateObservableGauge("autoglm.batch.size", () => Observe(static s => s.ActiveRequests), "{request}", "Requests prefilled or decoded together now.");
        _meter.CreateObservableGauge("autoglm.kv_cache.usage", ObserveKvUsage, "1", "Share of the KV cache budget reserved by running requests.");
    }

    /// <summary>The <c>AutoGlm</c> activity source: one <c>chat</c> span per request.</summary>
    public static ActivitySource ActivitySource { get; } = new(MeterName);

    public Histogram<double> TimeToFirstToken { get; }

    public Histogram<double> TimePerOutputToken { get; }

    public Histogram<double> RequestDuration { get; }

    public Histogram<long> TokenUsage { get; }

    public void Register(GlmModelHost host)
    {
        lock (_hostsLock)
        {
            _hosts.Add(host);
        }
    }

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    private List<Measurement<int>> Observe(Func<GlmModelHostStatus, int> read)
    {
        var measurements = new List<Measurement<int>>();
        foreach (GlmModelHost host in SnapshotHosts())
        {
            GlmModelHostStatus status = host.GetStatus();
            if (status.State == GlmModelHostState.Ready)
            {
                measurements.Add(new Measurement<int>(read(status), Tags(host)));
            }
        }

        return measurements;
    }

    private List<Measurement<double>> ObserveKvUsage()
    {
        var measurements = new List<Measurement<double>>();
        foreach (GlmModelHost host in SnapshotHosts())
        {
            GlmModelHostStatus status = host.GetStatus();
            if (status.State == GlmModelHostState.Ready && status.KvBudgetTokens > 0)
            {
                measurements.Add(new Measurement<double>((double)status.KvTokensInUse / status.KvBudgetTokens, Tags(host)));
            }
        }

        return measurements;
    }

    private GlmModelHost[] SnapshotHosts()
    {
        lock (_hostsLock)
        {
            return [.. _hosts];
        }
    }

    private static KeyValuePair<string, object?>[] Tags(GlmModelHost host) =>
    [
        new("gen_ai.provider.name", ProviderName),
        new("gen_ai.request.model", host.ModelId),
    ];
}
