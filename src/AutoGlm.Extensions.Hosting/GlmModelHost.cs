using AutoGlm.Execution;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace AutoGlm.Extensions.Hosting;

/// <summary>
/// Owns the model(s) one <c>AddAutoGlm</c> registration serves: loads the model at start-up or on the first request, hands out
/// <see cref="GlmModelLease"/>s for requests, and drains requests in flight when the application stops. Beside it, a rollout router
/// splits traffic while a new model version is rolled out gradually (<see cref="LoadCandidateAsync"/>, <see cref="PromoteCandidateAsync"/>),
/// and an idle keep-alive unloads the model after <see cref="AutoGlmOptions.KeepAlive"/> without requests (it is loaded again when needed).
/// </summary>
/// <remarks>
/// Thread-safe: every member may be called concurrently. One instance per registration (a singleton, keyed for
/// <c>AddKeyedAutoGlm</c>); the <c>IChatClient</c> registered beside it routes each request through <see cref="AcquireAsync"/>.
/// No request is lost by an unload, a promotion or a rollback: a model is disposed only after its last lease is released.
/// Only a shutdown whose <see cref="AutoGlmOptions.DrainTimeout"/> runs out cancels requests still in flight.
/// </remarks>
public sealed partial class GlmModelHost : IAsyncDisposable, IDisposable
{

    private readonly Lock _lock = new();
    private readonly AutoGlmOptions _options;
    private readonly GlmModelOptions _modelOptions;
    private readonly IGlmModelLoader _loader;
    private readonly Func<GlmModel, IChatClient> _chatClientFactory;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IdleKeepAlive? _keepAlive;
    private readonly RolloutRouter _rollout = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _abort = new();
    private readonly HashSet<ModelSlot> _retiring = [];
    private readonly string _configuredModelId;
    private string _modelPath;
    private ModelSlot? _primary;
    private Task<ModelSlot>? _loadTask;
    private long _loadGeneration;
    private GlmModelHostState _state = GlmModelHostState.NotLoaded;
    private Exception? _loadError;
    private bool _stopRequested;
    private Task? _stopTask;

    internal GlmModelHost(
        string? key,
        AutoGlmOptions options,
        IGlmModelLoader loader,
        Func<GlmModel, IChatClient> chatClientFactory,
        TimeProvider timeProvider,
        ILoggerFactory loggerFactory,
        System.Diagnostics.Metrics.IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.ModelPath);
        Key = key;
        _options = options;
        _modelOptions = options.ToModelOptions(loggerFactory, meterFactory);
        _loader = loader;
        _chatClientFactory = chatClientFactory;
        _time = timeProvider;
        _logger = loggerFactory.CreateLogger<GlmModelHost>();
        _modelPath = Path.GetFullPath(options.ModelPath);
        _configuredModelId = options.ModelId ?? AutoGlmOptions.DefaultModelId(_modelPath);
        _keepAlive = IdleKeepAlive.Create(_time, options.KeepAlive, OnIdle);
    }

    /// <summary>The registration's key (<c>AddKeyedAutoGlm</c>), or null for the unkeyed registration.</summary>
    public string? Key { get; }

    /// <summary>The options the host was created with; they were read when the host was created, so changing them has no effect.</summary>
    public AutoGlmOptions Options => _options;

    /// <summary>
    /// The model's name in metrics, traces and chat metadata: <see cref="AutoGlmOptions.ModelId"/>, or the configured model folder's name.
    /// It names the model, not a version: it stays the same when a new version is swapped in.
    /// </summary>
    public string ModelId => _configuredModelId;

    /// <summary>Where the host is in its life.</summary>
    public GlmModelHostState State
    {
        get
        {
            lock (_lock)
            {
                return _state;
            }
        }
    }

    /// <summary>
    /// The loaded model that takes the main share of requests, or null when none is loaded. It may be retired or unloaded at any
    /// moment after this returns; to run a request on it, take a lease with <see cref="AcquireAsync"/> instead.
    /// </summary>
    public GlmModel? LoadedModel
    {
        get
        {
            lock (_lock)
            {
                return _primary?.Model;
            }
        }
    }

    internal IChatClient? LoadedChatClient
    {
        get
        {
            lock (_lock)
            {
                return _primary?.ChatClient;
            }
        }
    }

    /// <summary>A snapshot of the host's state and load.</summary>
    public GlmModelHostStatus GetStatus()
    {
        lock (_lock)
        {
            int queued = 0, capacity = 0, active = 0, kvUsed = 0, kvBudget = 0, inFlight = 0;
            foreach (ModelSlot slot in EnumerateSlotsLocked())
            {
                inFlight += slot.InFlight;
                if (slot.Retiring)
                {
                    continue;
                }

                queued += slot.Model.QueuedRequestCount;
                capacity += slot.Model.Options.QueueCapacity;
                active += slot.Model.ActiveRequestCount;
                kvUsed += slot.Model.KvTokensInUse;
                kvBudget += slot.Model.KvBudgetTokens;
            }

            return new GlmModelHostStatus
            {
                State = _state,
                ModelPath = _modelPath,
                CandidateModelPath = _rollout.Candidate?.ModelPath,
                CandidateTrafficShare = _rollout.Share,
                RequestsInFlight = inFlight,
                QueuedRequests = queued,
                QueueCapacity = capacity,
                ActiveRequests = active,
                KvTokensInUse = kvUsed,
                KvBudgetTokens = kvBudget,
                LoadError = _state == GlmModelHostState.Failed ? _loadError : null,
            };
        }
    }

    /// <summary>
    /// Takes a lease on a model for one request, loading the model first when none is loaded. During a gradual rollout the
    /// candidate model gets its share of leases (exactly ⌊n × share⌋ of the first n since the share was set).
    /// </summary>
    /// <returns>A lease to dispose when the request is done.</returns>
    /// <exception cref="AutoGlmException">The host is stopping or stopped.</exception>
    /// <exception cref="ModelLoadException">Loading the model failed (the next call tries again); also <see cref="TokenizerException"/>,
    /// <see cref="ExecutionProviderUnavailableException"/>, <see cref="OnnxRuntimeLoadException"/> from loading.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired while waiting for the model to load.</exception>
    public async ValueTask<GlmModelLease> AcquireAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task<ModelSlot> load;
            lock (_lock)
            {
                ThrowIfStoppingLocked();
                if (_primary is not null)
                {
                    ModelSlot slot = _rollout.Route(_primary, out bool isCandidate);
                    slot.InFlight++;
                    _keepAlive?.Touch();
                    return new GlmModelLease(this, slot, isCandidate);
                }

                load = _loadTask is { IsFaulted: false, IsCanceled: false } pending ? pending : StartLoadLocked();
            }

            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                await load.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested && HasPrimary())
            {
                // This load failed, but a promoted model took the main place meanwhile: use that one.
            }
        }
    }

    /// <summary>Starts loading the model if none is loaded or loading; returns at once. Used at start-up when <see cref="AutoGlmOptions.LoadOnStartup"/> is set.</summary>
    /// <returns>A task that completes when the model is loaded, or faults with the load's failure.</returns>
    /// <exception cref="AutoGlmException">The host is stopping or stopped.</exception>
    public Task StartLoadingAsync()
    {
        lock (_lock)
        {
            ThrowIfStoppingLocked();
            if (_primary is not null)
            {
                return Task.CompletedTask;
            }

            return _loadTask is { IsFaulted: false, IsCanceled: false } pending ? pending : StartLoadLocked();
        }
    }

    /// <summary>
    /// Stops the host: new requests are rejected at once with <see cref="AutoGlmException"/>; requests in flight get up to
    /// <see cref="AutoGlmOptions.DrainTimeout"/> (or until <paramref name="cancellationToken"/> fires) to finish, then the rest are
    /// cancelled; then every model is disposed. Calling it again waits for the first call.
    /// </summary>
    /// <param name="cancellationToken">Cuts the drain short (the host still stops and disposes its models).</param>
    public Task StopAsync(CancellationToken cancellationToken = default) => StopCoreAsync(_options.DrainTimeout, cancellationToken);

    /// <summary>Stops the host without waiting for requests in flight (they are cancelled) and disposes its models. Never throws.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopCoreAsync(TimeSpan.Zero, CancellationToken.None).ConfigureAwait(false);
        _stopping.Dispose();
        _abort.Dispose();
    }

    /// <summary>
    /// Stops the host at once, synchronously, for containers disposed with <c>Dispose()</c>: new requests are rejected, requests in
    /// flight are cancelled, and every loaded model is disposed on this thread (a model still loading is disposed when its load ends).
    /// It waits for nothing asynchronous; prefer <see cref="DisposeAsync"/> or <see cref="StopAsync"/>, which also drain. Never throws.
    /// </summary>
    public void Dispose()
    {
        List<ModelSlot> slots;
        lock (_lock)
        {
            if (_stopRequested)
            {
                return;
            }

            _stopRequested = true;
            _state = GlmModelHostState.Stopping;
            slots = [.. EnumerateSlotsLocked()];
            foreach (ModelSlot slot in slots)
            {
                slot.Retiring = true;
            }

            _primary = null;
            if (_rollout.Candidate is not null)
            {
                _rollout.TakeCandidate();
            }

            _stopTask = Task.CompletedTask;
        }

        _keepAlive?.Dispose();
        _stopping.Cancel();
        _abort.Cancel();
        foreach (ModelSlot slot in slots)
        {
            slot.Dispose();
        }

        lock (_lock)
        {
            _retiring.Clear();
            _state = GlmModelHostState.Stopped;
        }

        GlmModelHostLog.Stopped(_logger);
    }

    /// <summary>Fires when a shutdown's drain times out, to cancel the requests still running.</summary>
    internal CancellationToken Aborted => _abort.Token;

    internal void Release(ModelSlot slot)
    {
        bool disposeNow = false;
        lock (_lock)
        {
            slot.InFlight--;
            _keepAlive?.Touch();
            if (slot.InFlight == 0)
            {
                if (slot.Retiring)
                {
                    disposeNow = true;
                }
                else if (ReferenceEquals(slot, _primary))
                {
                    ArmKeepAliveLocked();
                }
            }
        }

        if (disposeNow)
        {
            StartDisposal(slot);
        }
    }

    private async Task StopCoreAsync(TimeSpan drainTimeout, CancellationToken cancellationToken)
    {
        Task stop;
        lock (_lock)
        {
            _stopTask ??= RunStopAsync(drainTimeout, cancellationToken);
            stop = _stopTask;
        }

        await stop.ConfigureAwait(false);
    }

    private async Task RunStopAsync(TimeSpan drainTimeout, CancellationToken cancellationToken)
    {
        await Task.Yield();
        List<ModelSlot> slots;
        var disposeNow = new List<ModelSlot>();
        int inFlight = 0;
        Task? loading;
        lock (_lock)
        {
            _stopRequested = true;
            _state = GlmModelHostState.Stopping;
            slots = [.. EnumerateSlotsLocked()];
            foreach (ModelSlot slot in slots)
            {
                inFlight += slot.InFlight;
                if (!slot.Retiring && RetireLocked(slot))
                {
                    disposeNow.Add(slot);
                }
            }

            _primary = null;
            if (_rollout.Candidate is not null)
            {
                _rollout.TakeCandidate();
            }

            loading = _loadTask;
        }

        _keepAlive?.Dispose();
        await _stopping.CancelAsync().ConfigureAwait(false);
        disposeNow.ForEach(StartDisposal);
        if (inFlight > 0)
        {
            GlmModelHostLog.Draining(_logger, drainTimeout.TotalSeconds, inFlight);
        }

        Task drained = Task.WhenAll(slots.Select(s => s.Disposed));
        try
        {
            await drained.WaitAsync(drainTimeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            int remaining;
            lock (_lock)
            {
                remaining = slots.Sum(s => s.InFlight);
            }

            if (remaining > 0)
            {
                GlmModelHostLog.DrainTimedOut(_logger, drainTimeout.TotalSeconds, remaining);
                await _abort.CancelAsync().ConfigureAwait(false);
            }

            await Task.WhenAll(slots.Select(s => s.DisposeAsync())).ConfigureAwait(false);
        }

        if (loading is not null)
        {
            try
            {
                await loading.ConfigureAwait(false);
            }
#pragma warning disable CA1031 // The load's failure was logged (or was the cancellation we asked for); stopping never throws.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }

        lock (_lock)
        {
            _state = GlmModelHostState.Stopped;
        }

        GlmModelHostLog.Stopped(_logger);
    }

    private bool HasPrimary()
    {
        lock (_lock)
        {
            return _primary is not null;
        }
    }

    private Task<ModelSlot> StartLoadLocked()
    {
        _state = GlmModelHostState.Loading;
        _loadError = null;
        string path = _modelPath;
        long generation = ++_loadGeneration;
        Task<ModelSlot> task = Task.Run(() => LoadPrimaryAsync(path, generation), CancellationToken.None);
        _loadTask = task;
        return task;
    }

    /// <summary>Loads the main model; a load overtaken by a promotion (<paramref name="generation"/> is stale) is disposed rather than installed.</summary>
    private async Task<ModelSlot> LoadPrimaryAsync(string path, long generation)
    {
        ModelSlot slot;
        try
        {
            slot = await LoadSlotAsync(path, _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            bool stopping;
            lock (_lock)
            {
                stopping = _stopRequested;
                if (_state == GlmModelHostState.Loading && generation == _loadGeneration)
                {
                    _state = GlmModelHostState.Failed;
                    _loadError = ex;
                }
            }

            if (stopping)
            {
                throw StoppingException();
            }

            GlmModelHostLog.LoadFailed(_logger, ex, path);
            throw;
        }

        bool stopped;
        bool stale = false;
        lock (_lock)
        {
            stopped = _stopRequested;
            stale = generation != _loadGeneration || _primary is not null;
            if (!stopped && !stale)
            {
                _primary = slot;
                _state = GlmModelHostState.Ready;
                _keepAlive?.Touch();
                ArmKeepAliveLocked();
            }
        }

        if (stopped)
        {
            await slot.DisposeAsync().ConfigureAwait(false);
            throw StoppingException();
        }

        if (stale)
        {
            // A promoted candidate took the main place while this load ran; waiting requests find it when they look again.
            await slot.DisposeAsync().ConfigureAwait(false);
        }

        return slot;
    }

    private async Task<ModelSlot> LoadSlotAsync(string path, CancellationToken cancellationToken)
    {
        NativeLibrarySetup.Apply(_options.NativeLibraryPath);
        GlmModelHostLog.Loading(_logger, path, _modelOptions.ExecutionProvider.ToString());
        long started = _time.GetTimestamp();
        GlmModel model = await _loader.LoadAsync(path, _modelOptions, cancellationToken).ConfigureAwait(false);
        try
        {
            if (model.KvBudgetTokens < model.MaxSequenceLength)
            {
                throw new ModelLoadException(
                    $"{Describe()}: KvBudgetTokens ({model.KvBudgetTokens}) is smaller than one max-length sequence ({model.MaxSequenceLength} tokens) of model '{path}', " +
                    $"so a long request could never run; raise KvBudgetTokens to at least {model.MaxSequenceLength} or set MaxSequenceLength to at most {model.KvBudgetTokens}.");
            }

            IChatClient chatClient = _chatClientFactory(model)
                ?? throw new InvalidOperationException($"{Describe()}: the chat client factory returned null for model '{path}'.");
            GlmModelHostLog.Loaded(_logger, path, (long)_time.GetElapsedTime(started).TotalMilliseconds, model.MaxSequenceLength, model.KvBudgetTokens);
            return new ModelSlot(model, chatClient, path, _configuredModelId);
        }
        catch
        {
            await model.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Marks <paramref name="slot"/> retiring; returns true when nothing holds it, so the caller disposes it (outside the lock).</summary>
    private bool RetireLocked(ModelSlot slot)
    {
        slot.Retiring = true;
        _retiring.Add(slot);
        return slot.InFlight == 0;
    }

    private void StartDisposal(ModelSlot slot) => _ = DisposeSlotAsync(slot);

    private async Task DisposeSlotAsync(ModelSlot slot)
    {
        await slot.DisposeAsync().ConfigureAwait(false);
        lock (_lock)
        {
            _retiring.Remove(slot);
        }

        GlmModelHostLog.Released(_logger, slot.ModelPath);
    }

    private void ArmKeepAliveLocked()
    {
        if (_keepAlive is not null && _primary is { InFlight: 0 } && !_rollout.Active && !_stopRequested)
        {
            _keepAlive.Arm();
        }
    }

    /// <summary>The keep-alive fired: unloads the primary model if it is still idle and nothing else needs it.</summary>
    private void OnIdle()
    {
        ModelSlot? unload = null;
        TimeSpan idle;
        lock (_lock)
        {
            if (_keepAlive is null || _stopRequested || _rollout.Active || _primary is not { InFlight: 0 } primary || !_keepAlive.IsExpired(out idle))
            {
                return;
            }

            unload = primary;
            _primary = null;
            _loadTask = null;
            _loadGeneration++;
            _state = GlmModelHostState.NotLoaded;
            RetireLocked(primary);
        }

        GlmModelHostLog.UnloadingIdle(_logger, unload.ModelPath, idle.TotalSeconds);
        StartDisposal(unload);
    }

    private IEnumerable<ModelSlot> EnumerateSlotsLocked()
    {
        if (_primary is not null)
        {
            yield return _primary;
        }

        if (_rollout.Candidate is { } candidate)
        {
            yield return candidate;
        }

        foreach (ModelSlot slot in _retiring)
        {
            yield return slot;
        }
    }

    private void ThrowIfStoppingLocked()
    {
        if (_stopRequested)
        {
            throw StoppingException();
        }
    }

    private AutoGlmException StoppingException() => new(
        $"{Describe()} is shutting down and accepts no new requests; send the request to another instance or retry after it restarts.");

    private string Describe() => Key is null ? "The AutoGlm model host" : $"The AutoGlm model host '{Key}'";
}
