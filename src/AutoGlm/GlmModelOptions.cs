using AutoGlm.Execution;
using Microsoft.Extensions.Logging;

namespace AutoGlm;

/// <summary>How a <see cref="GlmModel"/> is loaded and how it serves requests.</summary>
/// <remarks>Immutable once passed to <see cref="GlmModel.Load"/>; safe to share.</remarks>
public sealed record GlmModelOptions
{
    /// <summary>Where the model runs; <see cref="Execution.ExecutionProvider.Cpu"/> by default.</summary>
    public ExecutionProvider ExecutionProvider { get; init; } = ExecutionProvider.Cpu;

    /// <summary>The most sequences <see cref="MaxBatchSize"/> may allow.</summary>
    public const int MaxBatchSizeLimit = 256;

    /// <summary>The largest <see cref="QueueCapacity"/>.</summary>
    public const int MaxQueueCapacity = 1_000_000;

    /// <summary>The largest <see cref="PrefillChunkTokens"/>.</summary>
    public const int MaxPrefillChunkTokens = 65_536;

    /// <summary>The largest <see cref="MaxSequenceLength"/> and <see cref="KvBudgetTokens"/>: 16 Mi tokens.</summary>
    public const int MaxTokens = Models.ModelLimits.MaxContextLength;

    /// <summary>
    /// The most <see cref="IntraOpThreads"/>: four per logical processor. More threads than that only contend (300 on
    /// two cores hung a run) and ONNX Runtime crashes the process creating very large pools (100,000).
    /// </summary>
    public static int MaxIntraOpThreads => 4 * Environment.ProcessorCount;

    /// <summary>Threads ONNX Runtime uses inside one operator; 0 lets it choose (one per physical core); at most <see cref="MaxIntraOpThreads"/>.</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>The most sequences decoded together in one step, 1 to 256; 8 by default.</summary>
    public int MaxBatchSize { get; init; } = 8;

    /// <summary>The most positions (prompt + generated) one request may use; null means the model's context length.</summary>
    public int? MaxSequenceLength { get; init; }

    /// <summary>
    /// The KV cache budget in tokens over all running requests; null means <see cref="MaxBatchSize"/> × the max sequence length.
    /// Requests reserve it in blocks of 16 positions as they use them; when a running request needs a block and none is free,
    /// the youngest other request is preempted and later recomputed. A request whose prompt plus MaxNewTokens exceeds it is rejected.
    /// </summary>
    public int? KvBudgetTokens { get; init; }

    /// <summary>The most requests that may wait; one more is rejected with <see cref="QueueFullException"/>. 64 by default.</summary>
    public int QueueCapacity { get; init; } = 64;

    /// <summary>The most prompt tokens read between two decode steps, bounding the latency running requests see while a long prompt is read; 256 by default.</summary>
    public int PrefillChunkTokens { get; init; } = 256;

    /// <summary>
    /// Whether a finished request's KV cache is kept (copied out of its slot, so it never keeps a running request out
    /// of one; counted in the KV budget and evicted least recently used first, KV a queued request continues last, whenever a running request needs the budget) so that a later prompt starting with the same tokens —
    /// the next turn of a conversation, a shared system prompt — skips reading them again. Matched on tokens alone.
    /// Off by default: with it on, KV memory stays allocated after requests finish.
    /// </summary>
    public bool PrefixReuse { get; init; }

    /// <summary>
    /// How the weights reach ONNX Runtime's kernels: <see cref="AutoGlm.WeightLoading.Packed"/> (the default, fastest
    /// decoding) or <see cref="AutoGlm.WeightLoading.Mapped"/> (near-instant load, pages shared between processes, slower
    /// fp32/fp16 decoding; refused for int4). Measured trade-offs: benchmarks/results/WeightLoading.md.
    /// </summary>
    public WeightLoading WeightLoading { get; init; } = WeightLoading.Packed;

    /// <summary>The longest key ONNX Runtime accepts in a session config entry.</summary>
    public const int MaxSessionConfigKeyLength = 128;

    /// <summary>The longest value ONNX Runtime accepts in a session config entry.</summary>
    public const int MaxSessionConfigValueLength = 1024;

    /// <summary>
    /// ONNX Runtime session config entries (<c>SessionOptions.AddSessionConfigEntry</c>, e.g.
    /// <c>session.intra_op.allow_spinning</c> = <c>0</c>) for tuning beyond these options; none by default. They
    /// take precedence over AutoGlm's own entries (AutoGlm sets <c>session.force_spinning_stop</c> = <c>1</c>,
    /// and <c>session.disable_prepacking</c> = <c>1</c> for <see cref="AutoGlm.WeightLoading.Mapped"/>). ONNX Runtime
    /// ignores keys it does not know; keys are at most 128 characters, values at most 1024.
    /// </summary>
    public IReadOnlyDictionary<string, string>? OnnxRuntimeSessionConfig { get; init; }

    /// <summary>Whether <see cref="GlmModel.Load"/> runs one short generation so the first request does not pay for warm-up.</summary>
    public bool WarmUp { get; init; } = true;

    /// <summary>Where log messages go; none by default.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>
    /// Creates the <c>AutoGlm</c> meter the model records its metrics on (time to first token, time per output token,
    /// request duration, token usage, queue depth, batch size, KV cache usage); none by default.
    /// </summary>
    public System.Diagnostics.Metrics.IMeterFactory? MeterFactory { get; init; }

    /// <summary>The clock for timings; the system clock by default.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Checks every value, naming the bad one.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range; the message names the option, quotes the value and gives the allowed range.</exception>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(ExecutionProvider);
        ArgumentNullException.ThrowIfNull(TimeProvider);
        if (!Enum.IsDefined(WeightLoading))
        {
            throw new ArgumentOutOfRangeException(nameof(WeightLoading), WeightLoading, $"WeightLoading must be Packed or Mapped, not {(int)WeightLoading}.");
        }

        Check(IntraOpThreads, 0, MaxIntraOpThreads, nameof(IntraOpThreads), $"0 lets ONNX Runtime choose; at most 4 × the {Environment.ProcessorCount} logical processors");
        Check(MaxBatchSize, 1, MaxBatchSizeLimit, nameof(MaxBatchSize), null);
        Check(QueueCapacity, 1, MaxQueueCapacity, nameof(QueueCapacity), null);
        Check(PrefillChunkTokens, 1, MaxPrefillChunkTokens, nameof(PrefillChunkTokens), null);
        if (MaxSequenceLength is int max)
        {
            Check(max, 1, MaxTokens, nameof(MaxSequenceLength), "leave it unset for the model's context length");
        }

        if (KvBudgetTokens is int budget)
        {
            Check(budget, 1, MaxTokens, nameof(KvBudgetTokens), "leave it unset for MaxBatchSize × the max sequence length");
        }

        if (OnnxRuntimeSessionConfig is not null && FindBadSessionConfigEntry(OnnxRuntimeSessionConfig) is { } problem)
        {
            throw new ArgumentException($"GlmModelOptions.{nameof(OnnxRuntimeSessionConfig)}: {problem}", nameof(OnnxRuntimeSessionConfig));
        }
    }

    /// <summary>What is wrong with the first bad entry of <paramref name="entries"/>, or null when all are well formed.</summary>
    internal static string? FindBadSessionConfigEntry(IReadOnlyDictionary<string, string> entries)
    {
        foreach ((string key, string? value) in entries)
        {
            if (string.IsNullOrWhiteSpace(key))
            {
                return "a key is empty; use ONNX Runtime's dotted key names, e.g. 'session.intra_op.allow_spinning'.";
            }

            if (key.Length > MaxSessionConfigKeyLength)
            {
                return $"the key '{key[..40]}…' has {key.Length} characters; ONNX Runtime allows at most {MaxSessionConfigKeyLength}.";
            }

            if (value is null)
            {
                return $"the value of '{key}' is null; give a string such as \"0\" or \"1\".";
            }

            if (value.Length > MaxSessionConfigValueLength)
            {
                return $"the value of '{key}' has {value.Length} characters; ONNX Runtime allows at most {MaxSessionConfigValueLength}.";
            }
        }

        return null;
    }

    private static void Check(int value, int min, int max, string name, string? hint)
    {
        if (value < min || value > max)
        {
            throw new ArgumentOutOfRangeException(
                name,
                value,
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"GlmModelOptions.{name} must be between {min} and {max}; got {value}.{(hint is null ? "" : $" ({hint}.)")}"));
        }
    }
}
