using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Protocol;

namespace AutoGlm.Samples.DeviceAgent;

/// <summary>
/// The agent's side of MQTT: keeps a directory of devices from their retained description, state and status
/// messages (a Last Will marks a device offline), and sends commands at QoS 1 with a correlation id, waiting for the
/// device's acknowledgement and publishing again with exponential backoff until the retry budget runs out.
/// </summary>
/// <remarks>Thread-safe: many commands may be in flight at once.</remarks>
public sealed partial class DeviceController : IAsyncDisposable
{
    private readonly DeviceControllerOptions _options;
    private readonly DeviceTopics _topics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ResilientMqttClient _mqtt;
    private readonly string _ackTopic;
    private readonly ConcurrentDictionary<string, DeviceView> _devices = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Pending> _pending = new(StringComparer.Ordinal);

    /// <exception cref="ArgumentOutOfRangeException">An option cannot work (see <see cref="DeviceControllerOptions.Validate"/>).</exception>
    public DeviceController(DeviceControllerOptions options, TimeProvider? time = null, ILogger<DeviceController>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _topics = options.Broker.Topics;
        _time = time ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _ackTopic = _topics.Acks(options.AgentId);
        _mqtt = new ResilientMqttClient(
            options.Broker.BuildClientOptions(options.AgentId),
            [_topics.AllDevices("description"), _topics.AllDevices("state"), _topics.AllDevices("status"), _ackTopic],
            options.Broker.Reconnect,
            options.Broker.OutboxCapacity,
            _time,
            _logger);
        _mqtt.MessageReceived = OnMessageAsync;
    }

    /// <summary>The MQTT connection (for its state and reconnect count).</summary>
    public ResilientMqttClient Connection => _mqtt;

    /// <summary>Every device seen so far, by id.</summary>
    public IReadOnlyList<DeviceView> Devices => [.. _devices.Values.OrderBy(d => d.Id, StringComparer.Ordinal)];

    /// <summary>Raised when a device goes offline or comes back (after its directory entry changed).</summary>
    public event Action<DeviceView>? StatusChanged;

    /// <summary>Starts connecting; commands sent before the connection is up wait in the outbox.</summary>
    public void Start() => _mqtt.Start();

    /// <summary>The device with this id, or null.</summary>
    public DeviceView? Find(string deviceId) => _devices.TryGetValue(deviceId, out DeviceView? view) ? view : null;

    /// <summary>
    /// Sets <paramref name="property"/> of a device: validates the value against the device's capabilities, publishes the
    /// command, and waits for the acknowledgement, publishing again (same correlation id) after each timeout.
    /// Never throws for device trouble: the outcome, including giving up, is in the result.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
    /// <exception cref="DeviceAgentException">The outbox is full.</exception>
    public async Task<CommandResult> SetStateAsync(string deviceId, string property, JsonElement value, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deviceId);
        ArgumentNullException.ThrowIfNull(property);
        DeviceView? device = Find(deviceId);
        if (device?.Description is null)
        {
            string known = _devices.IsEmpty ? "none yet (is the fleet connected to the broker?)" : string.Join(", ", _devices.Keys.Order(StringComparer.Ordinal));
            return new CommandResult(deviceId, property, CommandStatus.Invalid, $"There is no device '{deviceId}'. Known devices: {known}.", 0, 0, null, null);
        }

        JsonNode canonical;
        try
        {
            canonical = CapabilityValidator.Validate(device.Description, property, value);
        }
        catch (ArgumentException ex)
        {
            return new CommandResult(deviceId, property, CommandStatus.Invalid, ex.Message.Split(" (Parameter", 2)[0], 0, 0, null, device.State);
        }

        if (!device.Online)
        {
            return Offline(device, property, 0, 0, null, sent: false);
        }

        string correlationId = Guid.NewGuid().ToString("N");
        var pending = new Pending(deviceId, new TaskCompletionSource<DeviceAck?>(TaskCreationOptions.RunContinuationsAsynchronously));
        _pending[correlationId] = pending;
        MqttApplicationMessage message = new MqttApplicationMessageBuilder()
            .WithTopic(_topics.Command(deviceId))
            .WithPayload(DeviceJson.Serialize(new DeviceCommand(correlationId, property, canonical)))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithResponseTopic(_ackTopic)
            .WithCorrelationData(Encoding.UTF8.GetBytes(correlationId))
            .WithContentType("application/json")
            .Build();
        string what = $"{property}={canonical.ToJsonString()}";
        long start = _time.GetTimestamp();
        try
        {
            for (int attempt = 1; attempt <= _options.MaxAttempts; attempt++)
            {
                using (var sendLimit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    sendLimit.CancelAfter(_options.SendTimeout);
                    try
                    {
                        await _mqtt.PublishAsync(message, sendLimit.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        return new CommandResult(deviceId, property, CommandStatus.NotSent,
                            $"The broker at {_options.Broker.Host}:{_options.Broker.Port} stayed out of reach for {_options.SendTimeout.TotalSeconds:0.#} s; the command to set {what} on {deviceId} was not sent.",
                            attempt - 1, Elapsed(start), correlationId, null);
                    }
                }

                Log.CommandSent(_logger, deviceId, what, correlationId, attempt);
                Task<DeviceAck?> outcome = pending.Outcome.Task;
                if (!await CompletesWithinAsync(outcome, _options.AckTimeout, cancellationToken).ConfigureAwait(false))
                {
                    if (attempt == _options.MaxAttempts)
                    {
                        break;
                    }

                    // A late acknowledgement still counts while the agent waits to publish again.
                    TimeSpan pause = _options.Retry.DelayFor(attempt - 1, Random.Shared.NextDouble());
                    Log.NoAckYet(_logger, deviceId, correlationId, attempt, pause.TotalMilliseconds);
                    if (!await CompletesWithinAsync(outcome, pause, cancellationToken).ConfigureAwait(false))
                    {
                        continue;
                    }
                }

                DeviceAck? ack = await outcome.ConfigureAwait(false);
                if (ack is null)
                {
                    return Offline(Find(deviceId) ?? device, property, attempt, Elapsed(start), correlationId, sent: true);
                }

                return ack.Accepted
                    ? new CommandResult(deviceId, property, CommandStatus.Acknowledged,
                        $"{deviceId} set {what} and acknowledged it (attempt {attempt} of {_options.MaxAttempts}).", attempt, Elapsed(start), correlationId, ack.State)
                    : new CommandResult(deviceId, property, CommandStatus.Rejected,
                        $"{deviceId} refused to set {what}: {ack.Error}", attempt, Elapsed(start), correlationId, ack.State);
            }

            Log.GaveUp(_logger, deviceId, correlationId, _options.MaxAttempts);
            return new CommandResult(deviceId, property, CommandStatus.NoAcknowledgement,
                $"{deviceId} did not acknowledge setting {what} after {_options.MaxAttempts} attempts over {Elapsed(start) / 1000.0:0.0} s; the agent gave up. The device may or may not have applied it; check its state before trying again.",
                _options.MaxAttempts, Elapsed(start), correlationId, null);
        }
        finally
        {
            _pending.TryRemove(correlationId, out _);
        }
    }

    /// <summary>Asks a simulated device to acknowledge normally, drop acknowledgements, or delay them.</summary>
    public Task ControlAsync(string deviceId, DeviceControl control, CancellationToken cancellationToken = default) =>
        _mqtt.PublishAsync(
            new MqttApplicationMessageBuilder().WithTopic(_topics.Control(deviceId)).WithPayload(DeviceJson.Serialize(control))
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(),
            cancellationToken);

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        foreach (Pending pending in _pending.Values)
        {
            pending.Outcome.TrySetCanceled();
        }

        return _mqtt.DisposeAsync();
    }

    private CommandResult Offline(DeviceView device, string property, int attempts, long elapsed, string? correlationId, bool sent)
    {
        string since = device.StatusObservedAt is { } at ? " since " + at.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture) + " UTC" : string.Empty;
        string reason = device.StatusReason is null ? string.Empty : $" ({device.StatusReason})";
        string outcome = sent ? "the command was sent but the device went offline before acknowledging it" : "the command was not sent";
        return new CommandResult(device.Id, property, CommandStatus.DeviceOffline, $"{device.Id} is offline{since}{reason}; {outcome}.", attempts, elapsed, correlationId, device.State);
    }

    /// <summary>Whether <paramref name="task"/> completes within <paramref name="timeout"/> on the controller's clock.</summary>
    private async Task<bool> CompletesWithinAsync(Task task, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await task.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private long Elapsed(long start) => (long)_time.GetElapsedTime(start).TotalMilliseconds;

    private Task OnMessageAsync(MqttApplicationMessage message)
    {
        try
        {
            byte[] payload = message.Payload.ToArray();
            if (message.Topic == _ackTopic)
            {
                DeviceAck? ack = payload.Length == 0 ? null : DeviceJson.Deserialize<DeviceAck>(payload);
                if (ack is not null && _pending.TryGetValue(ack.CorrelationId, out Pending? pending))
                {
                    pending.Outcome.TrySetResult(ack);
                }

                return Task.CompletedTask;
            }

            string? deviceId = _topics.DeviceIdOf(message.Topic);
            if (deviceId is null || payload.Length == 0)
            {
                return Task.CompletedTask;
            }

            string leaf = message.Topic[(message.Topic.LastIndexOf('/') + 1)..];
            DeviceView empty = new(deviceId, null, null, Online: false, null, null);
            switch (leaf)
            {
                case "description":
                    DeviceDescription? description = DeviceJson.Deserialize<DeviceDescription>(payload);
                    _devices.AddOrUpdate(deviceId, _ => empty with { Description = description }, (_, v) => v with { Description = description });
                    break;
                case "state":
                    JsonObject? state = JsonNode.Parse(payload) as JsonObject;
                    _devices.AddOrUpdate(deviceId, _ => empty with { State = state }, (_, v) => v with { State = state });
                    break;
                case "status":
                    DeviceStatus? status = DeviceJson.Deserialize<DeviceStatus>(payload);
                    if (status is null)
                    {
                        break;
                    }

                    DateTimeOffset now = _time.GetUtcNow();
                    DeviceView updated = _devices.AddOrUpdate(
                        deviceId,
                        _ => empty with { Online = status.Online, StatusReason = status.Reason, StatusObservedAt = now },
                        (_, v) => v with { Online = status.Online, StatusReason = status.Reason, StatusObservedAt = v.Online == status.Online ? v.StatusObservedAt : now });
                    if (!status.Online)
                    {
                        Log.DeviceOffline(_logger, deviceId, status.Reason);
                        foreach (Pending pending in _pending.Values.Where(p => p.DeviceId == deviceId))
                        {
                            pending.Outcome.TrySetResult(null);
                        }
                    }

                    StatusChanged?.Invoke(updated);
                    break;
            }
        }
        catch (JsonException ex)
        {
            Log.BadMessage(_logger, message.Topic, ex.Message);
        }

        return Task.CompletedTask;
    }

    /// <summary>A command waiting for its acknowledgement; a null outcome means the device went offline.</summary>
    private sealed record Pending(string DeviceId, TaskCompletionSource<DeviceAck?> Outcome);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Sent {What} to {DeviceId} (correlation id {CorrelationId}, attempt {Attempt}).")]
        public static partial void CommandSent(ILogger logger, string deviceId, string what, string correlationId, int attempt);

        [LoggerMessage(2, LogLevel.Information, "No acknowledgement from {DeviceId} for {CorrelationId} (attempt {Attempt}); publishing again in {PauseMs:F0} ms.")]
        public static partial void NoAckYet(ILogger logger, string deviceId, string correlationId, int attempt, double pauseMs);

        [LoggerMessage(3, LogLevel.Warning, "{DeviceId} did not acknowledge {CorrelationId} after {Attempts} attempts; giving up.")]
        public static partial void GaveUp(ILogger logger, string deviceId, string correlationId, int attempts);

        [LoggerMessage(4, LogLevel.Warning, "{DeviceId} is offline: {Reason}.")]
        public static partial void DeviceOffline(ILogger logger, string deviceId, string? reason);

        [LoggerMessage(5, LogLevel.Warning, "Ignored a malformed message on {Topic}: {Error}")]
        public static partial void BadMessage(ILogger logger, string topic, string error);
    }
}
