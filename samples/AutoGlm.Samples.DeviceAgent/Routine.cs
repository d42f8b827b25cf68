using System.Text.Json;

namespace AutoGlm.Samples.DeviceAgent;

/// <summary>One step of a routine: set a property of a device.</summary>
public sealed record RoutineStep(string DeviceId, string Property, JsonElement Value);

/// <summary>A named list of steps the agent runs in order (the model asks for it by name).</summary>
public sealed record Routine(string Name, string Description, IReadOnlyList<RoutineStep> Steps)
{
    /// <summary>The sample's routines for the default fleet: <c>good-night</c> and <c>arrive-home</c>.</summary>
    public static IReadOnlyList<Routine> Defaults { get; } =
    [
        new("good-night", "Lamp off, thermostat to 18 °C heating, door locked",
        [
            new("living-room-lamp", "power", JsonSerializer.SerializeToElement(false)),
            new("thermostat", "mode", JsonSerializer.SerializeToElement("heat")),
            new("thermostat", "target", JsonSerializer.SerializeToElement(18)),
            new("front-door", "locked", JsonSerializer.SerializeToElement(true)),
        ]),
        new("arrive-home", "Lamp on at 70 %, thermostat to 21 °C heating, door unlocked",
        [
            new("living-room-lamp", "power", JsonSerializer.SerializeToElement(true)),
            new("living-room-lamp", "brightness", JsonSerializer.SerializeToElement(70)),
            new("thermostat", "mode", JsonSerializer.SerializeToElement("heat")),
            new("thermostat", "target", JsonSerializer.SerializeToElement(21)),
            new("front-door", "locked", JsonSerializer.SerializeToElement(false)),
        ]),
    ];
}
