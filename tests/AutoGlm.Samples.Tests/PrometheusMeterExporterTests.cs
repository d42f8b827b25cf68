using System.Diagnostics.Metrics;
using AutoGlm.Samples.WebApi;
using Microsoft.Extensions.DependencyInjection;

namespace AutoGlm.Samples.Tests;

/// <summary>The sample's MeterListener-based exporter renders exact Prometheus text for each kind of instrument.</summary>
public sealed class PrometheusMeterExporterTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    private IMeterFactory Factory => _services.GetRequiredService<IMeterFactory>();

    [Fact]
    public void Scrape_CounterHistogramAndGauge_RendersExactText()
    {
        using var exporter = new PrometheusMeterExporter("AutoGlm", Factory);
        Meter meter = Factory.Create("AutoGlm");
        Counter<long> requests = meter.CreateCounter<long>("autoglm.requests", "{request}", "Requests served.");
        Histogram<double> duration = meter.CreateHistogram("gen_ai.server.request.duration", "s", "Request time.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 1] });
        int depth = 3;
        meter.CreateObservableGauge("autoglm.queue.depth", () => new Measurement<int>(depth, new KeyValuePair<string, object?>("gen_ai.request.model", "m\"1")), "{request}", "Waiting.\nQueued.");

        requests.Add(2, new KeyValuePair<string, object?>("status", "ok"));
        requests.Add(3, new KeyValuePair<string, object?>("status", "ok"));
        duration.Record(0.0625);
        duration.Record(0.5);
        duration.Record(7);

        Assert.Equal(
            "# HELP autoglm_queue_depth Waiting.\\nQueued.\n" +
            "# TYPE autoglm_queue_depth gauge\n" +
            "autoglm_queue_depth{gen_ai_request_model=\"m\\\"1\"} 3\n" +
            "# HELP autoglm_requests_total Requests served.\n" +
            "# TYPE autoglm_requests_total counter\n" +
            "autoglm_requests_total{status=\"ok\"} 5\n" +
            "# HELP gen_ai_server_request_duration_seconds Request time.\n" +
            "# TYPE gen_ai_server_request_duration_seconds histogram\n" +
            "gen_ai_server_request_duration_seconds_bucket{le=\"0.1\"} 1\n" +
            "gen_ai_server_request_duration_seconds_bucket{le=\"1\"} 2\n" +
            "gen_ai_server_request_duration_seconds_bucket{le=\"+Inf\"} 3\n" +
            "gen_ai_server_request_duration_seconds_sum 7.5625\n" +
            "gen_ai_server_request_duration_seconds_count 3\n",
            exporter.Scrape());

        depth = 1;
        Assert.Contains("autoglm_queue_depth{gen_ai_request_model=\"m\\\"1\"} 1\n", exporter.Scrape(), StringComparison.Ordinal);
    }

    [Fact]
    public void Scrape_OtherMetersAndOtherFactories_AreNotExported()
    {
        using var exporter = new PrometheusMeterExporter("AutoGlm", Factory);
        using ServiceProvider otherApp = new ServiceCollection().AddMetrics().BuildServiceProvider();
        Meter foreign = otherApp.GetRequiredService<IMeterFactory>().Create("AutoGlm");
        foreign.CreateCounter<int>("autoglm.foreign").Add(1);
        Factory.Create("Other").CreateCounter<int>("other.requests").Add(1);

        Assert.Equal(string.Empty, exporter.Scrape());
    }

    [Fact]
    public void Scrape_UpDownCounter_SumsToAGauge()
    {
        using var exporter = new PrometheusMeterExporter("AutoGlm", Factory);
        UpDownCounter<int> inFlight = Factory.Create("AutoGlm").CreateUpDownCounter<int>("autoglm.in_flight");
        inFlight.Add(3);
        inFlight.Add(-1);

        Assert.Equal("# TYPE autoglm_in_flight gauge\nautoglm_in_flight 2\n", exporter.Scrape());
    }

    [Fact]
    public void Scrape_SameNameDifferentKinds_KeepsOneTypePerFamily()
    {
        using var exporter = new PrometheusMeterExporter("AutoGlm", Factory);
        Meter meter = Factory.Create("AutoGlm");
        meter.CreateHistogram<int>("autoglm.batch.size", advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [4] }).Record(2);
        meter.CreateObservableGauge("autoglm.batch.size", () => 5);

        Assert.Equal(
            "# TYPE autoglm_batch_size histogram\n" +
            "autoglm_batch_size_bucket{le=\"4\"} 1\n" +
            "autoglm_batch_size_bucket{le=\"+Inf\"} 1\n" +
            "autoglm_batch_size_sum 2\n" +
            "autoglm_batch_size_count 1\n" +
            "# TYPE autoglm_batch_size_gauge gauge\n" +
            "autoglm_batch_size_gauge 5\n",
            exporter.Scrape());
    }

    public void Dispose() => _services.Dispose();
}
