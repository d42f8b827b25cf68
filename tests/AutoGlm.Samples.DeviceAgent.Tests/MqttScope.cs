using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AutoGlm.Samples.DeviceAgent.Tests;

/// <summary>
/// One test's world: its own Mosquitto on a free 127.0.0.1 port, the default simulated fleet, and a device controller
/// with fast timings (milliseconds instead of seconds; the same code paths). Skips the test when Mosquitto is missing.
/// </summary>
public sealed class MqttScope : IAsyncDisposable
{
    private MqttScope(MosquittoBroker broker, SimulatedFleet fleet, DeviceController controller)
    {
        Broker = broker;
        Fleet = fleet;
        Controller = controller;
    }

    public MosquittoBroker Broker { get; }

    public SimulatedFleet Fleet { get; }

    public DeviceController Controller { get; }

    public static ExponentialBackoff Fast { get; } = new() { BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromMilliseconds(500), Jitter = 0.2 };

    public static MqttBrokerOptions BrokerOptions(int port) => new() { Port = port, Reconnect = Fast, KeepAlive = TimeSpan.FromSeconds(2) };

    /// <param name="configure">Changes to the controller's fast defaults (ack timeout 300 ms, 5 attempts).</param>
    /// <param name="fleetPort">Where the devices connect (a relay's port); the broker's by default.</param>
    public static async Task<MqttScope> StartAsync(Func<DeviceControllerOptions, DeviceControllerOptions>? configure = null, Func<int, int>? fleetPort = null)
    {
        Skip.If(MosquittoBroker.FindExecutable() is null, "Mosquitto is not installed (apt-get install mosquitto; .ci/run installs it).");
        MosquittoBroker broker = await MosquittoBroker.StartAsync();
        SimulatedFleet fleet = SimulatedFleet.CreateDefault(BrokerOptions(fleetPort?.Invoke(broker.Port) ?? broker.Port));
        fleet.Start();
        var options = new DeviceControllerOptions
        {
            Broker = BrokerOptions(broker.Port),
            AckTimeout = TimeSpan.FromMilliseconds(300),
            MaxAttempts = 5,
            Retry = Fast,
        };
        var controller = new DeviceController(configure?.Invoke(options) ?? options);
        controller.Start();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await fleet.WaitConnectedAsync(timeout.Token);
        await controller.Connection.WaitConnectedAsync(timeout.Token);
        var scope = new MqttScope(broker, fleet, controller);
        await scope.UntilAsync(() => controller.Devices.Count(d => d.Online && d.Description is not null && d.State is not null) == fleet.Devices.Count, "every device announced");
        return scope;
    }

    public static FunctionCallContent Call(string name, object? arguments = null) =>
        new("call-" + Guid.NewGuid().ToString("N")[..8], name,
            arguments is null ? new Dictionary<string, object?>() : JsonSerializer.Deserialize<Dictionary<string, object?>>(JsonSerializer.Serialize(arguments)));

    /// <summary>Waits until <paramref name="condition"/> holds (10 s at most).</summary>
    public async Task UntilAsync(Func<bool> condition, string what, double seconds = 10)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed.TotalSeconds > seconds)
            {
                throw new TimeoutException($"Timed out after {seconds} s waiting for: {what}.");
            }

            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Controller.DisposeAsync();
        await Fleet.DisposeAsync();
        await Broker.DisposeAsync();
    }
}
