using System.Diagnostics.Metrics;

namespace AutoGlm.Cli;

/// <summary>
/// Gives a model a meter of its own (as <see cref="GlmModelOptions.MeterFactory"/>) and sums what that meter's prefix
/// cache counters record — <c>autoglm.prefix_cache.lookups</c>, <c>.hits</c> and <c>.tokens_saved</c> — so a trace can
/// say how often reuse hit and how many prompt tokens it spared.
/// </summary>
/// <remarks>Thread-safe: counters are summed with <see cref="Interlocked"/>.</remarks>
internal sealed class PrefixReuseCounter : IMeterFactory
{
    private readonly List<Meter> _meters = [];
    private readonly MeterListener _listener = new();
    private long _lookups;
    private long _hits;
    private long _tokensSaved;

    public PrefixReuseCounter()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            bool ours;
            lock (_meters)
            {
                ours = _meters.Contains(instrument.Meter);
            }

            if (ours && instrument.Name.StartsWith("autoglm.prefix_cache.", StringComparison.Ordinal))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            switch (instrument.Name)
            {
                case "autoglm.prefix_cache.lookups":
                    Interlocked.Add(ref _lookups, value);
                    break;
                case "autoglm.prefix_cache.hits":
                    Interlocked.Add(ref _hits, value);
                    break;
                case "autoglm.prefix_cache.tokens_saved":
                    Interlocked.Add(ref _tokensSaved, value);
                    break;
            }
        });
        _listener.Start();
    }

    /// <summary>Gets the requests admitted with prefix reuse on.</summary>
    public long Lookups => Interlocked.Read(ref _lookups);

    /// <summary>Gets the requests that started from a kept prefix.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Gets the prompt tokens not recomputed.</summary>
    public long TokensSaved => Interlocked.Read(ref _tokensSaved);

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(options);
        lock (_meters)
        {
            _meters.Add(meter);
        }

        return meter;
    }

    public void Dispose()
    {
        _listener.Dispose();
        lock (_meters)
        {
            foreach (Meter meter in _meters)
            {
                meter.Dispose();
            }

            _meters.Clear();
        }
    }
}
