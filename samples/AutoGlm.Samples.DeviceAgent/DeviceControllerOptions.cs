namespace AutoGlm.Samples.DeviceAgent;

/// <summary>How the agent sends commands: acknowledgement timeout, retry budget and backoff.</summary>
/// <remarks>Immutable.</remarks>
public sealed record DeviceControllerOptions
{
    /// <summary>The broker and connection settings.</summary>
    public MqttBrokerOptions Broker { get; init; } = new();

    /// <summary>The agent's MQTT client id; acknowledgements come back on a topic named after it.</summary>
    public string AgentId { get; init; } = "autoglm-agent-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>How long to wait for a device's acknowledgement after the broker accepted a command; 2 s by default.</summary>
    public TimeSpan AckTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How many times a command is published before the agent gives up; 5 by default.</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>The pause between attempts: 1 s doubling to 30 s, jittered, by default.</summary>
    public ExponentialBackoff Retry { get; init; } = new();

    /// <summary>How long a command may wait in the outbox for the broker; 60 s by default.</summary>
    public TimeSpan SendTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Throws when a setting cannot work, naming it and its value.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A timeout is not positive, or the attempts are fewer than 1.</exception>
    public void Validate()
    {
        if (AckTimeout <= TimeSpan.Zero || SendTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(AckTimeout), $"AckTimeout and SendTimeout must be positive; got {AckTimeout} and {SendTimeout}.");
        }

        if (MaxAttempts < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxAttempts), $"MaxAttempts must be at least 1; got {MaxAttempts}.");
        }

        Retry.Validate(nameof(Retry));
        Broker.Reconnect.Validate("Broker.Reconnect");
    }
}
