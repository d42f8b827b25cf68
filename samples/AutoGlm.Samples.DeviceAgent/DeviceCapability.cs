using System.Text.Json.Serialization;

namespace AutoGlm.Samples.DeviceAgent;

/// <summary>The kinds of value a device property takes.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CapabilityKind>))]
public enum CapabilityKind
{
    /// <summary>true or false.</summary>
    Boolean,

    /// <summary>A whole number between <see cref="DeviceCapability.Min"/> and <see cref="DeviceCapability.Max"/>.</summary>
    Number,

    /// <summary>One of <see cref="DeviceCapability.Values"/>.</summary>
    Enum,
}

/// <summary>One settable property of a device and the values it accepts.</summary>
/// <remarks>Immutable.</remarks>
public sealed record DeviceCapability(string Property, CapabilityKind Kind, int? Min = null, int? Max = null, IReadOnlyList<string>? Values = null);

/// <summary>What a device is and what can be set on it; devices publish it as a retained message.</summary>
/// <remarks>Immutable.</remarks>
public sealed record DeviceDescription(string Id, string Kind, string Description, IReadOnlyList<DeviceCapability> Capabilities);
