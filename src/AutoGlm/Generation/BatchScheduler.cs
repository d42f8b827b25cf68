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
    private readonly KvCacheBudget _budget;
    private readonly Sampler _sampler;
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
    private readonly bool[] _slotInUse;
    private readonly DecoderRow[] _rows;
    private readonly GenerationSequence?[] _rowSequences;
    private readonly int[] _stepTokens;
    private readonly float[] _logits;

    private volatile bool _disposed;
    private Exception? _fault;
    private int _activeCount;
    private long _steps;

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
        _budget = new KvCacheBudget(options.KvBudgetTokens ?? checked(decoder.MaxBatchSize * decoder.MaxSequenceLength));
        _sampler = new Sampler(_vocabulary);
        _slotInUse = new bool[decoder.MaxBatchSize];
        _rows = new DecoderRow[decoder.MaxBatchSize];
        _rowSequences = new GenerationSequence?[decoder.MaxBatchSize];
        _stepTokens = new int[Math.Max(decoder.MaxBatchSize, options.PrefillChunkTokens)];
        _logits = new float[checked(decoder.MaxBatchSize * _vocabulary)];
        _metrics = options.Meter is { } meter ? new GenerationMetrics(meter, () => QueuedRequestCount, () => _budget.TokensInUse) : null;
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

    /// <summary>Gets the KV positions reserved by running sequences.</summary>
    public int KvTokensInUse => _budget.TokensInUse;

    /// <summary>Gets the KV budget in tokens.</summary>
    public int KvBudgetTokens => _budget.CapacityTokens;

    /// <summary>Gets the number of model steps run so far.</summary>
    public long StepCount => Interlocked.Read(ref _steps);

    /// <summary>
    /// Generates tokens after <paramref name="promptTokenIds"/>, streaming each as it is sampled. Each
    /// enumeration submits a new request when it starts.
    /// </summary>
    /// <exception cref="ArgumentException">The prompt is empty, holds an id outside the vocabulary, or leaves no room in the model's context.</exception>
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
    /// <exception cref="ArgumentException">The prompt is empty, holds an id outside the vocabulary, or leaves no room in the model's context.</exception>
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
        return true;
    }

    private int Validate(IReadOnlyList<int> prompt, GenerationOptions options)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ObjectDisposedException.ThrowIf(_disposed, this);
        int contextLength = _decoder.MaxSequenceLength;
        if (prompt.Count == 0)
        {
            throw new ArgumentException("The prompt is empty; a request needs at least one token to continue from.", nameof(prompt));
        }

        if (prompt.Count >= contextLength)
        {
            throw new ArgumentException(
                Invariant($"The prompt has {prompt.Count} tokens but the model's context holds {contextLength} (MaxSequenceLength), which leaves no room to generate; shorten the prompt to at most {contextLength - 1} tokens."),
                nameof(prompt));
        }

        for (int i = 0; i < prompt.Count; i++)
        {
            if ((uint)prompt[i] >= (uint)_vocabulary)
            {
                throw new ArgumentException(
                    Invariant($"Prompt token {i} is {prompt[i]}, outside the model's vocabulary of {_vocabulary} ids; the prompt was encoded with a different tokenizer."),
                    nameof(prompt));
            }
        }

        int maxNewTokens = Math.Min(options.MaxNewTokens, contextLength - prompt.Count);
        int needed = prompt.Count + maxNewTokens;
        if (!_budget.CanEverFit(needed))
        {
            throw new AutoGlmException(Invariant(
                $"The request needs {needed} tokens of KV cache (a prompt of {prompt.Count} and up to {maxNewTokens} new tokens) but the KV budget holds {_budget.CapacityTokens} tokens in total, so it could never run; lower MaxNewTokens or shorten the prompt, or raise the KV budget."));
        }

        return maxNewTokens;
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
        lock (_gate)
        {
            string? rejection = null;
            if (_fault is not null)
            {
                rejection = "fault";
            }
            else if (_disposed)
            {
                rejection = "disposed";
            }
            else if (_queue.Count >= _options.QueueCapacity)
            {
                rejection = "full";
            }

            if (rejection is null)
            {
                _queue.Add(sequence);
                _wake.Set();
                return;
            }

            sequence.CancellationRegistration.Dispose();
            switch (rejection)
            {
                case "fault":
                    throw new AutoGlmException("The generation scheduler stopped after an unexpected error and accepts no more requests; dispose the model and load it again.", _fault);
                case "disposed":
                    throw new ObjectDisposedException(nameof(BatchScheduler), "The model was disposed; load it again to generate.");
                default:
                    throw new QueueFullException(Invariant(
                        $"The generation queue is full: {_options.QueueCapacity} requests are already waiting for a slot. Retry later, or raise the queue capacity."));
            }
        }
    }

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

            int slot = Array.IndexOf(_slotInUse, false);
            if (slot < 0 || !_budget.TryReserve(next.Reservation))
            {
                // FIFO: nobody overtakes the head of the queue, so a large request cannot starve.
                return;
            }

            lock (_gate)
            {
                _queue.RemoveAt(0);
            }

            try
            {
                _decoder.AllocateSlot(slot, next.Reservation);
            }
#pragma warning disable CA1031 // Any failure to allocate belongs to this request alone.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                _budget.Release(next.Reservation);
                Retire(next, FinishReason.Cancelled, AsModelError(exception, "allocating a KV slot"));
                continue;
            }

            _slotInUse[slot] = true;
            next.Slot = slot;
            next.QueueTime = _time.GetElapsedTime(next.SubmittedAt);
            next.Sampling = new SamplingState(next.Options, _vocabulary, next.Prompt, next.MaxNewTokens, next.Seed);
            next.StopMatcher = new StopSequenceMatcher(next.Options.StopSequences);
            next.Text = _textDecoder.CreateStream();
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

            int count = Math.Min(sequence.Prompt.Length - sequence.PastLength, chunk - tokens);
            sequence.Prompt.AsSpan(sequence.PastLength, count).CopyTo(_stepTokens.AsSpan(tokens));
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
                if (!sequence.IsPrefilling)
                {
                    SampleAndEmit(sequence, i);
                }
            }
        }

        Array.Clear(_rowSequences);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void DecodeStep(CancellationToken shutdown)
    {
        int rows = 0;
        foreach (GenerationSequence sequence in _active)
        {
            if (sequence.Finished || sequence.IsPrefilling || sequence.Generated == 0)
            {
                continue;
            }

            _stepTokens[rows] = sequence.NextInput;
            _rows[rows] = new DecoderRow(sequence.Slot, sequence.PastLength, 1);
            _rowSequences[rows] = sequence;
            rows++;
        }

        if (rows > 0 && RunStep(rows, rows, shutdown))
        {
            _metrics?.DecodeStep(rows);
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
            int token = _sampler.Sample(_logits.AsSpan(row * _vocabulary, _vocabulary), sequence.Sampling!);
            sequence.Sampling!.Observe(token);
            Emit(sequence, token);
        }
#pragma warning disable CA1031 // Sampling or detokenising failures belong to this sequence alone.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Retire(sequence, FinishReason.Cancelled, exception as AutoGlmException ?? AsModelError(exception, "sampling or decoding a token"));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Emit(GenerationSequence sequence, int token)
    {
        int index = sequence.Generated++;
        TimeSpan elapsed = _time.GetElapsedTime(sequence.SubmittedAt);
        if (index == 0)
        {
            sequence.FirstTokenAt = elapsed;
            _metrics?.FirstToken(elapsed);
        }

        sequence.LastTokenAt = elapsed;
        sequence.NextInput = token;
        StopSequenceMatcher matcher = sequence.StopMatcher!;
        string text;
        FinishReason? finish = null;
        if (IsStopToken(sequence, token))
        {
            text = FinalText(sequence);
            finish = FinishReason.Stop;
        }
        else
        {
            text = matcher.Append(sequence.Text!.Append(token));
            if (matcher.IsStopped)
            {
                finish = FinishReason.Stop;
            }
            else if (sequence.Generated >= sequence.MaxNewTokens)
            {
                text += FinalText(sequence);
                finish = matcher.IsStopped ? FinishReason.Stop : FinishReason.Length;
            }
        }

        sequence.Writer.TryWrite(new GeneratedToken(token, text, index, elapsed, finish));
        if (finish is { } reason)
        {
            Retire(sequence, reason, null);
            _metrics?.Completed(sequence.Prompt.Length, sequence.Generated, sequence.Timings);
        }
    }

    private bool IsStopToken(GenerationSequence sequence, int token) =>
        (!sequence.Options.IgnoreEos && Array.IndexOf(_eosTokenIds, token) >= 0) || Contains(sequence.Options.StopTokenIds, token);

    private static bool Contains(IReadOnlyList<int> ids, int token)
    {
        for (int i = 0; i < ids.Count; i++)
        {
            if (ids[i] == token)
            {
                return true;
            }
        }

        return false;
    }

    // The text still held by the detokenizer and the stop matcher when a sequence ends for another reason.
    private static string FinalText(GenerationSequence sequence)
    {
        StopSequenceMatcher matcher = sequence.StopMatcher!;
        string rest = sequence.Text!.Flush();
        string released = rest.Length > 0 ? matcher.Append(rest) : string.Empty;
        return matcher.IsStopped ? released : released + matcher.Flush();
    }

    private void Retire(GenerationSequence sequence, FinishReason reason, Exception? error)
    {
        if (sequence.Finished)
        {
            return;
        }

        sequence.Finished = true;
        sequence.FinishReason = reason;
        if (sequence.Slot >= 0)
        {
            try
            {
                _decoder.FreeSlot(sequence.Slot);
            }
#pragma warning disable CA1031 // Freeing never throws by contract; if it does, the slot is still given back.
            catch (Exception)
#pragma warning restore CA1031
            {
            }

            _slotInUse[sequence.Slot] = false;
            sequence.Slot = -1;
            _budget.Release(sequence.Reservation);
            Interlocked.Decrement(ref _activeCount);
        }

        sequence.Sampling?.Dispose();
        sequence.CancellationRegistration.Dispose();
        sequence.Writer.TryComplete(error);
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

    private static void Check(bool valid, string name, int value, string rule)
    {
        if (!valid)
        {
            throw new ArgumentOutOfRangeException(name, value, Invariant($"{name} {rule}; got {value}."));
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
