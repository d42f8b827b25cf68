using AutoGlm.Execution;
using AutoGlm.Generation;
using AutoGlm.Models;
using AutoGlm.Runtime;
using AutoGlm.Tokenization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AutoGlm;

/// <summary>
/// A loaded GLM model serving generation requests: any number of callers may generate concurrently; their
/// requests are batched together continuously (each decode step runs every active sequence at once) and
/// tokens stream back as they are sampled.
/// </summary>
/// <remarks>
/// Thread-safe. Dispose stops accepting requests, cancels those in flight (their callers see
/// <see cref="ObjectDisposedException"/> or <see cref="OperationCanceledException"/>), then releases the session and the weights.
/// </remarks>
public sealed class GlmModel : IDisposable, IAsyncDisposable
{
    private static int s_managedPathWarmedUp;

    private readonly ModelSession _session;
    private readonly OnnxBatchDecoder _decoder;
    private readonly BatchScheduler _scheduler;
    private int _disposed;

    private GlmModel(ModelSession session, Tokenizer tokenizer, OnnxBatchDecoder decoder, BatchScheduler scheduler, GlmModelOptions options)
    {
        _session = session;
        Tokenizer = tokenizer;
        _decoder = decoder;
        _scheduler = scheduler;
        Options = options;
    }

    /// <summary>What the model folder describes.</summary>
    public GlmModelInfo Info => _session.Info;

    /// <summary>The model's tokenizer.</summary>
    public Tokenizer Tokenizer { get; }

    /// <summary>The options the model was loaded with.</summary>
    public GlmModelOptions Options { get; }

    /// <summary>The execution provider in use, and why others were rejected.</summary>
    public ExecutionProviderSelection ExecutionProvider => _session.Provider;

    /// <summary>How the weights were loaded (<see cref="GlmModelOptions.WeightLoading"/>).</summary>
    public WeightLoading WeightLoading => _session.WeightLoading;

    /// <summary>The most positions (prompt + generated tokens) one request may use.</summary>
    public int MaxSequenceLength => _decoder.MaxSequenceLength;

    /// <summary>Requests waiting for admission.</summary>
    public int QueuedRequestCount => _scheduler.QueuedRequestCount;

    /// <summary>Requests being prefilled or decoded.</summary>
    public int ActiveRequestCount => _scheduler.ActiveSequenceCount;

    /// <summary>KV cache tokens reserved by running requests.</summary>
    public int KvTokensInUse => _scheduler.KvTokensInUse;

    /// <summary>The KV cache budget in tokens.</summary>
    public int KvBudgetTokens => _scheduler.KvBudgetTokens;

    /// <summary>
    /// Bytes of address space the KV cache spans now: rows × the longest row. It grows with the requests in flight; when
    /// idle the rows are re-laid at the shortest width in the same mapping, none of its pages held (see <see cref="KvBytesResident"/>).
    /// </summary>
    public long KvBytesAllocated => _decoder.KvBytesAllocated;

    /// <summary>
    /// Bytes of KV cache memory held now: on Linux the pages the requests' tokens occupy (a finished request's pages are
    /// given back, lazily: the kernel reclaims them when it needs memory); on other systems the same as <see cref="KvBytesAllocated"/>. Also reported as <c>autoglm.kv_cache.memory</c>.
    /// </summary>
    public long KvBytesResident => _decoder.KvBytesResident;

    /// <summary>KV positions the sequences hold now (running and, with prefix reuse, kept ones), summed.</summary>
    internal int KvTokensHeld => _decoder.KvTokensHeld;

    /// <summary>Sequences holding KV now (running and kept ones).</summary>
    internal int KvSequencesHeld => _decoder.KvSlotsHeld;

    /// <summary>Reads KV bytes held, positions held and sequences holding them as one consistent snapshot (false: torn, retry).</summary>
    internal bool TryReadKv(out long bytes, out int tokens, out int sequences) => _decoder.TryReadKv(out bytes, out tokens, out sequences);

    /// <summary>Running requests preempted so far: their KV was dropped to make room for another's next block, and recomputed when they resumed.</summary>
    public long KvPreemptions => _scheduler.PreemptionCount;

    /// <summary>Model steps run so far.</summary>
    public long StepCount => _scheduler.StepCount;

    /// <summary>Loads the model folder at <paramref name="path"/>.</summary>
    /// <exception cref="ModelLoadException">A file is missing, malformed or inconsistent; the message names it.</exception>
    /// <exception cref="TokenizerException">The tokenizer files are malformed.</exception>
    /// <exception cref="ExecutionProviderUnavailableException">The requested provider cannot run here.</exception>
    /// <exception cref="OnnxRuntimeLoadException">ONNX Runtime cannot be loaded.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <remarks>Synchronous: with <see cref="GlmModelOptions.WarmUp"/> it also waits for the warm-up generation; <see cref="LoadAsync"/> awaits it instead.</remarks>
    public static GlmModel Load(string path, GlmModelOptions? options = null) => LoadWithDecorator(path, options, decorateDecoder: null);

    /// <summary>Loads the model with the decoder wrapped by <paramref name="decorateDecoder"/> (tests steer the model's output this way).</summary>
    internal static GlmModel LoadWithDecorator(string path, GlmModelOptions? options, Func<IBatchDecoder, IBatchDecoder>? decorateDecoder)
    {
        GlmModel model = Open(path, options, decorateDecoder);
        if (model.Options.WarmUp)
        {
            try
            {
                // The one synchronous wait, in the synchronous API only: the scheduler runs on its own thread and completes the
                // warm-up without needing the caller's thread or synchronization context.
                model.WarmUpAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
            }
            catch
            {
                model.Dispose();
                throw;
            }
        }

        return model;
    }

    /// <summary>Loads the model without warming it up.</summary>
    private static GlmModel Open(string path, GlmModelOptions? options, Func<IBatchDecoder, IBatchDecoder>? decorateDecoder)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new GlmModelOptions();
        options.Validate();
        ILogger logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("AutoGlm");
        if (options.LoggerFactory is not null && OrtRuntime.Logger is NullLogger)
        {
            // ONNX Runtime has one log for the process: the first model given a logger factory routes it.
            OrtRuntime.Logger = options.LoggerFactory.CreateLogger("AutoGlm.OnnxRuntime");
        }

        GlmModelInfo info = ModelFolder.Read(path);
        int maxSequence = Math.Min(options.MaxSequenceLength ?? info.ContextLength, info.ContextLength);
        if (options.KvBudgetTokens is int budget && budget < Math.Min(maxSequence, 2))
        {
            throw new ArgumentOutOfRangeException(nameof(options), budget, $"KvBudgetTokens ({budget}) is too small to hold any request.");
        }

        if ((long)options.MaxBatchSize * info.VocabularySize > ModelLimits.MaxLogitsFloats)
        {
            throw new ArgumentOutOfRangeException(
                nameof(options),
                options.MaxBatchSize,
                $"GlmModelOptions.MaxBatchSize {options.MaxBatchSize} × the vocabulary of {info.VocabularySize} tokens needs {(long)options.MaxBatchSize * info.VocabularySize * 4 / (1 << 20)} MiB of logits per step, more than the 1024 MiB AutoGlm allows; lower MaxBatchSize to at most {ModelLimits.MaxLogitsFloats / info.VocabularySize}.");
        }

        Tokenizer tokenizer = Tokenizer.Load(info.FolderPath);
        ModelSession session = ModelSession.Open(info, options.ExecutionProvider, options.IntraOpThreads, options.WeightLoading, logger, options.OnnxRuntimeSessionConfig);
        OnnxBatchDecoder? decoder = null;
        try
        {
            decoder = new OnnxBatchDecoder(session.Session, info, options.MaxBatchSize, maxSequence);
            OnnxBatchDecoder storage = decoder;
            IBatchDecoder stepper = decorateDecoder?.Invoke(decoder) ?? decoder;
            var scheduler = new BatchScheduler(stepper, new TokenizerTextDecoder(tokenizer), new BatchSchedulerOptions
            {
                QueueCapacity = options.QueueCapacity,
                KvBudgetTokens = options.KvBudgetTokens,
                PrefillChunkTokens = options.PrefillChunkTokens,
                PrefixReuse = options.PrefixReuse,
                EosTokenIds = info.EosTokenIds,
                TimeProvider = options.TimeProvider,
                Meter = options.MeterFactory?.Create(new System.Diagnostics.Metrics.MeterOptions("AutoGlm")),
                KvBytesHeld = () => storage.KvBytesResident,
            });
            var model = new GlmModel(session, tokenizer, decoder, scheduler, options);
            return model;
        }
        catch
        {
            decoder?.Dispose();
            session.Dispose();
            throw;
        }
    }

    /// <summary>Loads the model folder at <paramref name="path"/> without blocking the caller's thread.</summary>
    /// <inheritdoc cref="Load" path="/exception"/>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired before loading finished.</exception>
    public static async Task<GlmModel> LoadAsync(string path, GlmModelOptions? options = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        GlmModel model = await Task.Run(() => Open(path, options, decorateDecoder: null), cancellationToken).ConfigureAwait(false);
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (model.Options.WarmUp)
            {
                await model.WarmUpAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            await model.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return model;
    }

    /// <summary>Encodes <paramref name="prompt"/> (special tokens such as <c>[gMASK]</c> recognised) and streams the generated tokens.</summary>
    /// <exception cref="ArgumentException">The prompt is empty or does not fit in the model's context (the message states both lengths).</exception>
    /// <exception cref="QueueFullException">(On enumeration) too many requests are waiting.</exception>
    /// <exception cref="ObjectDisposedException">The model is disposed.</exception>
    /// <exception cref="OperationCanceledException">(On enumeration) <paramref name="cancellationToken"/> fired.</exception>
    public IAsyncEnumerable<GeneratedToken> GenerateStreamingAsync(string prompt, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        return GenerateStreamingAsync(Tokenizer.Encode(prompt), options, cancellationToken);
    }

    /// <summary>Streams the tokens generated after <paramref name="promptTokenIds"/>.</summary>
    /// <inheritdoc cref="GenerateStreamingAsync(string, GenerationOptions?, CancellationToken)" path="/exception"/>
    public IAsyncEnumerable<GeneratedToken> GenerateStreamingAsync(IReadOnlyList<int> promptTokenIds, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _scheduler.GenerateStreamingAsync(promptTokenIds, options, cancellationToken);
    }

    /// <summary>Generates after <paramref name="prompt"/> and returns the whole result with usage, finish reason and timings.</summary>
    /// <inheritdoc cref="GenerateStreamingAsync(string, GenerationOptions?, CancellationToken)" path="/exception"/>
    public Task<GenerationResult> GenerateAsync(string prompt, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        return GenerateAsync(Tokenizer.Encode(prompt), options, cancellationToken);
    }

    /// <summary>Generates after <paramref name="promptTokenIds"/> and returns the whole result.</summary>
    /// <inheritdoc cref="GenerateStreamingAsync(string, GenerationOptions?, CancellationToken)" path="/exception"/>
    public Task<GenerationResult> GenerateAsync(IReadOnlyList<int> promptTokenIds, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _scheduler.GenerateAsync(promptTokenIds, options, cancellationToken);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _scheduler.Dispose();
        _decoder.Dispose();
        _session.Dispose();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _scheduler.DisposeAsync().ConfigureAwait(false);
        _decoder.Dispose();
        _session.Dispose();
    }

    private async ValueTask WarmUpAsync(CancellationToken cancellationToken)
    {
        // The managed per-token path first (no model runs; stops once the JIT is quiet), then one real request.
        // Compiled code is shared by the whole process, so only the first model loaded pays for it.
        if (Interlocked.Exchange(ref s_managedPathWarmedUp, 1) == 0)
        {
            await Task.Run(() => ManagedPathWarmUp.Run(new TokenizerTextDecoder(Tokenizer), Info.VocabularySize, Info.EosTokenIds, TimeSpan.FromSeconds(5), cancellationToken), cancellationToken).ConfigureAwait(false);
        }

        int first = Info.EosTokenIds.Count > 0 ? Info.EosTokenIds[0] : 0;
        await foreach (GeneratedToken _ in _scheduler.GenerateStreamingAsync([first, first], new GenerationOptions { MaxNewTokens = 2, IgnoreEos = true, ExcludeFromMetrics = true }, cancellationToken).ConfigureAwait(false))
        {
        }
    }
}
