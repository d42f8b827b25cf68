namespace AutoGlm.Samples.Gateway;

/// <summary>The gateway's settings, bound from the <c>Gateway</c> section.</summary>
/// <remarks>Filled at start-up, then only read.</remarks>
public sealed class GatewayOptions
{
    /// <summary>The port on 127.0.0.1; 5090 by default.</summary>
    public int Port { get; set; } = 5090;

    /// <summary>The Web API replicas' base addresses (e.g. <c>http://127.0.0.1:5081/</c>).</summary>
    public List<string> Replicas { get; set; } = [];

    /// <summary>How often each replica's <c>/health</c> is probed; 1 s by default.</summary>
    public TimeSpan HealthCheckInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a probe may take; 1 s by default.</summary>
    public TimeSpan HealthCheckTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How many times a request whose connection could not be opened is sent to another replica; 2 by default.</summary>
    public int ConnectRetries { get; set; } = 2;
}
