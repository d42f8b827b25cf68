using AutoGlm.Execution;
using Microsoft.Extensions.Logging;

namespace AutoGlm;

/// <summary>How a <see cref="GlmModel"/> is loaded and how it serves requests.</summary>
/// <remarks>Immutable once passed to <see cref="GlmModel.Load"/>; safe to share.</remarks>
public sealed record GlmModelOptions
{
    /// <summary>Where the model runs; <see cref="Execution.ExecutionProvider.Cpu"/> by default.</summary>
    public ExecutionProvider ExecutionProvider { get; init; } = ExecutionProvider.Cpu;

    /// <summary>Threads ONNX Runtime uses inside one operator; 0 lets it choose (one per physical core).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>The most sequences decoded together in one step, 1 to 256; 8 by default.</summary>
    public int MaxBatchSize { get; init; } = 8;

    /// <summary>The most positions (prompt + generated) one request may use; null means the model's context length.</summary>
    public int? MaxSequenceLength { get; init; }

    /// <summary>The KV cache budget in tokens over all running requests; null means <see cref="MaxBatchSize"/> × the max sequence length.</summary>
    public int? KvBudgetTokens { get; init; }

    /// <summary>The most requests that may wait; one more is rejected with <see cref="QueueFullException"/>. 64 by default.</summary>
    public int QueueCapacity { get; init; } = 64;

    /// <summary>The most prompt tokens read between two decode steps, bounding the latency running requests see while a long prompt is read; 256 by default.</summary>
    public int PrefillChunkTokens { get; init; } = 256;

    /// <summary>
    /// Whether a finished request's KV cache is kept (in an otherwise idle slot, evicted least recently used first
    /// whenever a running request needs the slot or budget) so that a later prompt starting with the same tokens —
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
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range; the message quotes it.</exception>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(ExecutionProvider);
        ArgumentNullException.ThrowIfNull(TimeProvider);
        if (!Enum.IsDefined(WeightLoading))
        {
            throw new ArgumentOutOfRangeException(nameof(WeightLoading), WeightLoading, $"WeightLoading must be Packed or Mapped, not {(int)WeightLoading}.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(IntraOpThreads, nameof(IntraOpThreads));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxBatchSize, nameof(MaxBatchSize));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxBatchSize, 256, nameof(MaxBatchSize));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(QueueCapacity, nameof(QueueCapacity));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(PrefillChunkTokens, nameof(PrefillChunkTokens));
        if (MaxSequenceLength is int max)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max, nameof(MaxSequenceLength));
        }

        if (KvBudgetTokens is int budget)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(budget, nameof(KvBudgetTokens));
        }
    }
}
