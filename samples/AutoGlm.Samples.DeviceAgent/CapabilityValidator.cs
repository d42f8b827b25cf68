using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AutoGlm.Samples.DeviceAgent;

/// <summary>
/// Checks a value for a device property against the device's published capabilities, whatever the model produced:
/// lenient in representation (<c>"true"</c>, <c>"40"</c>), strict in value (type, range, allowed names).
/// </summary>
/// <remarks>Stateless and thread-safe.</remarks>
public static class CapabilityValidator
{
    /// <summary>Returns the value in its canonical JSON form.</summary>
    /// <exception cref="ArgumentException">The device has no such property, or the value is not one it accepts; the message names both and lists what is accepted.</exception>
    public static JsonNode Validate(DeviceDescription device, string property, JsonElement value)
    {
        ArgumentNullException.ThrowIfNull(device);
        DeviceCapability? capability = device.Capabilities.FirstOrDefault(c => string.Equals(c.Property, property, StringComparison.Ordinal));
        if (capability is null)
        {
            throw new ArgumentException(
                $"Device '{device.Id}' has no property '{property}'; it has: {string.Join(", ", device.Capabilities.Select(Describe))}.",
                nameof(property));
        }

        JsonNode? result = capability.Kind switch
        {
            CapabilityKind.Boolean => AsBoolean(value),
            CapabilityKind.Number => AsInteger(value, capability),
            CapabilityKind.Enum => AsEnum(value, capability),
            _ => null,
        };
        return result ?? throw new ArgumentException(
            $"Property '{property}' of device '{device.Id}' takes {Accepts(capability)}; got {value.GetRawText()}.",
            nameof(value));
    }

    /// <summary>A property and what it takes, as the tools show it to the model: <c>brightness (integer 0..100)</c>.</summary>
    public static string Describe(DeviceCapability capability) => capability.Kind switch
    {
        CapabilityKind.Boolean => $"{capability.Property} (true/false)",
        CapabilityKind.Number => $"{capability.Property} (integer {capability.Min}..{capability.Max})",
        _ => $"{capability.Property} (one of {string.Join("|", capability.Values ?? [])})",
    };

    private static string Accepts(DeviceCapability capability) => capability.Kind switch
    {
        CapabilityKind.Boolean => "true or false",
        CapabilityKind.Number => $"a whole number from {capability.Min} to {capability.Max}",
        _ => $"one of {string.Join(", ", capability.Values ?? [])}",
    };

    private static JsonNode? AsBoolean(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.True => JsonValue.Create(true),
        JsonValueKind.False => JsonValue.Create(false),
        JsonValueKind.String when bool.TryParse(value.GetString(), out bool parsed) => JsonValue.Create(parsed),
        _ => null,
    };

    private static JsonNode? AsInteger(JsonElement value, DeviceCapability capability)
    {
        long number;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long n))
        {
            number = n;
        }
        else if (value.ValueKind == JsonValueKind.String && long.TryParse(value.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long s))
        {
            number = s;
        }
        else
        {
            return null;
        }

        return number >= (capability.Min ?? int.MinValue) && number <= (capability.Max ?? int.MaxValue) ? JsonValue.Create((int)number) : null;
    }

    private static JsonNode? AsEnum(JsonElement value, DeviceCapability capability)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        string? text = value.GetString();
        string? match = capability.Values?.FirstOrDefault(v => string.Equals(v, text, StringComparison.OrdinalIgnoreCase));
        return match is null ? null : JsonValue.Create(match);
    }
}
