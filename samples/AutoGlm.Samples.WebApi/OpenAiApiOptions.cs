namespace AutoGlm.Samples.WebApi;

/// <summary>The HTTP side of the sample: where it listens, the API key, and the request limits. Bound from the <c>OpenAiApi</c> section.</summary>
/// <remarks>Filled by the options system at start-up, then only read; safe to share after that.</remarks>
public sealed class OpenAiApiOptions
{
    /// <summary>The port. 0 picks a free port.</summary>
    public int Port { get; set; } = 5080;

    /// <summary>
    /// The address to listen on: 127.0.0.1 by default (the sample has no TLS). Inside a container or pod, where the pod
    /// network is the boundary, set <c>0.0.0.0</c> (the image does) and an <see cref="ApiKey"/>.
    /// </summary>
    public string ListenAddress { get; set; } = "127.0.0.1";

    /// <summary>
    /// How long, after SIGTERM, <c>/health</c> reports Unhealthy while requests are still served, so load balancers stop
    /// sending new ones before the server stops accepting (Kubernetes' endpoints and YARP's health checks need a moment).
    /// Then requests in flight get <c>AutoGlm:DrainTimeout</c>. Zero by default.
    /// </summary>
    public TimeSpan ShutdownDelay { get; set; }

    /// <summary>When set, <c>/v1/*</c> requires <c>Authorization: Bearer {ApiKey}</c>.</summary>
    public string? ApiKey { get; set; }

    /// <summary>The largest request body accepted; larger ones get 413.</summary>
    public int MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>The largest <c>max_tokens</c> (or <c>max_completion_tokens</c>) accepted, and the default when a request sets none.</summary>
    public int MaxTokens { get; set; } = 2048;

    /// <summary>The most messages one request may carry.</summary>
    public int MaxMessages { get; set; } = 256;
}
