using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace AutoGlm.Samples.WebApi;

/// <summary>Builds the sample's services and routes; <c>Program</c> and the end-to-end tests share it.</summary>
/// <remarks>Stateless.</remarks>
public static class SampleApp
{
    /// <summary>Registers the model with <c>AddAutoGlm</c> (from the <c>AutoGlm</c> section), the API options, the metrics exporter, and binds Kestrel to 127.0.0.1 only.</summary>
    public static void Configure(WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<OpenAiApiOptions>().Bind(builder.Configuration.GetSection("OpenAiApi"))
            .Validate(o => o.MaxRequestBodyBytes > 0 && o.MaxTokens > 0 && o.MaxMessages > 0, "OpenAiApi:MaxRequestBodyBytes, MaxTokens and MaxMessages must be positive.")
            .ValidateOnStart();
        builder.Services.AddSingleton<ServedModel>();
        builder.Services.AddSingleton<ApiKeyFilter>();
        builder.Services.AddSingleton(sp => new PrometheusMeterExporter("AutoGlm", sp.GetService<IMeterFactory>()));

        // The model, its IChatClient, start-up loading, drain on shutdown and the AutoGlm meter: one line, options from appsettings.
        builder.Services.AddAutoGlm(builder.Configuration.GetSection("AutoGlm")).AddHealthCheck();

        int port = builder.Configuration.GetValue("OpenAiApi:Port", 5080);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Loopback only: the sample has no TLS, and its API key (when set) travels in clear text.
            kestrel.Listen(IPAddress.Loopback, port);
            kestrel.Limits.MaxRequestBodySize = builder.Configuration.GetValue("OpenAiApi:MaxRequestBodyBytes", 1024 * 1024) + 1;
        });
    }

    /// <summary>Maps <c>/v1/chat/completions</c>, <c>/v1/models</c>, <c>/v1/models/{id}</c>, <c>/health</c> and <c>/metrics</c>.</summary>
    public static void Map(WebApplication app)
    {
        // The exporter must listen before the first request records anything.
        app.Services.GetRequiredService<PrometheusMeterExporter>();

        RouteGroupBuilder v1 = app.MapGroup("/v1").AddEndpointFilter<ApiKeyFilter>();
        v1.MapPost("/chat/completions", ChatCompletionEndpoint.HandleAsync);
        v1.MapGet("/models", (ServedModel served) => served.List());
        v1.MapGet("/models/{id}", (string id, ServedModel served) => served.Get(id));
        app.MapHealthChecks("/health");
        app.MapGet("/metrics", (PrometheusMeterExporter exporter) => Results.Text(exporter.Scrape(), "text/plain; version=0.0.4; charset=utf-8"));
        app.MapFallback((HttpContext http) => new OpenAiRequestException(404, $"Unknown path {http.Request.Method} {http.Request.Path}.", "invalid_request_error", null, "unknown_url").ToResult());
    }
}
