using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace AutoGlm.Samples.DeviceAgent;

/// <summary>Where the broker is and how clients stay connected to it (shared by the agent and the simulated devices).</summary>
/// <remarks>Immutable.</remarks>
public sealed record MqttBrokerOptions
{
    /// <summary>The broker's host; 127.0.0.1 by default.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>The broker's TCP port; 1883 by default.</summary>
    public int Port { get; init; } = 1883;

    /// <summary>The first segments of every topic; <see cref="DeviceTopics.DefaultPrefix"/> by default.</summary>
    public string TopicPrefix { get; init; } = DeviceTopics.DefaultPrefix;

    /// <summary>The MQTT keep-alive; the broker declares a silent client gone after 1.5 times this. 5 s by default.</summary>
    public TimeSpan KeepAlive { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long one connection attempt may take; 5 s by default.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The delays between reconnection attempts: 1 s doubling to 30 s, jittered, by default.</summary>
    public ExponentialBackoff Reconnect { get; init; } = new();

    /// <summary>How many messages may wait while the broker is out of reach; 256 by default.</summary>
    public int OutboxCapacity { get; init; } = 256;

    /// <summary>The topic names under <see cref="TopicPrefix"/>.</summary>
    public DeviceTopics Topics => new(TopicPrefix);

    /// <summary>MQTTnet options for one client: MQTT 5, clean start, optionally with a retained QoS 1 Last Will.</summary>
    public MqttClientOptions BuildClientOptions(string clientId, string? willTopic = null, byte[]? willPayload = null)
    {
        MqttClientOptionsBuilder builder = new MqttClientOptionsBuilder()
            .WithTcpServer(Host, Port)
            .WithClientId(clientId)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithCleanStart(true)
            .WithKeepAlivePeriod(KeepAlive)
            .WithTimeout(ConnectTimeout);
        if (willTopic is not null)
        {
            builder = builder
                .WithWillTopic(willTopic)
                .WithWillPayload(willPayload ?? [])
                .WithWillRetain(true)
                .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        }

        return builder.Build();
    }
}
