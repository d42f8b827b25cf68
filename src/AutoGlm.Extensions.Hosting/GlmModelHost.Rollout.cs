namespace AutoGlm.Extensions.Hosting;

/// <summary>The host's rollout API: a candidate model beside the primary, its traffic share, promotion, rollback and swap.</summary>
public sealed partial class GlmModelHost
{
    /// <summary>
    /// Loads the model at <paramref name="modelPath"/> beside the current one (with the same options) and routes
    /// <paramref name="trafficShare"/> of new requests to it, for a gradual rollout. Requests already running are not moved.
    /// </summary>
    /// <param name="modelPath">The new model version's folder.</param>
    /// <param name="trafficShare">The share of new requests (0 to 1) the new model takes, e.g. 0.1.</param>
    /// <param name="cancellationToken">Cancels the load.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="trafficShare"/> is not between 0 and 1.</exception>
    /// <exception cref="InvalidOperationException">A candidate is already loaded or loading.</exception>
    /// <exception cref="AutoGlmException">The host is stopping; or loading failed (<see cref="ModelLoadException"/> and the other load failures of <see cref="AcquireAsync"/>).</exception>
    public async Task LoadCandidateAsync(string modelPath, double trafficShare, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        ThrowIfBadShare(trafficShare);
        string fullPath = Path.GetFullPath(modelPath);
        lock (_lock)
        {
            ThrowIfStoppingLocked();
            _rollout.BeginLoad(fullPath);
            _keepAlive?.Disarm();
        }

        ModelSlot slot;
        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
            slot = await Task.Run(() => LoadSlotAsync(fullPath, linked.Token), CancellationToken.None).ConfigureAwait(false);
        }
        catch
        {
            lock (_lock)
            {
                _rollout.EndLoad(null, 0);
                ArmKeepAliveLocked();
            }

            throw;
        }

        bool stopped;
        string current;
        lock (_lock)
        {
            stopped = _stopRequested;
            _rollout.EndLoad(stopped ? null : slot, trafficShare);

            current = _modelPath;
        }

        if (stopped)
        {
            await slot.DisposeAsync().ConfigureAwait(false);
            throw StoppingException();
        }

        GlmModelHostLog.CandidateLoaded(_logger, fullPath, current, trafficShare);
    }

    /// <summary>Changes the share of new requests (0 to 1) routed to the candidate model.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="trafficShare"/> is not between 0 and 1.</exception>
    /// <exception cref="InvalidOperationException">No candidate is loaded.</exception>
    public void SetCandidateTrafficShare(double trafficShare)
    {
        ThrowIfBadShare(trafficShare);
        string path;
        lock (_lock)
        {
            path = _rollout.RequireCandidate().ModelPath;
            _rollout.SetShare(trafficShare);
        }

        GlmModelHostLog.CandidateShareChanged(_logger, path, trafficShare);
    }

    /// <summary>
    /// Makes the candidate the model that takes every new request, and retires the previous one: it finishes the requests it
    /// is running and is disposed after the last of them. Completes when the previous model has been disposed.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting for the previous model to drain (it still drains and is disposed afterwards).</param>
    /// <exception cref="InvalidOperationException">No candidate is loaded.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired before the previous model drained.</exception>
    public async Task PromoteCandidateAsync(CancellationToken cancellationToken = default)
    {
        ModelSlot? retired;
        bool disposeNow = false;
        ModelSlot promoted;
        int inFlight = 0;
        lock (_lock)
        {
            promoted = _rollout.TakeCandidate();
            retired = _primary;
            _primary = promoted;
            _modelPath = promoted.ModelPath;
            _loadTask = null;
            _loadGeneration++;
            _state = _stopRequested ? _state : GlmModelHostState.Ready;
            if (retired is not null)
            {
                inFlight = retired.InFlight;
                disposeNow = RetireLocked(retired);
            }

            ArmKeepAliveLocked();
        }

        if (retired is null)
        {
            return;
        }

        GlmModelHostLog.Promoted(_logger, promoted.ModelPath, retired.ModelPath, inFlight);
        if (disposeNow)
        {
            StartDisposal(retired);
        }

        await retired.Disposed.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Stops routing requests to the candidate model and retires it once the requests it is running finish.
    /// Completes when it has been disposed.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting for the candidate to drain (it still drains and is disposed afterwards).</param>
    /// <exception cref="InvalidOperationException">No candidate is loaded.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired before the candidate drained.</exception>
    public async Task RollBackCandidateAsync(CancellationToken cancellationToken = default)
    {
        ModelSlot retired;
        bool disposeNow;
        int inFlight;
        lock (_lock)
        {
            retired = _rollout.TakeCandidate();
            inFlight = retired.InFlight;
            disposeNow = RetireLocked(retired);
            ArmKeepAliveLocked();
        }

        GlmModelHostLog.RolledBack(_logger, retired.ModelPath, inFlight);
        if (disposeNow)
        {
            StartDisposal(retired);
        }

        await retired.Disposed.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Replaces the model with the one at <paramref name="modelPath"/> at once (load beside, then promote): requests already
    /// running finish on the old model, new ones go to the new model. Completes when the old model has been disposed.
    /// </summary>
    /// <inheritdoc cref="LoadCandidateAsync" path="/exception"/>
    public async Task SwapAsync(string modelPath, CancellationToken cancellationToken = default)
    {
        await LoadCandidateAsync(modelPath, 0, cancellationToken).ConfigureAwait(false);
        await PromoteCandidateAsync(cancellationToken).ConfigureAwait(false);
    }

    private static void ThrowIfBadShare(double trafficShare)
    {
        if (!(trafficShare >= 0 && trafficShare <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(trafficShare), trafficShare, $"The traffic share must be between 0 and 1 (e.g. 0.1 for 10%); got {trafficShare.ToString(System.Globalization.CultureInfo.InvariantCulture)}.");
        }
    }
}
