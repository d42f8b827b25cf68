using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Protocol;

namespace AutoGlm.Samples.DeviceAgent;

/// <summary>
/// A device that speaks the sample's protocol over its own MQTT connection: publishes its description, state and
/// <c>online</c> status as retained messages after every connect, registers <c>offline</c> as its Last Will, applies
/// each command once per correlation id (a repeated delivery is acknowledged again, not applied again), publishes its
/// new state and acknowledges — unless told on its control topic to drop or delay acknowledgements.
/// </summary>
/// <remarks>Thread-safe.</remarks>
public sealed partial class SimulatedDevice : IAsyncDisposable
{
    private readonly MqttBrokerOptions _broker;
    private readonly DeviceTopics _topics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ResilientMqttClient _mqtt;
    private readonly Lock _gate = new();
    private readonly JsonObject _state;
    private readonly List<string> _applied = [];
    private readonly HashSet<string> _appliedSet = new(StringComparer.Ordinal);
    private int _deliveries;
    private AckMode _ackMode = AckMode.Normal;
    private TimeSpan _ackDelay;

    /// <param name="description">What the device is and what can be set.</param>
    /// <param name="initialState">Its state at start (copied).</param>
    /// <param name="broker">The broker (the agent's may differ only in host and port, e.g. through a relay).</param>
    /// <param name="time">The clock for delayed acknowledgements.</param>
    /// <param name="logger">Where the device logs.</param>
    public SimulatedDevice(DeviceDescription description, JsonObject initialState, MqttBrokerOptions broker, TimeProvider? time = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(description);
        ArgumentNullException.ThrowIfNull(initialState);
        ArgumentNullException.ThrowIfNull(broker);
        Description = description;
        _state = (JsonObject)initialState.DeepClone();
        _broker = broker;
        _topics = broker.Topics;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        byte[] will = DeviceJson.Serialize(new DeviceStatus(false, default, "connection lost (Last Will)"));
        _mqtt = new ResilientMqttClient(
            broker.BuildClientOptions("autoglm-device-" + description.Id, _topics.Status(description.Id), will),
            [_topics.Command(description.Id), _topics.Control(description.Id)],
            broker.Reconnect,
            broker.OutboxCapacity,
            _time,
            _logger);
        _mqtt.MessageReceived = OnMessageAsync;
        _mqtt.Connected = AnnounceAsync;
    }

    public DeviceDescription Description { get; }

    public string Id => Description.Id;

    /// <summary>The MQTT connection.</summary>
    public ResilientMqttClient Connection => _mqtt;

    /// <summary>How the device acknowledges now.</summary>
    public AckMode AckMode
    {
        get { lock (_gate) { return _ackMode; } }
    }

    /// <summary>Correlation ids of the commands applied, in order; each appears once however often it was delivered.</summary>
    public IReadOnlyList<string> AppliedCommands
    {
        get { lock (_gate) { return [.. _applied]; } }
    }

    /// <summary>Command deliveries received, repeats included.</summary>
    public int Deliveries => Volatile.Read(ref _deliveries);

    /// <summary>A copy of the current state.</summary>
    public JsonObject State
    {
        get { lock (_gate) { return (JsonObject)_state.DeepClone(); } }
    }

    /// <summary>Starts connecting (and reconnecting) in the background.</summary>
    public void Start() => _mqtt.Start();

    /// <summary>Changes how the device acknowledges (the control topic does the same over MQTT).</summary>
    public void SetAckMode(AckMode mode, TimeSpan delay = default)
    {
        lock (_gate)
        {
            _ackMode = mode;
            _ackDelay = delay;
        }
    }

    /// <summary>Publishes <c>offline</c> (retained) and disconnects cleanly, as a device that is switched off does.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_mqtt.IsConnected)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await _mqtt.PublishAsync(Retained(_topics.Status(Id), DeviceJson.Serialize(new DeviceStatus(false, _time.GetUtcNow(), "switched off"))), timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        await _mqtt.DisposeAsync().ConfigureAwait(false);
    }

    private static MqttApplicationMessage Retained(string topic, byte[] payload) =>
        new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithRetainFlag().Build();

    private async Task AnnounceAsync(CancellationToken cancellationToken)
    {
        // Straight to the client, not the outbox: this runs inside the connect step, before the outbox resumes.
        byte[] state;
        lock (_gate)
        {
            state = DeviceJson.Serialize(_state);
        }

        await _mqtt.PublishNowAsync(Retained(_topics.Description(Id), DeviceJson.Serialize(Description)), cancellationToken).ConfigureAwait(false);
        await _mqtt.PublishNowAsync(Retained(_topics.State(Id), state), cancellationToken).ConfigureAwait(false);
        await _mqtt.PublishNowAsync(Retained(_topics.Status(Id), DeviceJson.Serialize(new DeviceStatus(true, _time.GetUtcNow(), null))), cancellationToken).ConfigureAwait(false);
    }

    private Task OnMessageAsync(MqttApplicationMessage message)
    {
        byte[] payload = message.Payload.ToArray();
        try
        {
            if (message.Topic == _topics.Control(Id))
            {
                DeviceControl? control = DeviceJson.Deserialize<DeviceControl>(payload);
                if (control is not null)
                {
                    SetAckMode(control.Ack, TimeSpan.FromMilliseconds(control.DelayMilliseconds));
                    Log.AckModeChanged(_logger, Id, control.Ack.ToString(), control.DelayMilliseconds);
                }

                return Task.CompletedTask;
            }

            DeviceCommand? command = DeviceJson.Deserialize<DeviceCommand>(payload);
            if (command is null || message.ResponseTopic is null)
            {
                return Task.CompletedTask;
            }

            // Never wait for a publish on MQTTnet's receive loop; the acknowledgement goes out from its own task.
            _ = Task.Run(() => HandleCommandAsync(command, message.ResponseTopic, message.CorrelationData));
        }
        catch (JsonException ex)
        {
            Log.BadMessage(_logger, Id, message.Topic, ex.Message);
        }

        return Task.CompletedTask;
    }

    private async Task HandleCommandAsync(DeviceCommand command, string responseTopic, byte[]? correlationData)
    {
        Interlocked.Increment(ref _deliveries);
        DeviceAck ack;
        byte[]? newState = null;
        AckMode mode;
        TimeSpan delay;
        lock (_gate)
        {
            mode = _ackMode;
            delay = _ackDelay;
            if (_appliedSet.Contains(command.CorrelationId))
            {
                ack = new DeviceAck(command.CorrelationId, true, null, (JsonObject)_state.DeepClone());
            }
            else
            {
                JsonNode? value = null;
                string? error = null;
                try
                {
                    using JsonDocument raw = JsonDocument.Parse(command.Value?.ToJsonString() ?? "null");
                    value = CapabilityValidator.Validate(Description, command.Property, raw.RootElement);
                }
                catch (ArgumentException ex)
                {
                    error = ex.Message.Split(" (Parameter", 2)[0];
                }

                if (value is not null)
                {
                    _state[command.Property] = value;
                    _appliedSet.Add(command.CorrelationId);
                    _applied.Add(command.CorrelationId);
                    newState = DeviceJson.Serialize(_state);
                }

                ack = new DeviceAck(command.CorrelationId, error is null, error, (JsonObject)_state.DeepClone());
            }
        }

        try
        {
            if (newState is not null)
            {
                await _mqtt.PublishAsync(Retained(_topics.State(Id), newState)).ConfigureAwait(false);
            }

            switch (mode)
            {
                case AckMode.Drop:
                    Log.AckDropped(_logger, Id, command.CorrelationId);
                    return;
                case AckMode.Delay:
                    await Task.Delay(delay, _time).ConfigureAwait(false);
                    break;
            }

            MqttApplicationMessage reply = new MqttApplicationMessageBuilder()
                .WithTopic(responseTopic)
                .WithPayload(DeviceJson.Serialize(ack))
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .WithCorrelationData(correlationData ?? Encoding.UTF8.GetBytes(command.CorrelationId))
                .Build();
            await _mqtt.PublishAsync(reply).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or DeviceAgentException)
        {
            // Shutting down, or the outbox is full: the agent will publish the command again.
            Log.AckNotSent(_logger, Id, command.CorrelationId, ex.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Device {DeviceId} now acknowledges: {Mode} (delay {DelayMs} ms).")]
        public static partial void AckModeChanged(ILogger logger, string deviceId, string mode, int delayMs);

        [LoggerMessage(2, LogLevel.Debug, "Device {DeviceId} dropped the acknowledgement of {CorrelationId}.")]
        public static partial void AckDropped(ILogger logger, string deviceId, string correlationId);

        [LoggerMessage(3, LogLevel.Warning, "Device {DeviceId} ignored a malformed message on {Topic}: {Error}")]
        public static partial void BadMessage(ILogger logger, string deviceId, string topic, string error);

        [LoggerMessage(4, LogLevel.Debug, "Device {DeviceId} could not acknowledge {CorrelationId}: {Error}")]
        public static partial void AckNotSent(ILogger logger, string deviceId, string correlationId, string error);
    }
}
