using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace AutoGlm.Generation;

/// <summary>
/// Serves many concurrent generation requests on one model with continuous batching: one loop, on its own
/// thread, owns the model; every iteration it retires cancelled sequences, admits queued requests in FIFO
/// order while a slot and KV budget are free, prefills at most <see cref="BatchSchedulerOptions.PrefillChunkTokens"/>
/// prompt tokens, then runs one decode step for every running sequence together and samples each row with
/// that request's own options.
/// </summary>
/// <remarks>
/// <para>
/// Thread-safe: any number of callers may generate at once. Tokens reach a caller through its own channel,
/// so a slow reader never stalls the batch. A request leaves the batch at the first step after it finishes,
/// is cancelled, or fails; the others are not disturbed. Disposal stops accepting requests, cancels the
/// running step, and ends every stream with <see cref="ObjectDisposedException"/>.
/// </para>
/// </remarks>
internal sealed class BatchScheduler : IDisposable, IAsyncDisposable
{
    private static readonly GenerationOptions s_defaultOptions = new();

    private readonly IBatchDecoder _decoder;
    private readonly ITokenTextDecoder _textDecoder;
    private readonly BatchSchedulerOptions _options;
    private readonly TimeProvider _time;
    private readonly KvSlotTable _slots;
    private readonly TokenPicker _picker;
    private readonly RequestValidator _validator;
    private readonly int _vocabulary;
    private readonly int[] _eosTokenIds;
    private readonly Lock _gate = new();
    private readonly List<GenerationSequence> _queue = [];
    private readonly ManualResetEventSlim _wake = new(false);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Thread _loop;
    private readonly GenerationMetrics? _metrics;

    // Owned by the loop thread.
    private readonly List<GenerationSequence> _active = [];
    private readonly DecoderRow[] _rows;
    private readonly GenerationSequence?[] _rowSequences;
    private readonly int[] _stepTokens;
    private readonly float[] _logits;

    private volatile bool _disposed;
    private Exception? _fault;
    private int _activeCount;
    private long _steps;
    private long _preemptions;

    /// <summary>Creates the scheduler and starts its loop.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (the message quotes it).</exception>
    public BatchScheduler(IBatchDecoder decoder, ITokenTextDecoder textDecoder, BatchSchedulerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        ArgumentNullException.ThrowIfNull(textDecoder);
        options ??= new BatchSchedulerOptions();
        Check(options.QueueCapacity >= 0, nameof(options.QueueCapacity), options.QueueCapacity, "must be 0 or more");
        Check(options.PrefillChunkTokens >= 1, nameof(options.PrefillChunkTokens), options.PrefillChunkTokens, "must be at least 1");
        Check(decoder.MaxBatchSize >= 1, nameof(decoder.MaxBatchSize), decoder.MaxBatchSize, "must be at least 1");
        Check(decoder.MaxSequenceLength >= 2, nameof(decoder.MaxSequenceLength), decoder.MaxSequenceLength, "must be at least 2");
        _decoder = decoder;
        _textDecoder = textDecoder;
        _options = options;
        _time = options.TimeProvider;
        _vocabulary = decoder.VocabularySize;
        _eosTokenIds = [.. options.EosTokenIds];
        _slots = new KvSlotTable(decoder, options.KvBudgetTokens ?? (int)Math.Min((long)decoder.MaxBatchSize * decoder.MaxSequenceLength, int.MaxValue))
        {
            IsAwaited = options.PrefixReuse ? IsContinuedByAQueuedRequest : null,
        };
        _picker = new TokenPicker(_vocabulary, textDecoder, _eosTokenIds);
        _validator = new RequestValidator(decoder, textDecoder, _slots.Budget);
        _rows = new DecoderRow[decoder.MaxBatchSize];
        _rowSequences = new GenerationSequence?[decoder.MaxBatchSize];
        _stepTokens = new int[Math.Max(decoder.MaxBatchSize, options.PrefillChunkTokens)];
        _logits = new float[checked(decoder.MaxBatchSize * _vocabulary)];
        _metrics = options.Meter is { } meter ? new GenerationMetrics(meter, () => QueuedRequestCount, () => _slots.Budget.TokensInUse, () => _slots.Budget.CapacityTokens, options.KvBytesHeld) : null;
        _loop = new Thread(Run) { IsBackground = true, Name = "AutoGlm batch scheduler" };
        _loop.Start();
    }

    /// <summary>Gets the number of requests waiting for admission.</summary>
    public int QueuedRequestCount
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>Gets the number of sequences holding a slot (prefilling or decoding).</summary>
    public int ActiveSequenceCount => Volatile.Read(ref _activeCount);

    /// <summary>Gets the KV positions reserved by running sequences (whole blocks of the positions they hold) and held by parked ones.</summary>
    public int KvTokensInUse => _slots.Budget.TokensInUse;

    /// <summary>Gets the KV budget in tokens.</summary>
    public int KvBudgetTokens => _slots.Budget.CapacityTokens;

    /// <summary>Gets the number of times a running sequence was preempted for lack of KV budget.</summary>
    public long PreemptionCount => Interlocked.Read(ref _preemptions);

    /// <summary>Gets the number of model steps run so far.</summary>
    public long StepCount => Interlocked.Read(ref _steps);

    /// <summary>
    /// Generates tokens after <paramref name="promptTokenIds"/>, streaming each as it is sampled. Each
    /// enumeration submits a new request when it starts.
    /// </summary>
    /// <exception cref="ArgumentException">The prompt is empty or holds an id outside the vocabulary; <see cref="ContextLengthExceededException"/> when it leaves no room in the model's context.</exception>
    /// <exception cref="AutoGlmException">The request could never fit in the KV budget.</exception>
    /// <exception cref="QueueFullException">(On enumeration) the queue is full.</exception>
    /// <exception cref="ObjectDisposedException">The scheduler is disposed, or is disposed while the request runs.</exception>
    /// <exception cref="OperationCanceledException">(On enumeration) <paramref name="cancellationToken"/> fired.</exception>
    public IAsyncEnumerable<GeneratedToken> GenerateStreamingAsync(
        IReadOnlyList<int> promptTokenIds,
        GenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        options ??= s_defaultOptions;
        int maxNewTokens = Validate(promptTokenIds, options);
        int[] prompt = [.. promptTokenIds];
        return StreamAsync(prompt, options, maxNewTokens, cancellationToken);
    }

    /// <summary>Generates tokens after <paramref name="promptTokenIds"/> and returns them all with text, usage, finish reason and timings.</summary>
    /// <exception cref="ArgumentException">The prompt is empty or holds an id outside the vocabulary; <see cref="ContextLengthExceededException"/> when it leaves no room in the model's context.</exception>
    /// <exception cref="AutoGlmException">The request could never fit in the KV budget, or the model failed.</exception>
    /// <exception cref="QueueFullException">The queue is full.</exception>
    /// <exception cref="ObjectDisposedException">The scheduler is disposed, or is disposed while the request runs.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
    public async Task<GenerationResult> GenerateAsync(
        IReadOnlyList<int> promptTokenIds,
        GenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        options ??= s_defaultOptions;
        int maxNewTokens = Validate(promptTokenIds, options);
        GenerationSequence sequence = NewSequence([.. promptTokenIds], options, maxNewTokens);
        var tokens = new List<GeneratedToken>(Math.Min(maxNewTokens, 1024));
        var text = new StringBuilder();
        await foreach (GeneratedToken token in ReadAsync(sequence, cancellationToken).ConfigureAwait(false))
        {
            tokens.Add(token);
            text.Append(token.Text);
        }

        return new GenerationResult(tokens, text.ToString(), new GenerationUsage(sequence.Prompt.Length, tokens.Count), sequence.FinishReason, sequence.Timings);
    }

    /// <summary>Stops accepting requests, cancels the running step, ends every stream, and waits for the loop to exit. Never throws.</summary>
    public void Dispose()
    {
        if (BeginShutdown() && Thread.CurrentThread != _loop)
        {
            _loop.Join();
        }
    }

    /// <summary>Stops accepting requests, cancels the running step, ends every stream, and waits for the loop to exit. Never throws.</summary>
    public async ValueTask DisposeAsync()
    {
        BeginShutdown();
        if (Thread.CurrentThread != _loop)
        {
            await _stopped.Task.ConfigureAwait(false);
        }
    }

    private bool BeginShutdown()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return false;
            }

            _disposed = true;
        }

        _shutdown.Cancel();
        _metrics?.Dispose();
        return true;
    }

    private int Validate(IReadOnlyList<int> prompt, GenerationOptions options)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _validator.Validate(prompt, options);
    }

    private GenerationSequence NewSequence(int[] prompt, GenerationOptions options, int maxNewTokens) =>
        new(prompt, options, maxNewTokens, options.Seed ?? Random.Shared.NextInt64(), _time.GetTimestamp());

    private async IAsyncEnumerable<GeneratedToken> StreamAsync(
        int[] prompt,
        GenerationOptions options,
        int maxNewTokens,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        GenerationSequence sequence = NewSequence(prompt, options, maxNewTokens);
        await foreach (GeneratedToken token in ReadAsync(sequence, cancellationToken).ConfigureAwait(false))
        {
            yield return token;
        }
    }

    private async IAsyncEnumerable<GeneratedToken> ReadAsync(GenerationSequence sequence, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Enqueue(sequence, cancellationToken);
        try
        {
            while (await sequence.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (sequence.Reader.TryRead(out GeneratedToken token))
                {
                    // Tokens already queued when the caller cancels are not delivered.
                    cancellationToken.ThrowIfCancellationRequested();
                    yield return token;
                }
            }
        }
        finally
        {
            // A caller that stops reading early (break, exception, cancellation) gives its slot back at the next step.
            if (!sequence.Reader.Completion.IsCompleted)
            {
                sequence.RequestCancel();
                _wake.Set();
            }
        }
    }

    private void Enqueue(GenerationSequence sequence, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        sequence.CancellationToken = cancellationToken;
        sequence.CancellationRegistration = cancellationToken.Register(
            static state =>
            {
                var (scheduler, cancelled) = ((BatchScheduler, GenerationSequence))state!;
                cancelled.RequestCancel();
                scheduler._wake.Set();
            },
            (this, sequence));
        Exception rejection;
        lock (_gate)
        {
            if (_fault is null && !_disposed && _queue.Count < _options.QueueCapacity)
            {
                _queue.Add(sequence);
                _wake.Set();
                return;
            }

            rejection = Rejection();
        }

        sequence.CancellationRegistration.Dispose();
        throw rejection;
    }

    // Why a request cannot be queued now; called under the gate.
    private Exception Rejection() =>
        _fault is not null
            ? new AutoGlmException("The generation scheduler stopped after an unexpected error and accepts no more requests; dispose the model and load it again.", _fault)
            : _disposed
                ? new ObjectDisposedException(nameof(BatchScheduler), "The model was disposed; load it again to generate.")
                : new QueueFullException(Invariant(
                    $"The generation queue is full: {_options.QueueCapacity} requests are already waiting for a slot. Retry later, or raise the queue capacity."));

    // Entered once and loops for the scheduler's life: optimised from the start rather than by on-stack replacement mid-stream.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Run()
    {
        CancellationToken shutdown = _shutdown.Token;
        Exception ending = new ObjectDisposedException(nameof(BatchScheduler), "The model was disposed while this request was running.");
        try
        {
            while (!shutdown.IsCancellationRequested)
            {
                _wake.Reset();
                RetireCancelled();
                Admit();
                if (_active.Count == 0)
                {
                    _wake.Wait(shutdown);
                    continue;
                }

                PrefillStep(shutdown);
                ReserveDecodeBlocks();
                DecodeStep(shutdown);
                RemoveFinished();
            }
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // A defect in the loop must end every waiting request rather than leave its caller hanging.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            lock (_gate)
            {
                _fault = exception;
            }

            ending = new AutoGlmException("The generation scheduler stopped after an unexpected error; dispose the model and load it again.", exception);
        }
        finally
        {
            EndAll(ending);
            _slots.EvictAll();
            _stopped.TrySetResult();
        }
    }

    private void EndAll(Exception error)
    {
        foreach (GenerationSequence sequence in _active)
        {
            Retire(sequence, FinishReason.Cancelled, error);
        }

        _active.Clear();
        GenerationSequence[] waiting;
        lock (_gate)
        {
            waiting = [.. _queue];
            _queue.Clear();
        }

        foreach (GenerationSequence sequence in waiting)
        {
            Retire(sequence, FinishReason.Cancelled, error);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RetireCancelled()
    {
        foreach (GenerationSequence sequence in _active)
        {
            if (sequence.CancelRequested && !sequence.Finished)
            {
                Retire(sequence, FinishReason.Cancelled, new OperationCanceledException(sequence.CancellationToken));
            }
        }

        RemoveFinished();
        lock (_gate)
        {
            for (int i = _queue.Count - 1; i >= 0; i--)
            {
                GenerationSequence sequence = _queue[i];
                if (sequence.CancelRequested)
                {
                    _queue.RemoveAt(i);
                    Retire(sequence, FinishReason.Cancelled, new OperationCanceledException(sequence.CancellationToken));
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Admit()
    {
        while (true)
        {
            GenerationSequence next;
            lock (_gate)
            {
                if (_queue.Count == 0)
                {
                    return;
                }

                next = _queue[0];
            }

            int slot;
            int reused = 0;
            int reservation = KvCacheBudget.ReservationFor(next.PrefillLength, next.MaxPositions);
            try
            {
                slot = _slots.TryPlace(reservation, next.MaxPositions, _options.PrefixReuse ? next.Context : [], out reused);
            }
#pragma warning disable CA1031 // Any failure to allocate belongs to this request alone.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                lock (_gate)
                {
                    _queue.RemoveAt(0);
                }

                Retire(next, FinishReason.Cancelled, AsModelError(exception, "allocating a KV slot"));
                continue;
            }

            if (slot < 0)
            {
                // FIFO: nobody overtakes the head of the queue, so a large request cannot starve.
                return;
            }

            lock (_gate)
            {
                _queue.RemoveAt(0);
            }

            next.Reservation = reservation;
            next.Start(slot, reused, _time.GetElapsedTime(next.SubmittedAt), _vocabulary, _textDecoder);
            // A resumed (preempted) sequence's lookup is not a new request's; the load-time warm-up is no request.
            if (_options.PrefixReuse && next.Preemptions == 0 && !next.Options.ExcludeFromMetrics)
            {
                _metrics?.PrefixLookup(reused);
            }

            _active.Add(next);
            Interlocked.Increment(ref _activeCount);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PrefillStep(CancellationToken shutdown)
    {
        int chunk = _options.PrefillChunkTokens;
        int rows = 0;
        int tokens = 0;
        foreach (GenerationSequence sequence in _active)
        {
            if (rows == _rows.Length || tokens == chunk)
            {
                break;
            }

            if (sequence.Finished || !sequence.IsPrefilling)
            {
                continue;
            }

            // A prompt that has not started joins a step that already has rows only whole: prompts that start
            // together run as one padded batch, while a split one would run its first piece alone. It leads
            // the next step instead, where a prompt longer than the budget is chunked as before.
            int remaining = sequence.PrefillLength - sequence.PastLength;
            if (rows > 0 && sequence.PastLength == 0 && remaining > chunk - tokens)
            {
                continue;
            }

            int count = Math.Min(remaining, chunk - tokens);
            sequence.PrefillTokens.AsSpan(sequence.PastLength, count).CopyTo(_stepTokens.AsSpan(tokens));
            _rows[rows] = new DecoderRow(sequence.Slot, sequence.PastLength, count);
            _rowSequences[rows] = sequence;
            rows++;
            tokens += count;
        }

        if (rows > 0 && RunStep(rows, tokens, shutdown))
        {
            for (int i = 0; i < rows; i++)
            {
                GenerationSequence sequence = _rowSequences[i]!;
                // A preempted sequence's recompute ends on a token it already emitted: it decodes next instead.
                if (!sequence.IsPrefilling && sequence.Generated == 0)
                {
                    SampleAndEmit(sequence, i);
                }
            }
        }

        Array.Clear(_rowSequences);
    }

    // Before a decode step, each decoding sequence holds the block its next position falls in: a sequence crossing
    // into a new block reserves it, evicting parked slots and then preempting the youngest other sequences when the
    // budget is short. A lone sequence always fits (Validate), so someone always makes progress.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ReserveDecodeBlocks()
    {
        for (int i = 0; i < _active.Count; i++)
        {
            GenerationSequence sequence = _active[i];
            int needed = sequence.PastLength + 1;
            if (needed <= sequence.Reservation || sequence.Finished || sequence.IsPrefilling || sequence.Generated == 0)
            {
                continue;
            }

            int target = KvCacheBudget.ReservationFor(needed, sequence.MaxPositions);
            while (!_slots.TryGrow(target - sequence.Reservation))
            {
                int victim = YoungestExcept(i);
                if (victim < 0)
                {
                    // Unreachable while Validate holds every request to the budget; fail this one rather than the loop.
                    Retire(sequence, FinishReason.Cancelled, new AutoGlmException(Invariant(
                        $"The request needs {target} tokens of KV cache but the KV budget of {_slots.Budget.CapacityTokens} tokens has no room even with every other request preempted; raise the KV budget.")));
                    break;
                }

                Preempt(_active[victim]);
                _active.RemoveAt(victim);
                if (victim < i)
                {
                    i--;
                }
            }

            if (!sequence.Finished)
            {
                sequence.Reservation = target;
            }
        }
    }

    private int YoungestExcept(int index)
    {
        for (int j = _active.Count - 1; j >= 0; j--)
        {
            if (j != index && !_active[j].Finished)
            {
                return j;
            }
        }

        return -1;
    }

    // Drops a running sequence's KV and puts it back at the head of the queue; it is recomputed when admitted again.
    private void Preempt(GenerationSequence sequence)
    {
        _slots.Remove(sequence.Slot, sequence.Reservation);
        sequence.Preempt();
        Interlocked.Decrement(ref _activeCount);
        lock (_gate)
        {
            _queue.Insert(0, sequence);
        }

        Interlocked.Increment(ref _preemptions);
        _metrics?.Preempted();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void DecodeStep(CancellationToken shutdown)
    {
        int rows = 0;
        int measuredRows = 0;
        foreach (GenerationSequence sequence in _active)
        {
            if (sequence.Finished || sequence.IsPrefilling || sequence.Generated == 0)
            {
                continue;
            }

            // The batch-size metric counts the rows of requests that are measured (not the load-time warm-up).
            measuredRows += sequence.Options.ExcludeFromMetrics ? 0 : 1;
            _stepTokens[rows] = sequence.NextInput;
            _rows[rows] = new DecoderRow(sequence.Slot, sequence.PastLength, 1);
            _rowSequences[rows] = sequence;
            rows++;
        }

        if (rows > 0 && RunStep(rows, rows, shutdown))
        {
            if (measuredRows > 0)
            {
                _metrics?.DecodeStep(measuredRows);
            }

            for (int i = 0; i < rows; i++)
            {
                SampleAndEmit(_rowSequences[i]!, i);
            }
        }

        Array.Clear(_rowSequences);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool RunStep(int rows, int tokens, CancellationToken shutdown)
    {
        try
        {
            _decoder.Step(_rows.AsSpan(0, rows), _stepTokens.AsSpan(0, tokens), _logits.AsSpan(0, rows * _vocabulary), shutdown);
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // A failed step fails its own rows; the other sequences keep running.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Exception error = AsModelError(exception, Invariant($"running a step of {rows} sequences"));
            for (int i = 0; i < rows; i++)
            {
                Retire(_rowSequences[i]!, FinishReason.Cancelled, error);
            }

            return false;
        }

        Interlocked.Increment(ref _steps);
        for (int i = 0; i < rows; i++)
        {
            _rowSequences[i]!.PastLength += _rows[i].TokenCount;
        }

        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void SampleAndEmit(GenerationSequence sequence, int row)
    {
        try
        {
            int token = _picker.Pick(sequence, _logits.AsSpan(row * _vocabulary, _vocabulary), out var logProbabilities);
            Emit(sequence, token, logProbabilities);
        }
#pragma warning disable CA1031 // Sampling or detokenising failures belong to this sequence alone.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Retire(sequence, FinishReason.Cancelled, exception as AutoGlmException ?? AsModelError(exception, "sampling or decoding a token"));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Emit(GenerationSequence sequence, int token, (float Chosen, TokenLogProbability[] Top)? logProbabilities = null)
    {
        TimeSpan elapsed = _time.GetElapsedTime(sequence.SubmittedAt);
        if (sequence.Generated == 0)
        {
            _metrics?.FirstToken(sequence.Options, elapsed);
        }

        if (sequence.Emit(token, elapsed, _eosTokenIds, logProbabilities) is { } reason)
        {
            // Recorded before the stream completes, so a caller that reads the metrics after its result sees them.
            _metrics?.Completed(sequence.Options, sequence.Generated, sequence.Timings);
            Retire(sequence, reason, null);
        }
    }

    private void Retire(GenerationSequence sequence, FinishReason reason, Exception? error)
    {
        if (sequence.Finished)
        {
            return;
        }

        if (error is not null)
        {
            _metrics?.Failed(sequence.Options, _time.GetElapsedTime(sequence.SubmittedAt), error);
        }

        if (sequence.Slot >= 0)
        {
            if (_options.PrefixReuse && error is null && reason != FinishReason.Cancelled && sequence.History is not null)
            {
                _slots.Park(sequence.Slot, sequence.Reservation, sequence.TakeHistory(), sequence.PastLength);
            }
            else
            {
                _slots.Remove(sequence.Slot, sequence.Reservation);
            }

            Interlocked.Decrement(ref _activeCount);
        }

        sequence.Complete(reason, error);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RemoveFinished()
    {
        int kept = 0;
        for (int i = 0; i < _active.Count; i++)
        {
            if (!_active[i].Finished)
            {
                _active[kept++] = _active[i];
            }
        }

        _active.RemoveRange(kept, _active.Count - kept);
    }

    private static AutoGlmException AsModelError(Exception exception, string what) =>
        exception as AutoGlmException ?? new AutoGlmException(Invariant($"The model failed while {what}: {exception.Message}"), exception);

    // Whether a queued request (the next turn of a conversation) starts with all of these tokens; cheap checks first.
    private bool IsContinuedByAQueuedRequest(int[] tokens, int length)
    {
        if (length == 0)
        {
            return false;
        }

        lock (_gate)
        {
            foreach (GenerationSequence queued in _queue)
            {
                ReadOnlySpan<int> context = queued.Context;
                if (context.Length > length && context[length - 1] == tokens[length - 1] && context[..length].SequenceEqual(tokens.AsSpan(0, length)))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static void Check(bool valid, string name, int value, string rule)
    {
        if (!valid)
        {
            throw new ArgumentOutOfRangeException(name, value, Invariant($"{name} {rule}; got {value}."));
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
