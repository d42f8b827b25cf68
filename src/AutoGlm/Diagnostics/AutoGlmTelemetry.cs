namespace AutoGlm;

/// <summary>
/// The names AutoGlm's telemetry is published under, for <c>.AddMeter(AutoGlmTelemetry.MeterName)</c> and
/// <c>.AddSource(AutoGlmTelemetry.ActivitySourceName)</c> in an OpenTelemetry setup.
/// </summary>
/// <remarks>
/// Instruments follow the OpenTelemetry GenAI semantic conventions where they define one: the model (the scheduler of a
/// <see cref="GlmModel"/> loaded with <see cref="GlmModelOptions.MeterFactory"/>) records <c>gen_ai.server.request.duration</c>,
/// <c>gen_ai.server.time_to_first_token</c>, <c>gen_ai.server.time_per_output_token</c> (histograms, <c>s</c>),
/// <c>autoglm.batch.size</c> (histogram, <c>{sequence}</c> per decode step), <c>autoglm.queue.depth</c> (<c>{request}</c>),
/// <c>autoglm.kv_cache.usage</c> and <c>autoglm.kv_cache.limit</c> (<c>{token}</c>; asynchronous up-down counters summed over the
/// models of one meter), <c>autoglm.kv_cache.memory</c> (<c>By</c>, observable gauge: KV bytes held, summed likewise) and
/// <c>autoglm.kv_cache.preemptions</c> (<c>{request}</c>, counter: running requests whose KV was dropped for lack of budget and recomputed); the chat client records <c>gen_ai.client.operation.duration</c> (histogram, <c>s</c>) and
/// <c>gen_ai.client.token.usage</c> (histogram, <c>{token}</c>) and one <c>chat {model}</c> span (kind Internal: the model runs
/// in-process) per request, with <c>gen_ai.response.id</c>, <c>gen_ai.response.model</c>, usage and finish reasons.
/// When a GenAI <c>chat</c> span from another source is already current (Microsoft.Extensions.AI's <c>UseOpenTelemetry()</c>),
/// AutoGlm adds its own attributes to that span instead of starting a second one. Static; thread-safe.
/// </remarks>
public static class AutoGlmTelemetry
{
    /// <summary>The name of the meter every AutoGlm instrument lives on: <c>AutoGlm</c>.</summary>
    public const string MeterName = "AutoGlm";

    /// <summary>The name of the activity source of AutoGlm's <c>chat</c> spans: <c>AutoGlm</c>.</summary>
    public const string ActivitySourceName = "AutoGlm";

    /// <summary>The value of <c>gen_ai.provider.name</c> on AutoGlm's spans and measurements: <c>autoglm</c>.</summary>
    public const string ProviderName = "autoglm";
}
