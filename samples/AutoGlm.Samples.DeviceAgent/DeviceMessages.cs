using System.Text.Json;
using System.Text.Json.Nodes;

namespace AutoGlm.Samples.DeviceAgent;

/// <summary>A command: set one property of a device. The correlation id makes it idempotent: a device applies an id once.</summary>
public sealed record DeviceCommand(string CorrelationId, string Property, JsonNode? Value);

/// <summary>A device's answer to a command: whether it applied it, why not, and its state afterwards.</summary>
public sealed record DeviceAck(string CorrelationId, bool Accepted, string? Error, JsonObject? State);

/// <summary>A device's availability; <c>offline</c> is also its Last Will.</summary>
public sealed record DeviceStatus(bool Online, DateTimeOffset Since, string? Reason);

/// <summary>How a simulated device acknowledges commands (sent to its control topic).</summary>
public sealed record DeviceControl(AckMode Ack, int DelayMilliseconds = 0);

/// <summary>How a simulated device acknowledges commands.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<AckMode>))]
public enum AckMode
{
    /// <summary>Acknowledge at once.</summary>
    Normal,

    /// <summary>Apply commands but never acknowledge them.</summary>
    Drop,

    /// <summary>Acknowledge after <see cref="DeviceControl.DelayMilliseconds"/>.</summary>
    Delay,
}

/// <summary>The JSON settings every message of the sample uses.</summary>
public static class DeviceJson
{
    /// <summary>Web defaults; quotes and apostrophes stay readable in what the model sees.</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web) { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);

    public static T? Deserialize<T>(ReadOnlySpan<byte> utf8) => JsonSerializer.Deserialize<T>(utf8, Options);
}
