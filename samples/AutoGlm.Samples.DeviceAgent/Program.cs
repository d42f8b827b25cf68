// AutoGlm device agent: a model turns instructions into device commands over MQTT (QoS 1, correlation ids,
// acknowledgements with retries, retained state, Last Will), against a simulated fleet.
//
//   dotnet run --project samples/AutoGlm.Samples.DeviceAgent -c Release -- --mosquitto            # starts its own Mosquitto
//   dotnet run --project samples/AutoGlm.Samples.DeviceAgent -c Release -- --broker 127.0.0.1:1883 [--model DIR] [--no-fleet]
//
// Type an instruction for the model, or a command: /devices, /state ID, /set ID PROPERTY VALUE, /routine NAME,
// /ack ID normal|drop|delay [MS], /reset, /exit.
using System.Globalization;
using System.Text.Json;
using AutoGlm;
using AutoGlm.Chat;
using AutoGlm.Samples.Chat;
using AutoGlm.Samples.DeviceAgent;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

string? brokerArg = null, modelPath = null;
bool startMosquitto = false, fleetEnabled = true;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--broker" when i + 1 < args.Length: brokerArg = args[++i]; break;
        case "--model" when i + 1 < args.Length: modelPath = args[++i]; break;
        case "--mosquitto": startMosquitto = true; break;
        case "--no-fleet": fleetEnabled = false; break;
        default:
            Console.Error.WriteLine($"Unknown argument '{args[i]}'. Usage: [--mosquitto | --broker HOST:PORT] [--model DIR] [--no-fleet]");
            return 2;
    }
}

using var quit = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; quit.Cancel(); };
using ILoggerFactory loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning).AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));

MosquittoBroker? mosquitto = null;
var broker = new MqttBrokerOptions();
try
{
    if (startMosquitto)
    {
        mosquitto = await MosquittoBroker.StartAsync(cancellationToken: quit.Token);
        broker = broker with { Port = mosquitto.Port };
        Console.Error.WriteLine($"Started Mosquitto on 127.0.0.1:{mosquitto.Port}.");
    }
    else if (brokerArg is not null)
    {
        string[] parts = brokerArg.Split(':');
        if (parts.Length != 2 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int port))
        {
            Console.Error.WriteLine($"--broker takes HOST:PORT; got '{brokerArg}'.");
            return 2;
        }

        broker = broker with { Host = parts[0], Port = port };
    }

    modelPath ??= await DemoModel.EnsureAsync(Console.Error, quit.Token);
    await using GlmModel model = await GlmModel.LoadAsync(modelPath, new GlmModelOptions(), quit.Token);
    using IChatClient modelClient = new AutoGlmChatClient(model);

    await using SimulatedFleet? fleet = fleetEnabled ? SimulatedFleet.CreateDefault(broker, loggers: loggers) : null;
    fleet?.Start();
    await using var controller = new DeviceController(new DeviceControllerOptions { Broker = broker }, logger: loggers.CreateLogger<DeviceController>());
    controller.StatusChanged += d => Console.Error.WriteLine($"[{d.Id} is {(d.Online ? "online" : "offline: " + d.StatusReason)}]");
    controller.Start();
    await controller.Connection.WaitConnectedAsync(quit.Token).WaitAsync(TimeSpan.FromSeconds(30), quit.Token);

    var tools = new DeviceTools(controller);
    var agent = new DeviceAgent(modelClient, tools);
    var print = new JsonSerializerOptions(DeviceJson.Options) { WriteIndented = true };
    Console.Error.WriteLine($"Connected to {broker.Host}:{broker.Port}. Type an instruction, or /devices, /state ID, /set ID PROPERTY VALUE, /routine NAME, /ack ID normal|drop|delay [MS], /reset, /exit.");
    while (!quit.IsCancellationRequested)
    {
        Console.Write("> ");
        string? line = Console.ReadLine();
        if (line is null || line.Trim() == "/exit")
        {
            break;
        }

        string[] words = line.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0)
        {
            continue;
        }

        object? shown = words switch
        {
            ["/devices"] => tools.ListDevices(),
            ["/state", string id] => tools.GetDeviceState(id),
            ["/set", string id, string property, string value] => await tools.SetDeviceStateAsync(id, property, ParseValue(value), quit.Token),
            ["/routine", string name] => await tools.RunRoutineAsync(name, quit.Token),
            ["/ack", string id, string mode, ..] when Enum.TryParse(mode, ignoreCase: true, out AckMode ack) =>
                await Control(controller, id, new DeviceControl(ack, words.Length > 3 ? int.Parse(words[3], CultureInfo.InvariantCulture) : 0), quit.Token),
            ["/reset"] => Reset(agent),
            [string first, ..] when first.StartsWith('/') => "Unknown command; see the list above.",
            _ => null,
        };
        if (shown is not null)
        {
            Console.WriteLine(shown as string ?? JsonSerializer.Serialize(shown, print));
            continue;
        }

        ChatResponse response = await agent.AskAsync(line, quit.Token);
        foreach (FunctionResultContent result in response.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>())
        {
            Console.WriteLine($"[tool result] {JsonSerializer.Serialize(result.Result, DeviceJson.Options)}");
        }

        Console.WriteLine(response.Text);
    }

    return 0;
}
catch (OperationCanceledException) when (quit.IsCancellationRequested)
{
    return 0;
}
catch (AutoGlmException ex)
{
    Console.Error.WriteLine($"AutoGlm.Samples.DeviceAgent: {ex.Message}");
    return 1;
}
finally
{
    if (mosquitto is not null)
    {
        await mosquitto.DisposeAsync();
    }
}

static JsonElement ParseValue(string text)
{
    try
    {
        return JsonDocument.Parse(text).RootElement.Clone();
    }
    catch (JsonException)
    {
        return JsonSerializer.SerializeToElement(text);
    }
}

static async Task<string> Control(DeviceController controller, string id, DeviceControl control, CancellationToken cancellationToken)
{
    await controller.ControlAsync(id, control, cancellationToken);
    return $"Told {id} to acknowledge: {control.Ack}.";
}

static string Reset(DeviceAgent agent)
{
    agent.Reset();
    return "(history cleared)";
}
