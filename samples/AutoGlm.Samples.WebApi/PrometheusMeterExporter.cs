using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace AutoGlm.Samples.WebApi;

/// <summary>
/// Listens to one meter (by name, <c>AutoGlm</c> here) and renders its instruments in Prometheus' text exposition
/// format: counters as <c>_total</c> sums, histograms as cumulative <c>_bucket</c>/<c>_sum</c>/<c>_count</c> series
/// (bucket bounds from the instrument's advice), gauges and observable instruments as their latest value (observed at
/// scrape time). Only meters created by this application's <see cref="IMeterFactory"/> (or without a scope) are read,
/// so several applications in one process do not see each other's numbers.
/// </summary>
/// <remarks>Thread-safe: measurements may arrive on any thread while a scrape renders.</remarks>
public sealed class PrometheusMeterExporter : IDisposable
{
    private static readonly double[] s_defaultBuckets = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

    private readonly MeterListener _listener;
    private readonly string _meterName;
    private readonly object? _scope;
    private readonly Lock _scrapeLock = new();
    private readonly List<InstrumentSeries> _instruments = [];

    public PrometheusMeterExporter(string meterName, IMeterFactory? meterFactory)
    {
        _meterName = meterName;
        _scope = meterFactory;
        _listener = new MeterListener
        {
            InstrumentPublished = OnInstrumentPublished,
            MeasurementsCompleted = (instrument, state) =>
            {
                lock (_instruments)
                {
                    _instruments.Remove((InstrumentSeries)state!);
                }
            },
        };
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((InstrumentSeries)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<float>(static (_, value, tags, state) => ((InstrumentSeries)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((InstrumentSeries)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((InstrumentSeries)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<short>(static (_, value, tags, state) => ((InstrumentSeries)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<byte>(static (_, value, tags, state) => ((InstrumentSeries)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<decimal>(static (_, value, tags, state) => ((InstrumentSeries)state!).Record((double)value, tags));
        _listener.Start();
    }

    /// <summary>Observes the observable instruments, then renders every series.</summary>
    public string Scrape()
    {
        lock (_scrapeLock)
        {
            InstrumentSeries[] instruments;
            lock (_instruments)
            {
                instruments = [.. _instruments];
            }

            foreach (InstrumentSeries series in instruments)
            {
                if (series.IsObservable)
                {
                    series.Clear();
                }
            }

            _listener.RecordObservableInstruments();
            var text = new StringBuilder();
            foreach (IGrouping<string, InstrumentSeries> family in instruments.GroupBy(FamilyName).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                InstrumentSeries first = family.First();
                if (!string.IsNullOrEmpty(first.Description))
                {
                    text.Append("# HELP ").Append(family.Key).Append(' ').Append(EscapeHelp(first.Description)).Append('\n');
                }


                text.Append("# TYPE ").Append(family.Key).Append(' ').Append(first.PrometheusType).Append('\n');
                foreach (InstrumentSeries series in family)
                {
                    series.Render(text, family.Key);
                }
            }

            return text.ToString();
        }
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>
    /// The family an instrument's series are listed under: its metric name, unless an instrument of another kind
    /// took that name first (e.g. a histogram and a gauge both called <c>autoglm.batch.size</c>); then the name
    /// gets the kind as a suffix, since one Prometheus family has one type.
    /// </summary>
    private string FamilyName(InstrumentSeries series)
    {
        lock (_instruments)
        {
            InstrumentSeries first = _instruments.First(s => s.MetricName == series.MetricName);
            return first.PrometheusType == series.PrometheusType ? series.MetricName : $"{series.MetricName}_{series.PrometheusType}";
        }
    }

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        if (instrument.Meter.Name != _meterName || (instrument.Meter.Scope is not null && !ReferenceEquals(instrument.Meter.Scope, _scope)))
        {
            return;
        }

        var series = new InstrumentSeries(instrument);
        lock (_instruments)
        {
            _instruments.Add(series);
        }

        listener.EnableMeasurementEvents(instrument, series);
    }

    internal static string Sanitize(string name)
    {
        var result = new StringBuilder(name.Length);
        foreach (char c in name)
        {
            result.Append(char.IsAsciiLetterOrDigit(c) || c == '_' || c == ':' ? c : '_');
        }

        if (result.Length == 0 || char.IsAsciiDigit(result[0]))
        {
            result.Insert(0, '_');
        }

        return result.ToString();
    }

    internal static string FormatNumber(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf"
        : double.IsNegativeInfinity(value) ? "-Inf"
        : double.IsNaN(value) ? "NaN"
        : value.ToString("R", CultureInfo.InvariantCulture);

    private static string EscapeHelp(string? text) => (text ?? string.Empty).Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string EscapeLabel(string text) => text
        .Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("\"", "\\\"", StringComparison.Ordinal)
        .Replace("\n", "\\n", StringComparison.Ordinal);

    /// <summary>One instrument's series, one per distinct tag set.</summary>
    private sealed class InstrumentSeries
    {
        private readonly Dictionary<string, Point> _points = new(StringComparer.Ordinal);
        private readonly double[]? _bounds;
        private readonly bool _isSum;

        public InstrumentSeries(Instrument instrument)
        {
            Description = instrument.Description;
            Type definition = instrument.GetType().IsGenericType ? instrument.GetType().GetGenericTypeDefinition() : instrument.GetType();
            IsObservable = instrument.IsObservable;
            string baseName = Sanitize(instrument.Name) + UnitSuffix(instrument.Unit);
            if (definition == typeof(Histogram<>))
            {
                PrometheusType = "histogram";
                _bounds = instrument switch
                {
                    Histogram<double> h => h.Advice?.HistogramBucketBoundaries?.ToArray(),
                    Histogram<float> h => h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray(),
                    Histogram<long> h => h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray(),
                    Histogram<int> h => h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray(),
                    _ => null,
                } ?? s_defaultBuckets;
                MetricName = baseName;
            }
            else if (definition == typeof(Counter<>) || definition == typeof(ObservableCounter<>))
            {
                PrometheusType = "counter";
                _isSum = definition == typeof(Counter<>);
                MetricName = baseName + "_total";
            }
            else
            {
                // Gauges and up-down counters: a value that can go down.
                PrometheusType = "gauge";
                _isSum = definition == typeof(UpDownCounter<>);
                MetricName = baseName;
            }
        }

        public string MetricName { get; }

        public string PrometheusType { get; }

        public string? Description { get; }

        public bool IsObservable { get; }

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string key = Labels(tags);
            lock (_points)
            {
                if (!_points.TryGetValue(key, out Point? point))
                {
                    point = new Point(_bounds?.Length ?? 0);
                    _points.Add(key, point);
                }

                if (_bounds is not null)
                {
                    int bucket = Array.FindIndex(_bounds, b => value <= b);
                    point.Buckets[bucket < 0 ? _bounds.Length : bucket]++;
                    point.Count++;
                    point.Value += value;
                }
                else if (_isSum)
                {
                    point.Value += value;
                }
                else
                {
                    point.Value = value;
                }
            }
        }

        public void Clear()
        {
            lock (_points)
            {
                _points.Clear();
            }
        }

        public void Render(StringBuilder text, string name)
        {
            lock (_points)
            {
                foreach ((string labels, Point point) in _points.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (_bounds is null)
                    {
                        text.Append(name).Append(Braces(labels)).Append(' ').Append(FormatNumber(point.Value)).Append('\n');
                        continue;
                    }

                    long cumulative = 0;
                    for (int i = 0; i <= _bounds.Length; i++)
                    {
                        cumulative += point.Buckets[i];
                        string le = i < _bounds.Length ? FormatNumber(_bounds[i]) : "+Inf";
                        string withLe = labels.Length == 0 ? $"le=\"{le}\"" : $"{labels},le=\"{le}\"";
                        text.Append(name).Append("_bucket{").Append(withLe).Append("} ").Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
                    }

                    text.Append(name).Append("_sum").Append(Braces(labels)).Append(' ').Append(FormatNumber(point.Value)).Append('\n');
                    text.Append(name).Append("_count").Append(Braces(labels)).Append(' ').Append(point.Count.ToString(CultureInfo.InvariantCulture)).Append('\n');
                }
            }
        }

        private static string Braces(string labels) => labels.Length == 0 ? string.Empty : "{" + labels + "}";

        private static string UnitSuffix(string? unit) => unit switch
        {
            "s" => "_seconds",
            "ms" => "_milliseconds",
            "By" => "_bytes",
            "1" => "_ratio",
            _ => string.Empty,
        };

        private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (tags.Length == 0)
            {
                return string.Empty;
            }

            var pairs = new List<string>(tags.Length);
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                string value = tag.Value is IFormattable formattable ? formattable.ToString(null, CultureInfo.InvariantCulture) : tag.Value?.ToString() ?? string.Empty;
                pairs.Add($"{Sanitize(tag.Key)}=\"{EscapeLabel(value)}\"");
            }

            pairs.Sort(StringComparer.Ordinal);
            return string.Join(',', pairs);
        }
    }

    private sealed class Point(int bucketCount)
    {
        public long[] Buckets { get; } = new long[bucketCount + 1];

        public long Count { get; set; }

        public double Value { get; set; }
    }
}
