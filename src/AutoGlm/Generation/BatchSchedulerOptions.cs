namespace AutoGlm.Generation;

/// <summary>How a <see cref="BatchScheduler"/> queues, admits and prefills requests.</summary>
/// <remarks>Immutable; safe to share.</remarks>
internal sealed record BatchSchedulerOptions
{
    /// <summary>Gets the most requests that may wait for admission; one more is rejected with <see cref="QueueFullException"/>.</summary>
    public int QueueCapacity { get; init; } = 64;

    /// <summary>Gets the KV budget in tokens for all running sequences together; <see langword="null"/> means <c>MaxBatchSize × MaxSequenceLength</c>.</summary>
    public int? KvBudgetTokens { get; init; }

    /// <summary>
    /// Gets the most prompt tokens prefilled between two decode steps, so that running sequences keep a bounded
    /// inter-token latency while long prompts are read.
    /// </summary>
    public int PrefillChunkTokens { get; init; } = 256;

    /// <summary>Gets a value indicating whether finished sequences' KV is parked for prompts that start with the same tokens (see <see cref="KvSlotTable"/>).</summary>
    public bool PrefixReuse { get; init; }

    /// <summary>Gets the model's end-of-sequence token ids (from <c>generation_config.json</c>).</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    /// <summary>
    /// Gets the meter the scheduler's instruments are created on (normally named <c>AutoGlm</c>, from an
    /// <c>IMeterFactory</c>); <see langword="null"/> records nothing.
    /// </summary>
    public System.Diagnostics.Metrics.Meter? Meter { get; init; }

    /// <summary>Gets how the KV bytes held are read for <c>autoglm.kv_cache.memory</c>; <see langword="null"/> reports nothing.</summary>
    public Func<long>? KvBytesHeld { get; init; }

    /// <summary>Gets the clock used for timings.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
