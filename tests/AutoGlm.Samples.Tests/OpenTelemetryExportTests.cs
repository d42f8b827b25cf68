using AutoGlm.Tests.Shared;
using System.Net;
using AutoGlm.Extensions.Hosting;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AutoGlm.Samples.Tests;

/// <summary>The sample's telemetry through the OpenTelemetry SDK: the Prometheus scrape endpoint and the OTLP exporter.</summary>
[Collection(TinyModelCollection.Name)]
public sealed class OpenTelemetryExportTests(TinyModelFixture model)
{
    private const string Completion = """{"messages":[{"role":"user","content":"Hello"}],"max_tokens":5,"temperature":0}""";

    [Fact]
    public async Task Metrics_AfterACompletion_ExportsTheAutoGlmMeterInPrometheusText()
    {
        // A host of its own, so the counts are this test's only.
        using var factory = new SampleFactory(model.ModelPath);
        HttpClient http = factory.CreateClient();
        using HttpResponseMessage completion = await http.PostAsync("/v1/chat/completions", Json(Completion));
        JsonElement usage = (await completion.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("usage");

        using HttpResponseMessage response = await http.GetAsync("/metrics");
        string text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        const string Chat = "gen_ai_operation_name=\"chat\",gen_ai_provider_name=\"autoglm\",gen_ai_request_model=\"model\",gen_ai_response_model=\"model\"";
        string[] expected =
        [
            "# TYPE gen_ai_client_operation_duration_seconds histogram\n",
            $"gen_ai_client_operation_duration_seconds_count{{{Scope},{Chat}}} 1\n",
            "# TYPE gen_ai_client_token_usage histogram\n",
            $"gen_ai_client_token_usage_sum{{{Scope},{Chat},gen_ai_token_type=\"input\"}} {usage.GetProperty("prompt_tokens").GetInt64()}\n",
            $"gen_ai_client_token_usage_sum{{{Scope},{Chat},gen_ai_token_type=\"output\"}} {usage.GetProperty("completion_tokens").GetInt64()}\n",
            "# TYPE gen_ai_server_request_duration_seconds histogram\n",
            $"gen_ai_server_request_duration_seconds_count{{{Scope},{Chat}}} 1\n",
            $"gen_ai_server_time_to_first_token_seconds_count{{{Scope},{Chat}}} 1\n",
            "# TYPE autoglm_queue_depth gauge\n",
            $"autoglm_queue_depth{{{Scope},gen_ai_provider_name=\"autoglm\"}} 0\n",
            $"autoglm_kv_cache_usage{{{Scope},gen_ai_provider_name=\"autoglm\"}} 0\n",
            "# TYPE autoglm_batch_size histogram\n",
            $"autoglm_kv_cache_limit{{{Scope},gen_ai_provider_name=\"autoglm\"}} {factory.Services.GetRequiredService<GlmModelHost>().GetStatus().KvBudgetTokens}\n",
        ];
        Assert.All(expected, line => Assert.Contains(line, text, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Otlp_EndpointSet_ExportsTheChatSpanAndTheMetricsToTheCollector()
    {
        using var diagnostics = new VerboseOpenTelemetryDiagnostics();
        await using var collector = await OtlpCollector.StartAsync();
        var factory = new SampleFactory(model.ModelPath, settings: new()
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        });
        using (factory)
        {
            using HttpResponseMessage completion = await factory.CreateClient().PostAsync("/v1/chat/completions", Json(Completion));
            Assert.Equal(HttpStatusCode.OK, completion.StatusCode);
        }

        // Stopping the app flushes both providers; the exporters post from their own threads.
        await collector.WaitForAsync("/v1/traces", "/v1/metrics");
        Assert.Contains(diagnostics.Events, e => e.Contains("Exporters added", StringComparison.Ordinal) && e.Contains("OtlpMetricExporter", StringComparison.Ordinal));
        byte[] traces = collector.Body("/v1/traces");
        Assert.Contains("chat model", Encoding.UTF8.GetString(traces), StringComparison.Ordinal);
        Assert.Contains("gen_ai.response.id", Encoding.UTF8.GetString(traces), StringComparison.Ordinal);
        Assert.Contains("gen_ai.client.operation.duration", Encoding.UTF8.GetString(collector.Body("/v1/metrics")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Otlp_EndpointUnset_BuildsTheMeterProviderWithPrometheusOnly()
    {
        using var diagnostics = new VerboseOpenTelemetryDiagnostics();
        using (var factory = new SampleFactory(model.ModelPath))
        {
            using HttpResponseMessage metrics = await factory.CreateClient().GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        }

        // The SDK reports the exporters each meter provider was built with.
        string[] built = [.. diagnostics.Events.Where(e => e.Contains("Exporters added", StringComparison.Ordinal))];
        Assert.NotEmpty(built);
        Assert.All(built, e => Assert.Contains("PrometheusExporter", e, StringComparison.Ordinal));
        Assert.All(built, e => Assert.DoesNotContain("Otlp", e, StringComparison.Ordinal));
    }

    private const string Scope = "otel_scope_name=\"AutoGlm\"";

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    /// <summary>An OTLP/HTTP endpoint on 127.0.0.1 that keeps what it receives.</summary>
    private sealed class OtlpCollector : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly List<(string Path, byte[] Body)> _received = [];

        private OtlpCollector(WebApplication app)
        {
            _app = app;
        }

        public string Endpoint => _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();

        public IReadOnlyList<string> Paths
        {
            get
            {
                lock (_received)
                {
                    return [.. _received.Select(r => r.Path)];
                }
            }
        }

        public static async Task<OtlpCollector> StartAsync()
        {
            WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            WebApplication app = builder.Build();
            var collector = new OtlpCollector(app);
            app.MapPost("/v1/{signal}", async (HttpContext http) =>
            {
                using var body = new MemoryStream();
                await http.Request.Body.CopyToAsync(body);
                lock (collector._received)
                {
                    collector._received.Add((http.Request.Path.Value!, body.ToArray()));
                }

                return Results.Ok();
            });
            await app.StartAsync();
            return collector;
        }

        public async Task WaitForAsync(params string[] paths)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (!paths.All(Paths.Contains) && !timeout.IsCancellationRequested)
            {
                await Task.Delay(50);
            }
        }

        public byte[] Body(string path)
        {
            lock (_received)
            {
                (string Path, byte[] Body)[] matching = [.. _received.Where(r => r.Path == path)];
                Assert.True(matching.Length > 0, $"Nothing was posted to {path}; received: {string.Join(", ", _received.Select(r => r.Path))}.");
                return [.. matching.SelectMany(r => r.Body)];
            }
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
