using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace AutoGlm.Samples.DeviceAgent;

/// <summary>A set of <see cref="SimulatedDevice"/>s, each on its own MQTT connection; <see cref="CreateDefault"/> gives the sample's three.</summary>
/// <remarks>Thread-safe.</remarks>
public sealed class SimulatedFleet : IAsyncDisposable
{
    private readonly List<SimulatedDevice> _devices;

    public SimulatedFleet(IEnumerable<SimulatedDevice> devices) => _devices = [.. devices];

    public IReadOnlyList<SimulatedDevice> Devices => _devices;

    /// <summary>The device with this id.</summary>
    /// <exception cref="KeyNotFoundException">No device has it.</exception>
    public SimulatedDevice this[string id] =>
        _devices.FirstOrDefault(d => d.Id == id) ?? throw new KeyNotFoundException($"The fleet has no device '{id}'; it has {string.Join(", ", _devices.Select(d => d.Id))}.");

    /// <summary>A lamp, a thermostat and a door lock.</summary>
    public static SimulatedFleet CreateDefault(MqttBrokerOptions broker, TimeProvider? time = null, ILoggerFactory? loggers = null)
    {
        ILogger? logger = loggers?.CreateLogger<SimulatedDevice>();
        return new SimulatedFleet(
        [
            new SimulatedDevice(
                new DeviceDescription("living-room-lamp", "lamp", "Dimmable lamp in the living room",
                    [new DeviceCapability("power", CapabilityKind.Boolean), new DeviceCapability("brightness", CapabilityKind.Number, 0, 100)]),
                new JsonObject { ["power"] = false, ["brightness"] = 50 },
                broker, time, logger),
            new SimulatedDevice(
                new DeviceDescription("thermostat", "thermostat", "Heating and cooling for the whole flat",
                    [new DeviceCapability("mode", CapabilityKind.Enum, Values: ["off", "heat", "cool"]), new DeviceCapability("target", CapabilityKind.Number, 10, 30)]),
                new JsonObject { ["mode"] = "off", ["target"] = 20 },
                broker, time, logger),
            new SimulatedDevice(
                new DeviceDescription("front-door", "lock", "Smart lock of the front door",
                    [new DeviceCapability("locked", CapabilityKind.Boolean)]),
                new JsonObject { ["locked"] = true },
                broker, time, logger),
        ]);
    }

    /// <summary>Starts every device's connection.</summary>
    public void Start()
    {
        foreach (SimulatedDevice device in _devices)
        {
            device.Start();
        }
    }

    /// <summary>Completes when every device is connected and has announced itself.</summary>
    public Task WaitConnectedAsync(CancellationToken cancellationToken = default) =>
        Task.WhenAll(_devices.Select(d => d.Connection.WaitConnectedAsync(cancellationToken)));

    public async ValueTask DisposeAsync()
    {
        foreach (SimulatedDevice device in _devices)
        {
            await device.DisposeAsync().ConfigureAwait(false);
        }
    }
}
