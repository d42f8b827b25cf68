using System.Net;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace AutoGlm.Samples.WebApi;

/// <summary>Builds the sample's services and routes; <c>Program</c> and the end-to-end tests share it.</summary>
/// <remarks>Stateless.</remarks>
public static class SampleApp
{
    /// <summary>
    /// Registers the model with <c>AddAutoGlm</c> (from the <c>AutoGlm</c> section), the API options, the OpenTelemetry SDK (the
    /// <c>AutoGlm</c> meter and activity source; Prometheus scrape endpoint; OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set),
    /// and binds Kestrel to 127.0.0.1 only.
    /// </summary>
    public static void Configure(WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<OpenAiApiOptions>().Bind(builder.Configuration.GetSection("OpenAiApi"))
            .Validate(o => o.MaxRequestBodyBytes > 0 && o.MaxTokens > 0 && o.MaxMessages > 0, "OpenAiApi:MaxRequestBodyBytes, MaxTokens and MaxMessages must be positive.")
            .Validate(o => o.ShutdownDelay >= TimeSpan.Zero && IPAddress.TryParse(o.ListenAddress, out _), "OpenAiApi:ShutdownDelay must not be negative and OpenAiApi:ListenAddress must be an IP address (127.0.0.1, or 0.0.0.0 in a container).")
            .ValidateOnStart();
        builder.Services.AddSingleton<ServedModel>();
        builder.Services.AddSingleton<ApiKeyFilter>();

        // Telemetry through the OpenTelemetry SDK: /metrics for Prometheus, and OTLP (traces and metrics) to the collector named by
        // the standard OTEL_EXPORTER_OTLP_ENDPOINT (and OTEL_EXPORTER_OTLP_PROTOCOL, ..._HEADERS), only when it is set.
        OpenTelemetryBuilder telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("AutoGlm.Samples.WebApi"))
            .WithMetrics(metrics => metrics.AddMeter(AutoGlmTelemetry.MeterName).AddPrometheusExporter())
            // The HTTP request spans are the parents of AutoGlm's chat spans (the default sampler follows the parent).
            .WithTracing(tracing => tracing.AddAspNetCoreInstrumentation().AddSource(AutoGlmTelemetry.ActivitySourceName));
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            telemetry.UseOtlpExporter();
        }

        // The model, its IChatClient, start-up loading, drain on shutdown and the AutoGlm meter: one line, options from appsettings.
        builder.Services.AddAutoGlm(builder.Configuration.GetSection("AutoGlm")).AddHealthCheck();
        builder.Services.AddSingleton<ShutdownGate>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ShutdownGate>());
        builder.Services.AddHealthChecks().AddCheck<ShutdownGate>("shutdown", tags: ["ready"]);

        int port = builder.Configuration.GetValue("OpenAiApi:Port", 5080);
        // Loopback unless configured otherwise (a container): the sample has no TLS, and its API key travels in clear text.
        IPAddress address = IPAddress.TryParse(builder.Configuration.GetValue("OpenAiApi:ListenAddress", "127.0.0.1"), out IPAddress? parsed) ? parsed : IPAddress.Loopback;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(address, port);
            kestrel.Limits.MaxRequestBodySize = builder.Configuration.GetValue("OpenAiApi:MaxRequestBodyBytes", 1024 * 1024) + 1;
        });
    }

    /// <summary>Maps <c>/v1/chat/completions</c>, <c>/v1/models</c>, <c>/v1/models/{id}</c>, <c>/health</c> (readiness), <c>/alive</c> (liveness) and <c>/metrics</c>.</summary>
    public static void Map(WebApplication app)
    {
        RouteGroupBuilder v1 = app.MapGroup("/v1").AddEndpointFilter<ApiKeyFilter>();
        v1.MapPost("/chat/completions", ChatCompletionEndpoint.HandleAsync);
        v1.MapGet("/models", (ServedModel served) => served.List());
        v1.MapGet("/models/{id}", (string id, ServedModel served) => served.Get(id));
        app.MapHealthChecks("/health");
        // Liveness: the process answers; no check runs, so a model still loading or a drain does not get the pod restarted.
        app.MapHealthChecks("/alive", new Microsoft.AspNetCore.Diagnostics.HealthChecks.HealthCheckOptions { Predicate = _ => false });
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapFallback((HttpContext http) => new OpenAiRequestException(404, $"Unknown path {http.Request.Method} {http.Request.Path}.", "invalid_request_error", null, "unknown_url").ToResult());
    }
}
