namespace AutoGlm.Extensions.Hosting;

/// <summary>A snapshot of a <see cref="GlmModelHost"/>: its state, the models it serves and how busy they are.</summary>
/// <remarks>Immutable; safe to share between threads. The counts are read one after the other, not atomically together.</remarks>
public sealed record GlmModelHostStatus
{
    /// <summary>Where the host is in its life.</summary>
    public required GlmModelHostState State { get; init; }

    /// <summary>The folder of the model that takes the main share of requests (loaded or not).</summary>
    public required string ModelPath { get; init; }

    /// <summary>The folder of the candidate model in a gradual rollout, or null when there is none.</summary>
    public string? CandidateModelPath { get; init; }

    /// <summary>The share of new requests (0 to 1) routed to the candidate model.</summary>
    public double CandidateTrafficShare { get; init; }

    /// <summary>Requests that hold a model now: waiting in a model's queue, running, or streaming their answer.</summary>
    public int RequestsInFlight { get; init; }

    /// <summary>Requests waiting in the loaded models' queues.</summary>
    public int QueuedRequests { get; init; }

    /// <summary>The loaded models' total queue capacity (0 when none is loaded).</summary>
    public int QueueCapacity { get; init; }

    /// <summary>Requests being prefilled or decoded by the loaded models.</summary>
    public int ActiveRequests { get; init; }

    /// <summary>KV cache tokens reserved by running requests.</summary>
    public int KvTokensInUse { get; init; }

    /// <summary>The loaded models' total KV cache budget in tokens (0 when none is loaded).</summary>
    public int KvBudgetTokens { get; init; }

    /// <summary>Why the last load failed, when <see cref="State"/> is <see cref="GlmModelHostState.Failed"/>.</summary>
    public Exception? LoadError { get; init; }
}
