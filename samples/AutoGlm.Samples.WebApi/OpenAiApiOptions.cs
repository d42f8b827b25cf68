namespace AutoGlm.Samples.WebApi;

/// <summary>The HTTP side of the sample: where it listens, the API key, and the request limits. Bound from the <c>OpenAiApi</c> section.</summary>
/// <remarks>Filled by the options system at start-up, then only read; safe to share after that.</remarks>
public sealed class OpenAiApiOptions
{
    /// <summary>The loopback port (127.0.0.1 only; the sample never listens on other interfaces). 0 picks a free port.</summary>
    public int Port { get; set; } = 5080;

    /// <summary>When set, <c>/v1/*</c> requires <c>Authorization: Bearer {ApiKey}</c>.</summary>
    public string? ApiKey { get; set; }

    /// <summary>The largest request body accepted; larger ones get 413.</summary>
    public int MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>The largest <c>max_tokens</c> (or <c>max_completion_tokens</c>) accepted, and the default when a request sets none.</summary>
    public int MaxTokens { get; set; } = 2048;

    /// <summary>The most messages one request may carry.</summary>
    public int MaxMessages { get; set; } = 256;
}
