using System.Threading.Channels;

namespace AutoGlm.Generation;

/// <summary>
/// One request as the scheduler sees it: prompt, options, progress through prefill and decoding, its slot and
/// reservation, the per-sequence sampling and text state, and the channel its tokens stream through.
/// </summary>
/// <remarks>
/// Fields are written by the scheduler loop only; the consumer reads the timings and finish reason after the
/// channel completes (which orders those writes before the reads). <see cref="RequestCancel"/> may be called
/// from any thread.
/// </remarks>
internal sealed class GenerationSequence
{
    private readonly Channel<GeneratedToken> _channel = Channel.CreateUnbounded<GeneratedToken>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = true, AllowSynchronousContinuations = false });

    private volatile bool _cancelRequested;

    public GenerationSequence(int[] prompt, GenerationOptions options, int maxNewTokens, long seed, long submittedAt)
    {
        Prompt = prompt;
        Options = options;
        MaxNewTokens = maxNewTokens;
        Seed = seed;
        SubmittedAt = submittedAt;
    }

    public int[] Prompt { get; }

    public GenerationOptions Options { get; }

    /// <summary>Gets the new-token limit after clamping to the model's context.</summary>
    public int MaxNewTokens { get; }

    public long Seed { get; }

    /// <summary>Gets the KV positions this sequence reserves: its prompt and every new token.</summary>
    public int Reservation => Prompt.Length + MaxNewTokens;

    public long SubmittedAt { get; }

    public ChannelReader<GeneratedToken> Reader => _channel.Reader;

    public ChannelWriter<GeneratedToken> Writer => _channel.Writer;

    public bool CancelRequested => _cancelRequested;

    public CancellationToken CancellationToken { get; set; }

    public CancellationTokenRegistration CancellationRegistration { get; set; }

    /// <summary>Gets or sets the slot while admitted; -1 before admission and after retirement.</summary>
    public int Slot { get; set; } = -1;

    public bool Finished { get; set; }

    /// <summary>Gets or sets how many tokens the slot's KV cache holds.</summary>
    public int PastLength { get; set; }

    public bool IsPrefilling => PastLength < Prompt.Length;

    /// <summary>Gets or sets the token to feed at the next decode step (the last one sampled).</summary>
    public int NextInput { get; set; }

    public int Generated { get; set; }

    public SamplingState? Sampling { get; set; }

    public StopSequenceMatcher? StopMatcher { get; set; }

    /// <summary>Gets or sets the position in the request's constraint, when it has one.</summary>
    public Constraints.GrammarState? Grammar { get; set; }

    public ITokenTextStream? Text { get; set; }

    public TimeSpan QueueTime { get; set; }

    public TimeSpan FirstTokenAt { get; set; }

    public TimeSpan LastTokenAt { get; set; }

    public FinishReason FinishReason { get; set; }

    public GenerationTimings Timings => new(
        QueueTime,
        FirstTokenAt,
        LastTokenAt,
        Generated > 1 ? (LastTokenAt - FirstTokenAt) / (Generated - 1) : TimeSpan.Zero);

    /// <summary>Marks the request cancelled; the loop retires it before its next step.</summary>
    public void RequestCancel() => _cancelRequested = true;
}
