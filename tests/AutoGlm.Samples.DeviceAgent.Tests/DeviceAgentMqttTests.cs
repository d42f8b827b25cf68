using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using MQTTnet;

namespace AutoGlm.Samples.DeviceAgent.Tests;

/// <summary>The agent, the simulated fleet and a real Mosquitto broker; only the model is scripted.</summary>
public sealed class DeviceAgentMqttTests
{
    private const string Lamp = "living-room-lamp";

    [SkippableFact]
    public async Task SetDeviceState_RoundTrip_DeviceAppliesAcknowledgesAndRetainsItsState()
    {
        await using MqttScope scope = await MqttScope.StartAsync();
        var model = new ScriptedToolModel(MqttScope.Call("set_device_state", new { deviceId = Lamp, property = "brightness", value = 40 }));
        var agent = new DeviceAgent(model, new DeviceTools(scope.Controller));

        ChatResponse response = await agent.AskAsync("Dim the living room lamp to 40 %.");

        CommandResult result = Single<CommandResult>(model);
        Assert.Equal(CommandStatus.Acknowledged, result.Status);
        Assert.Equal(1, result.Attempts);
        Assert.Equal("living-room-lamp set brightness=40 and acknowledged it (attempt 1 of 5).", result.Message);
        Assert.Equal(40, (int)result.State!["brightness"]!);
        Assert.StartsWith("Done: {\"deviceId\":\"living-room-lamp\",\"property\":\"brightness\",\"status\":\"Acknowledged\"", response.Text, StringComparison.Ordinal);
        SimulatedDevice lamp = scope.Fleet[Lamp];
        Assert.Equal([result.CorrelationId!], lamp.AppliedCommands);
        Assert.Equal(1, lamp.Deliveries);
        Assert.Equal(40, (int)lamp.State["brightness"]!);

        // A newcomer to the broker gets the new state at once: it is retained.
        MqttApplicationMessage retained = await ReceiveRetainedAsync(scope.Broker.Port, new DeviceTopics(DeviceTopics.DefaultPrefix).State(Lamp));
        Assert.True(retained.Retain);
        Assert.Equal("""{"power":false,"brightness":40}""", System.Text.Encoding.UTF8.GetString(retained.Payload.ToArray()));

        // The model was offered the four device tools on every request.
        Assert.All(model.OptionsSeen, o => Assert.Equal(["list_devices", "get_device_state", "set_device_state", "run_routine"], o!.Tools!.Select(t => t.Name)));
    }

    [SkippableFact]
    public async Task SetDeviceState_ValueOutsideTheCapability_IsRefusedBeforeAnythingIsSent()
    {
        await using MqttScope scope = await MqttScope.StartAsync();
        var model = new ScriptedToolModel(
            MqttScope.Call("set_device_state", new { deviceId = Lamp, property = "brightness", value = 150 }),
            MqttScope.Call("set_device_state", new { deviceId = "thermostat", property = "mode", value = "warm" }),
            MqttScope.Call("set_device_state", new { deviceId = Lamp, property = "colour", value = "red" }),
            MqttScope.Call("set_device_state", new { deviceId = "garage", property = "open", value = true }));
        var agent = new DeviceAgent(model, new DeviceTools(scope.Controller));

        await agent.AskAsync("Make the lamp brighter than possible.");

        CommandResult[] results = [.. model.ResultsSeen.Select(As<CommandResult>)];
        Assert.All(results, r => Assert.Equal(CommandStatus.Invalid, r.Status));
        Assert.Equal(
            [
                "Property 'brightness' of device 'living-room-lamp' takes a whole number from 0 to 100; got 150.",
                "Property 'mode' of device 'thermostat' takes one of off, heat, cool; got \"warm\".",
                "Device 'living-room-lamp' has no property 'colour'; it has: power (true/false), brightness (integer 0..100).",
                "There is no device 'garage'. Known devices: front-door, living-room-lamp, thermostat.",
            ],
            results.Select(r => r.Message));
        Assert.All(scope.Fleet.Devices, d => Assert.Equal(0, d.Deliveries));
    }

    [SkippableFact]
    public async Task BrokerRestartedMidRun_ClientsReconnect_AndEveryCommandIsAppliedExactlyOnce()
    {
        await using MqttScope scope = await MqttScope.StartAsync(o => o with { MaxAttempts = 30 });
        SimulatedDevice lamp = scope.Fleet[Lamp];
        var before = new List<Task<CommandResult>>();
        for (int i = 0; i < 10; i++)
        {
            before.Add(scope.Controller.SetStateAsync(Lamp, "brightness", JsonSerializer.SerializeToElement(i)));
        }

        CommandResult[] first = await Task.WhenAll(before);

        // Crash the broker while commands are in flight, send more while it is down (they wait in the outbox), bring it back.
        var during = new List<Task<CommandResult>>();
        for (int i = 10; i < 20; i++)
        {
            during.Add(scope.Controller.SetStateAsync(Lamp, "brightness", JsonSerializer.SerializeToElement(i)));
        }

        await scope.Broker.StopAsync();
        for (int i = 20; i < 30; i++)
        {
            during.Add(scope.Controller.SetStateAsync(Lamp, "brightness", JsonSerializer.SerializeToElement(i)));
        }

        await Task.Delay(300);
        Assert.False(scope.Controller.Connection.IsConnected);
        await scope.Broker.RestartAsync();
        CommandResult[] rest = await Task.WhenAll(during).WaitAsync(TimeSpan.FromSeconds(30));

        CommandResult[] all = [.. first, .. rest];
        Assert.All(all, r => Assert.Equal(CommandStatus.Acknowledged, r.Status));
        Assert.Equal(30, all.Select(r => r.CorrelationId).Distinct().Count());
        // Nothing lost, nothing applied twice: the device applied exactly the 30 correlation ids, each once.
        Assert.Equal(all.Select(r => r.CorrelationId!).Order(), lamp.AppliedCommands.Order());
        Assert.True(scope.Controller.Connection.Connections >= 2, $"agent connections: {scope.Controller.Connection.Connections}");
        Assert.True(lamp.Connection.Connections >= 2, $"lamp connections: {lamp.Connection.Connections}");
        Assert.True(lamp.Deliveries >= 30, $"deliveries: {lamp.Deliveries}");

        // The restarted broker kept nothing (persistence off); the devices announced themselves again.
        await scope.UntilAsync(() => scope.Controller.Devices.All(d => d.Online), "every device online again");
        MqttApplicationMessage retained = await ReceiveRetainedAsync(scope.Broker.Port, new DeviceTopics(DeviceTopics.DefaultPrefix).State(Lamp));
        Assert.Equal(lamp.State.ToJsonString(), System.Text.Encoding.UTF8.GetString(retained.Payload.ToArray()));
    }

    [SkippableFact]
    public async Task DeviceThatNeverAcknowledges_AgentGivesUpAfterTheRetryBudget_AndTellsTheModel()
    {
        await using MqttScope scope = await MqttScope.StartAsync(o => o with
        {
            AckTimeout = TimeSpan.FromMilliseconds(200),
            MaxAttempts = 3,
            Retry = new ExponentialBackoff { BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(1), Jitter = 0 },
        });
        SimulatedDevice lamp = scope.Fleet[Lamp];
        await scope.Controller.ControlAsync(Lamp, new DeviceControl(AckMode.Drop));
        await scope.UntilAsync(() => lamp.AckMode == AckMode.Drop, "the lamp dropping acknowledgements");
        var model = new ScriptedToolModel(MqttScope.Call("set_device_state", new { deviceId = Lamp, property = "power", value = true }));
        var agent = new DeviceAgent(model, new DeviceTools(scope.Controller));

        var watch = Stopwatch.StartNew();
        await agent.AskAsync("Switch the lamp on.");
        watch.Stop();

        CommandResult result = Single<CommandResult>(model);
        Assert.Equal(CommandStatus.NoAcknowledgement, result.Status);
        Assert.Equal(3, result.Attempts);
        Assert.Matches(
            @"^living-room-lamp did not acknowledge setting power=true after 3 attempts over \d+\.\d s; the agent gave up\. The device may or may not have applied it; check its state before trying again\.$",
            result.Message);
        // 3 waits of 200 ms and pauses of 100 and 200 ms (no jitter) at least.
        Assert.True(result.ElapsedMilliseconds >= 900, $"elapsed {result.ElapsedMilliseconds} ms");
        Assert.True(watch.ElapsedMilliseconds < 5000, $"took {watch.ElapsedMilliseconds} ms");
        await scope.UntilAsync(() => lamp.Deliveries == 3, "three deliveries");
        Assert.Equal([result.CorrelationId!], lamp.AppliedCommands);
    }

    [SkippableFact]
    public async Task DeviceThatAcknowledgesLate_LateAcknowledgementCounts_AndTheRepeatIsNotAppliedAgain()
    {
        await using MqttScope scope = await MqttScope.StartAsync(o => o with
        {
            AckTimeout = TimeSpan.FromMilliseconds(150),
            MaxAttempts = 10,
            Retry = new ExponentialBackoff { BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromMilliseconds(100), Jitter = 0 },
        });
        SimulatedDevice lamp = scope.Fleet[Lamp];
        await scope.Controller.ControlAsync(Lamp, new DeviceControl(AckMode.Delay, 400));
        await scope.UntilAsync(() => lamp.AckMode == AckMode.Delay, "the lamp delaying acknowledgements");

        CommandResult result = await scope.Controller.SetStateAsync(Lamp, "brightness", JsonSerializer.SerializeToElement(75));

        Assert.Equal(CommandStatus.Acknowledged, result.Status);
        Assert.InRange(result.Attempts, 2, 3);
        Assert.Equal([result.CorrelationId!], lamp.AppliedCommands);
        Assert.Equal(75, (int)lamp.State["brightness"]!);
    }

    [SkippableFact]
    public async Task DeviceConnectionKilled_LastWillMarksItOffline_AndTheModelIsTold()
    {
        TcpRelay? relay = null;
        await using MqttScope scope = await MqttScope.StartAsync(fleetPort: brokerPort => (relay = new TcpRelay(brokerPort)).Port);
        await using TcpRelay cable = relay!;
        var offline = new TaskCompletionSource<DeviceView>(TaskCreationOptions.RunContinuationsAsynchronously);
        scope.Controller.StatusChanged += d =>
        {
            if (!d.Online)
            {
                offline.TrySetResult(d);
            }
        };

        // Reset every device connection: no DISCONNECT packet, so the broker publishes each device's Last Will.
        await cable.KillAsync();
        DeviceView gone = await offline.Task.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal("connection lost (Last Will)", gone.StatusReason);
        await scope.UntilAsync(() => !scope.Controller.Find(Lamp)!.Online, "the lamp's Last Will");
        var model = new ScriptedToolModel(
            MqttScope.Call("list_devices"),
            MqttScope.Call("set_device_state", new { deviceId = Lamp, property = "power", value = true }),
            MqttScope.Call("get_device_state", new { deviceId = Lamp }));
        var agent = new DeviceAgent(model, new DeviceTools(scope.Controller));

        await agent.AskAsync("Switch the lamp on.");

        DeviceSummary[] devices = As<DeviceSummary[]>(model.ResultsSeen[0]);
        DeviceSummary lampSummary = Assert.Single(devices, d => d.Id == Lamp);
        Assert.False(lampSummary.Online);
        Assert.Equal("connection lost (Last Will)", lampSummary.OfflineReason);
        CommandResult set = As<CommandResult>(model.ResultsSeen[1]);
        Assert.Equal(CommandStatus.DeviceOffline, set.Status);
        Assert.Matches(@"^living-room-lamp is offline since \d\d:\d\d:\d\d UTC \(connection lost \(Last Will\)\); the command was not sent\.$", set.Message);
        DeviceStateResult state = As<DeviceStateResult>(model.ResultsSeen[2]);
        Assert.False(state.Online);
        Assert.Equal("living-room-lamp is offline (connection lost (Last Will)); the state shown is the last it reported.", state.Note);
        Assert.Equal(0, scope.Fleet[Lamp].Deliveries);
    }

    [SkippableFact]
    public async Task RunRoutine_SetsEveryStep_AndReportsEach()
    {
        await using MqttScope scope = await MqttScope.StartAsync();
        var model = new ScriptedToolModel(MqttScope.Call("run_routine", new { name = "good-night" }));
        var agent = new DeviceAgent(model, new DeviceTools(scope.Controller));

        await agent.AskAsync("Good night!");

        RoutineResult result = Single<RoutineResult>(model);
        Assert.True(result.Succeeded);
        Assert.Equal("All 4 steps of 'good-night' were acknowledged.", result.Message);
        Assert.Equal(["living-room-lamp.power", "thermostat.mode", "thermostat.target", "front-door.locked"], result.Steps.Select(s => $"{s.DeviceId}.{s.Property}"));
        Assert.Equal("""{"power":false,"brightness":50}""", scope.Fleet[Lamp].State.ToJsonString());
        Assert.Equal("""{"mode":"heat","target":18}""", scope.Fleet["thermostat"].State.ToJsonString());
        Assert.Equal("""{"locked":true}""", scope.Fleet["front-door"].State.ToJsonString());
    }

    internal static T As<T>(FunctionResultContent result) =>
        JsonSerializer.Deserialize<T>(JsonSerializer.Serialize(result.Result), DeviceJson.Options)!;

    private static T Single<T>(ScriptedToolModel model) => As<T>(Assert.Single(model.ResultsSeen));

    private static async Task<MqttApplicationMessage> ReceiveRetainedAsync(int port, string topic)
    {
        using IMqttClient client = new MqttClientFactory().CreateMqttClient();
        var received = new TaskCompletionSource<MqttApplicationMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.ApplicationMessageReceivedAsync += e =>
        {
            received.TrySetResult(e.ApplicationMessage);
            return Task.CompletedTask;
        };
        await client.ConnectAsync(MqttScope.BrokerOptions(port).BuildClientOptions("test-observer-" + Guid.NewGuid().ToString("N")[..6]));
        await client.SubscribeAsync(topic);
        MqttApplicationMessage message = await received.Task.WaitAsync(TimeSpan.FromSeconds(5));
        await client.DisconnectAsync();
        return message;
    }
}
