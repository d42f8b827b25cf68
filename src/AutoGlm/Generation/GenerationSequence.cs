using System.Buffers;
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

    /// <summary>Gets the most KV positions this sequence can ever hold: its prompt and every new token (the decoder's capacity for its slot).</summary>
    public int MaxPositions => Prompt.Length + MaxNewTokens;

    /// <summary>
    /// Gets or sets the KV positions of the budget this sequence holds now: whole blocks (see
    /// <see cref="KvCacheBudget.BlockTokens"/>) covering the positions it has fed or is about to feed, at most
    /// <see cref="MaxPositions"/>; 0 while queued.
    /// </summary>
    public int Reservation { get; set; }

    /// <summary>
    /// Gets the tokens a prefill feeds: the prompt, or after a preemption the prompt followed by the output
    /// (<see cref="History"/>), whose first <see cref="PrefillLength"/> tokens rebuild the KV that was dropped.
    /// </summary>
    public int[] PrefillTokens => Generated > 0 ? History! : Prompt;

    /// <summary>
    /// Gets the positions prefill must fill before decoding: the prompt, or after a preemption the prompt and all
    /// output but the last token (which the next decode step feeds, as it would have without the preemption).
    /// </summary>
    public int PrefillLength => Generated > 0 ? Prompt.Length + Generated - 1 : Prompt.Length;

    /// <summary>Gets the prompt and the output so far: what the KV must hold before the next sample, plus the next input.</summary>
    public ReadOnlySpan<int> Context => Generated > 0 ? History.AsSpan(0, Prompt.Length + Generated) : Prompt;

    /// <summary>Gets how many times this sequence was preempted (its KV dropped to make room, then recomputed).</summary>
    public int Preemptions { get; private set; }

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

    public bool IsPrefilling => PastLength < PrefillLength;

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

    /// <summary>
    /// Takes the sequence out of its slot to give its KV to others (the caller frees the slot and the reservation): it
    /// goes back to the queue and, when admitted again, prefills <see cref="PrefillTokens"/> to rebuild its KV.
    /// </summary>
    public void Preempt()
    {
        Slot = -1;
        PastLength = 0;
        Reservation = 0;
        Preemptions++;
    }

    /// <summary>Marks the request cancelled; the loop retires it before its next step.</summary>
    public void RequestCancel() => _cancelRequested = true;

    /// <summary>
    /// Gets the tokens fed or to be fed (prompt, then output), recorded from <see cref="Start"/> on: prefix reuse
    /// parks them with the slot, and a preempted sequence is recomputed from them. <see langword="null"/> before the start.
    /// </summary>
    public int[]? History { get; private set; }

    /// <summary>
    /// Starts the sequence in <paramref name="slot"/>, whose KV already holds the first <paramref name="reusedTokens"/>
    /// of <see cref="PrefillTokens"/>: the first time, creates its sampling, stop-matching and text state and the token
    /// history; after a preemption, that state carries on unchanged (no token is emitted twice, the random stream,
    /// penalties, stop matcher and grammar continue where they were).
    /// </summary>
    public void Start(int slot, int reusedTokens, TimeSpan queueTime, int vocabularySize, ITokenTextDecoder textDecoder)
    {
        Slot = slot;
        PastLength = reusedTokens;
        if (Sampling is not null)
        {
            return;
        }

        // Pooled: an array per request sized by its token limit would be allocation that grows with every token allowed.
        History = ArrayPool<int>.Shared.Rent(MaxPositions);
        Prompt.CopyTo(History, 0);

        QueueTime = queueTime;
        Sampling = new SamplingState(Options, vocabularySize, Prompt, MaxNewTokens, Seed);
        StopMatcher = new StopSequenceMatcher(Options.StopSequences);
        Grammar = Options.Constraint is { } constraint ? new Constraints.GrammarState(constraint.Grammar) : null;
        Text = textDecoder.CreateStream();
    }

    /// <summary>
    /// Takes the sampled <paramref name="token"/>: records it, decides whether the sequence ends here (an EOS or
    /// stop token, a stop sequence, or the token limit), and streams it with the text it releases.
    /// </summary>
    /// <returns>Why the sequence ended, or <see langword="null"/> when it goes on.</returns>
    public FinishReason? Emit(int token, TimeSpan elapsed, ReadOnlySpan<int> eosTokenIds, (float Chosen, TokenLogProbability[] Top)? logProbabilities = null)
    {
        int index = Generated++;
        if (index == 0)
        {
            FirstTokenAt = elapsed;
        }

        LastTokenAt = elapsed;
        NextInput = token;
        if (History is { } history && Prompt.Length + index < history.Length)
        {
            history[Prompt.Length + index] = token;
        }

        StopSequenceMatcher matcher = StopMatcher!;
        string text;
        FinishReason? finish = null;
        if (IsStopToken(token, eosTokenIds))
        {
            text = FinalText();
            finish = FinishReason.Stop;
        }
        else
        {
            text = matcher.Append(Text!.Append(token));
            if (matcher.IsStopped)
            {
                finish = FinishReason.Stop;
            }
            else if (Generated >= MaxNewTokens || Grammar?.DeadEnd == true)
            {
                text += FinalText();
                finish = matcher.IsStopped ? FinishReason.Stop : FinishReason.Length;
            }
        }

        Writer.TryWrite(logProbabilities is { } probabilities
            ? new GeneratedToken(token, text, index, elapsed, finish) { LogProbability = probabilities.Chosen, TopLogProbabilities = probabilities.Top }
            : new GeneratedToken(token, text, index, elapsed, finish));
        return finish;
    }

    /// <summary>Ends the stream (with <paramref name="error"/> unless <see langword="null"/>) and releases the per-sequence state. The slot is the caller's to free.</summary>
    public void Complete(FinishReason reason, Exception? error)
    {
        Finished = true;
        FinishReason = reason;
        Slot = -1;
        Sampling?.Dispose();
        if (History is { } history)
        {
            History = null;
            ArrayPool<int>.Shared.Return(history);
        }

        CancellationRegistration.Dispose();
        Writer.TryComplete(error);
    }

    /// <summary>Hands the token history over to the caller (prefix reuse keeps it with the parked KV); the sequence no longer holds or returns it.</summary>
    public int[] TakeHistory()
    {
        int[] history = History ?? throw new InvalidOperationException("The sequence has no token history.");
        History = null;
        return history;
    }

    private bool IsStopToken(int token, ReadOnlySpan<int> eosTokenIds)
    {
        if (!Options.IgnoreEos && eosTokenIds.Contains(token))
        {
            return true;
        }

        IReadOnlyList<int> stopIds = Options.StopTokenIds;
        for (int i = 0; i < stopIds.Count; i++)
        {
            if (stopIds[i] == token)
            {
                return true;
            }
        }

        return false;
    }

    // The text still held by the detokenizer and the stop matcher when a sequence ends for another reason.
    private string FinalText()
    {
        StopSequenceMatcher matcher = StopMatcher!;
        string rest = Text!.Flush();
        string released = rest.Length > 0 ? matcher.Append(rest) : string.Empty;
        return matcher.IsStopped ? released : released + matcher.Flush();
    }
}
