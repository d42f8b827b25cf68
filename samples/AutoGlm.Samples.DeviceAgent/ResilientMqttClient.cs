using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;

namespace AutoGlm.Samples.DeviceAgent;

/// <summary>
/// An MQTTnet 5 client that stays connected: it reconnects with exponential backoff, subscribes again after every
/// connect (sessions start clean, so a restarted broker has forgotten them), and publishes through an outbox that
/// holds messages while the broker is out of reach and sends each one until the broker acknowledges it (QoS 1:
/// at least once, so receivers must tolerate duplicates).
/// </summary>
/// <remarks>Thread-safe. <see cref="MessageReceived"/> runs on MQTTnet's receive loop: it must not wait for a publish.</remarks>
public sealed partial class ResilientMqttClient : IAsyncDisposable
{
    private static readonly TimeSpan s_publishRetryPause = TimeSpan.FromMilliseconds(50);

    private readonly IMqttClient _client;
    private readonly MqttClientOptions _options;
    private readonly IReadOnlyList<string> _subscriptions;
    private readonly ExponentialBackoff _reconnect;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<Outgoing> _outbox;
    private readonly int _outboxCapacity;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private TaskCompletionSource _connected = NewSignal();
    private TaskCompletionSource _lost = NewSignal();
    private Task _loops = Task.CompletedTask;
    private int _connections;
    private int _pending;

    /// <param name="options">MQTTnet's client options (server, client id, Last Will, protocol version 5).</param>
    /// <param name="subscriptions">Topic filters subscribed at QoS 1 after every connect.</param>
    /// <param name="reconnect">The delays between connection attempts.</param>
    /// <param name="outboxCapacity">How many messages may wait to be sent; beyond it <see cref="PublishAsync"/> throws.</param>
    /// <param name="time">The clock for backoff delays.</param>
    /// <param name="logger">Where connection changes are logged.</param>
    public ResilientMqttClient(MqttClientOptions options, IEnumerable<string> subscriptions, ExponentialBackoff reconnect, int outboxCapacity, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(reconnect);
        ArgumentOutOfRangeException.ThrowIfLessThan(outboxCapacity, 1);
        reconnect.Validate(nameof(reconnect));
        _options = options;
        _subscriptions = [.. subscriptions];
        _reconnect = reconnect;
        _time = time;
        _logger = logger;
        _outboxCapacity = outboxCapacity;
        _outbox = Channel.CreateUnbounded<Outgoing>(new UnboundedChannelOptions { SingleReader = true });
        _client = new MqttClientFactory().CreateMqttClient();
        _client.DisconnectedAsync += OnDisconnectedAsync;
        _client.ApplicationMessageReceivedAsync += e => MessageReceived?.Invoke(e.ApplicationMessage) ?? Task.CompletedTask;
    }

    /// <summary>Called for every message received on the subscriptions.</summary>
    public Func<MqttApplicationMessage, Task>? MessageReceived { get; set; }

    /// <summary>Called after every connect and subscribe, before the outbox is sent (a device republishes its retained state here).</summary>
    public Func<CancellationToken, Task>? Connected { get; set; }

    /// <summary>Whether the client is connected now.</summary>
    public bool IsConnected => _client.IsConnected;

    /// <summary>How many times the client has connected (1 after the first connect; each reconnect adds one).</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>The client id this client connects with.</summary>
    public string ClientId => _options.ClientId;

    /// <summary>Starts connecting in the background; returns at once.</summary>
    public void Start()
    {
        lock (_gate)
        {
            if (_loops.IsCompleted)
            {
                _loops = Task.WhenAll(Task.Run(ConnectLoopAsync), Task.Run(PublishLoopAsync));
            }
        }
    }

    /// <summary>Completes when the client is connected (at once if it is).</summary>
    public Task WaitConnectedAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return _connected.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Queues <paramref name="message"/> and completes when the broker has acknowledged it; while the broker is out of
    /// reach the message waits in the outbox. Cancelling removes a message that has not been sent yet.
    /// </summary>
    /// <exception cref="DeviceAgentException">The outbox already holds its capacity of messages.</exception>
    public Task PublishAsync(MqttApplicationMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
        if (Interlocked.Increment(ref _pending) > _outboxCapacity)
        {
            Interlocked.Decrement(ref _pending);
            throw new DeviceAgentException(
                $"The MQTT outbox of '{ClientId}' is full ({_outboxCapacity} messages wait for the broker at {Describe(_options)}); start the broker or raise the outbox capacity.");
        }

        var outgoing = new Outgoing(message, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        CancellationTokenRegistration registration = cancellationToken.Register(() => outgoing.Sent.TrySetCanceled(cancellationToken));
        _ = outgoing.Sent.Task.ContinueWith(_ => registration.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        _outbox.Writer.TryWrite(outgoing);
        return outgoing.Sent.Task;
    }

    /// <summary>
    /// Publishes at once on the current connection, bypassing the outbox; for <see cref="Connected"/>, which runs before
    /// the outbox resumes (so what it publishes precedes everything queued).
    /// </summary>
    /// <exception cref="DeviceAgentException">The broker refused the message.</exception>
    public async Task PublishNowAsync(MqttApplicationMessage message, CancellationToken cancellationToken = default)
    {
        MqttClientPublishResult result = await _client.PublishAsync(message, cancellationToken).ConfigureAwait(false);
        if (!result.IsSuccess)
        {
            throw new DeviceAgentException($"The broker refused the message to '{message.Topic}': {result.ReasonCode} {result.ReasonString}; check the broker's access control.");
        }
    }

    /// <summary>Disconnects cleanly (the broker does not publish the Last Will) and stops reconnecting; messages still in the outbox are cancelled.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        _outbox.Writer.TryComplete();
        try
        {
            await _loops.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        try
        {
            if (_client.IsConnected)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _client.DisconnectAsync(new MqttClientDisconnectOptions(), timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException or InvalidOperationException)
        {
            Log.DisconnectFailed(_logger, ClientId, ex.Message);
        }

        while (_outbox.Reader.TryRead(out Outgoing? left))
        {
            left.Sent.TrySetCanceled();
        }

        _client.Dispose();
        _stop.Dispose();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static string Describe(MqttClientOptions options) =>
        options.ChannelOptions is MqttClientTcpOptions { RemoteEndpoint: { } endpoint } ? endpoint.ToString() ?? "?" : "?";

    private Task OnDisconnectedAsync(MqttClientDisconnectedEventArgs args)
    {
        lock (_gate)
        {
            if (_connected.Task.IsCompleted)
            {
                _connected = NewSignal();
            }

            _lost.TrySetResult();
        }

        if (args.ClientWasConnected && !_stop.IsCancellationRequested)
        {
            Log.ConnectionLost(_logger, ClientId, args.Reason.ToString(), args.Exception?.Message);
        }

        return Task.CompletedTask;
    }

    private async Task ConnectLoopAsync()
    {
        CancellationToken stop = _stop.Token;
        int failures = 0;
        while (!stop.IsCancellationRequested)
        {
            TaskCompletionSource lost;
            lock (_gate)
            {
                lost = _lost = NewSignal();
            }

            try
            {
                await _client.ConnectAsync(_options, stop).ConfigureAwait(false);
                MqttClientSubscribeOptionsBuilder subscribe = new MqttClientFactory().CreateSubscribeOptionsBuilder();
                foreach (string filter in _subscriptions)
                {
                    subscribe.WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce);
                }

                if (_subscriptions.Count > 0)
                {
                    await _client.SubscribeAsync(subscribe.Build(), stop).ConfigureAwait(false);
                }

                if (Connected is { } connected)
                {
                    await connected(stop).ConfigureAwait(false);
                }

                failures = 0;
                int count = Interlocked.Increment(ref _connections);
                lock (_gate)
                {
                    if (!lost.Task.IsCompleted)
                    {
                        _connected.TrySetResult();
                    }
                }

                Log.Connected(_logger, ClientId, Describe(_options), count);
                await lost.Task.WaitAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                TimeSpan delay = _reconnect.DelayFor(failures++, Random.Shared.NextDouble());
                Log.ConnectFailed(_logger, ClientId, Describe(_options), ex.Message, delay.TotalMilliseconds);
                try
                {
                    if (_client.IsConnected)
                    {
                        await _client.DisconnectAsync(new MqttClientDisconnectOptions(), stop).ConfigureAwait(false);
                    }

                    await Task.Delay(delay, _time, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception disconnectFailure) when (disconnectFailure is not OperationCanceledException)
                {
                    await Task.Delay(delay, _time, stop).ConfigureAwait(false);
                }
            }
        }
    }

    private async Task PublishLoopAsync()
    {
        CancellationToken stop = _stop.Token;
        try
        {
            await foreach (Outgoing outgoing in _outbox.Reader.ReadAllAsync(stop).ConfigureAwait(false))
            {
                try
                {
                    await SendAsync(outgoing, stop).ConfigureAwait(false);
                }
                finally
                {
                    Interlocked.Decrement(ref _pending);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private async Task SendAsync(Outgoing outgoing, CancellationToken stop)
    {
        while (!outgoing.Sent.Task.IsCompleted)
        {
            await WaitConnectedAsync(stop).ConfigureAwait(false);
            if (outgoing.Sent.Task.IsCompleted)
            {
                return;
            }

            try
            {
                MqttClientPublishResult result = await _client.PublishAsync(outgoing.Message, stop).ConfigureAwait(false);
                if (result.IsSuccess)
                {
                    outgoing.Sent.TrySetResult();
                }
                else
                {
                    outgoing.Sent.TrySetException(new DeviceAgentException(
                        $"The broker refused the message to '{outgoing.Message.Topic}': {result.ReasonCode} {result.ReasonString}; check the broker's access control."));
                }
            }
            catch (Exception ex) when (!stop.IsCancellationRequested)
            {
                // Lost between the connect check and the acknowledgement: the broker may or may not have it, so send it
                // again once connected (QoS 1 is at least once; receivers deduplicate by correlation id).
                Log.PublishRetry(_logger, ClientId, outgoing.Message.Topic, ex.Message);
                await Task.Delay(s_publishRetryPause, _time, stop).ConfigureAwait(false);
            }
        }
    }

    private sealed record Outgoing(MqttApplicationMessage Message, TaskCompletionSource Sent);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "MQTT client '{ClientId}' connected to {Broker} (connection {Count}).")]
        public static partial void Connected(ILogger logger, string clientId, string broker, int count);

        [LoggerMessage(2, LogLevel.Warning, "MQTT client '{ClientId}' lost its connection ({Reason}): {Error}")]
        public static partial void ConnectionLost(ILogger logger, string clientId, string reason, string? error);

        [LoggerMessage(3, LogLevel.Warning, "MQTT client '{ClientId}' could not connect to {Broker}: {Error}; next attempt in {DelayMs:F0} ms.")]
        public static partial void ConnectFailed(ILogger logger, string clientId, string broker, string error, double delayMs);

        [LoggerMessage(4, LogLevel.Debug, "MQTT client '{ClientId}' will send the message to '{Topic}' again: {Error}")]
        public static partial void PublishRetry(ILogger logger, string clientId, string topic, string error);

        [LoggerMessage(5, LogLevel.Debug, "MQTT client '{ClientId}' did not disconnect cleanly: {Error}")]
        public static partial void DisconnectFailed(ILogger logger, string clientId, string error);
    }
}
