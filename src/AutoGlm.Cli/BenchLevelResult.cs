using System.Text.Json.Serialization;

namespace AutoGlm.Cli;

/// <summary>The measurements of one concurrency level of <c>autoglm bench</c>.</summary>
internal sealed record BenchLevelResult
{
    /// <summary>Requests run at once.</summary>
    [JsonPropertyName("concurrency")]
    public required int Concurrency { get; init; }

    /// <summary>Tokens generated over all requests.</summary>
    [JsonPropertyName("generated_tokens")]
    public required int GeneratedTokens { get; init; }

    /// <summary>From submitting the first request until the last one finished.</summary>
    [JsonPropertyName("wall_seconds")]
    public required double WallSeconds { get; init; }

    /// <summary>Generated tokens over wall time, all requests together.</summary>
    [JsonPropertyName("tokens_per_second")]
    public required double TokensPerSecond { get; init; }

    /// <summary><see cref="TokensPerSecond"/> divided by that of concurrency 1.</summary>
    [JsonPropertyName("ratio_to_concurrency_1")]
    public required double RatioToConcurrency1 { get; init; }

    /// <summary>Median time from submission to the first token, in milliseconds.</summary>
    [JsonPropertyName("ttft_ms_p50")]
    public required double TimeToFirstTokenP50 { get; init; }

    /// <summary>95th percentile of the time to first token, in milliseconds.</summary>
    [JsonPropertyName("ttft_ms_p95")]
    public required double TimeToFirstTokenP95 { get; init; }

    /// <summary>99th percentile of the time to first token, in milliseconds.</summary>
    [JsonPropertyName("ttft_ms_p99")]
    public required double TimeToFirstTokenP99 { get; init; }

    /// <summary>Median time between consecutive tokens of one request, in milliseconds.</summary>
    [JsonPropertyName("inter_token_ms_p50")]
    public required double InterTokenP50 { get; init; }

    /// <summary>95th percentile of the time between consecutive tokens of one request, in milliseconds.</summary>
    [JsonPropertyName("inter_token_ms_p95")]
    public required double InterTokenP95 { get; init; }

    /// <summary>99th percentile of the time between consecutive tokens of one request, in milliseconds.</summary>
    [JsonPropertyName("inter_token_ms_p99")]
    public required double InterTokenP99 { get; init; }

    /// <summary>Model steps run during the level.</summary>
    [JsonPropertyName("steps")]
    public required long Steps { get; init; }

    /// <summary>The most KV cache tokens reserved at once (prompt + new tokens of each running request).</summary>
    [JsonPropertyName("peak_kv_tokens_reserved")]
    public required int PeakKvTokensReserved { get; init; }

    /// <summary>The most KV cache bytes allocated at once.</summary>
    [JsonPropertyName("peak_kv_bytes")]
    public required long PeakKvBytes { get; init; }
}
