namespace AutoGlm.Samples.DeviceAgent;

/// <summary>
/// The MQTT topics of the sample: per device <c>{prefix}/{id}/description</c>, <c>/state</c> and <c>/status</c> (retained;
/// <c>status</c> is also the device's Last Will), <c>/command</c> (agent to device, QoS 1) and <c>/control</c> (tests and the
/// console tell a simulated device how to acknowledge); acknowledgements go to the response topic each command names.
/// </summary>
/// <remarks>Immutable.</remarks>
public sealed record DeviceTopics(string Prefix)
{
    /// <summary>The prefix used when none is configured.</summary>
    public const string DefaultPrefix = "autoglm/devices";

    public string Description(string deviceId) => $"{Prefix}/{deviceId}/description";

    public string State(string deviceId) => $"{Prefix}/{deviceId}/state";

    public string Status(string deviceId) => $"{Prefix}/{deviceId}/status";

    public string Command(string deviceId) => $"{Prefix}/{deviceId}/command";

    public string Control(string deviceId) => $"{Prefix}/{deviceId}/control";

    /// <summary>Where devices send the acknowledgements of one agent's commands.</summary>
    public string Acks(string agentId) => $"{Prefix}/_agents/{agentId}/acks";

    /// <summary>The filter matching <paramref name="leaf"/> of every device (description, state or status).</summary>
    public string AllDevices(string leaf) => $"{Prefix}/+/{leaf}";

    /// <summary>The device id in a per-device topic, or null when the topic is not one.</summary>
    public string? DeviceIdOf(string topic)
    {
        if (!topic.StartsWith(Prefix + "/", StringComparison.Ordinal))
        {
            return null;
        }

        string rest = topic[(Prefix.Length + 1)..];
        int slash = rest.IndexOf('/', StringComparison.Ordinal);
        return slash > 0 && rest[..slash] != "_agents" ? rest[..slash] : null;
    }
}
