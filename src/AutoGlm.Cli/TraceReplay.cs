using System.Diagnostics;
using AutoGlm.Generation;

namespace AutoGlm.Cli;

/// <summary>
/// Plays a <see cref="ChatTrace"/> against a loaded model in real time and measures what its users see: time to
/// first token, inter-token latency, end-to-end latency (each p50/p95/p99), throughput, the KV memory held
/// (sampled every 5 ms: peak bytes, the worst ratio of bytes held to bytes the tokens held in KV need, and the worst
/// ratio to the bound <c>1.25 × needed + one block per sequence</c>), preemptions, failures, and the time to first
/// token by turn number (later turns resend longer histories).
/// </summary>
/// <remarks>
/// "Tokens held in KV" are the positions the model's slots hold at the sample (running sequences and, with prefix
/// reuse, kept ones), not the tokens of requests submitted: a queued request holds no KV, a kept prefix does.
/// </remarks>
/// <remarks>Not thread-safe; run one replay at a time on a model, with no other requests in flight.</remarks>
internal static class TraceReplay
{
    /// <summary>Plays <paramref name="trace"/> on <paramref name="model"/>.</summary>
    public static async Task<TraceReport> RunAsync(GlmModel model, ChatTrace trace, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(trace);
        var state = new RunState();
        long started = Stopwatch.GetTimestamp();
        long preemptionsBefore = model.KvPreemptions;
        using var sampling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task sampler = SampleKvAsync(model, state, sampling.Token);
        Task[] conversations = [.. trace.Conversations.Select(c => PlayAsync(model, trace.SystemPrompt, c, started, state, cancellationToken))];
        await Task.WhenAll(conversations).ConfigureAwait(false);
        double wall = Stopwatch.GetElapsedTime(started).TotalSeconds;
        await sampling.CancelAsync().ConfigureAwait(false);
        await sampler.ConfigureAwait(false);

        long bytesPerToken = model.Info.KvBytesPerToken;
        return new TraceReport
        {
            Model = model.Info.FolderPath,
            Requests = state.Requests,
            Failed = state.Failed,
            RejectedQueueFull = state.Rejected,
            SkippedForContext = state.Skipped,
            GeneratedTokens = state.Generated,
            PromptTokens = state.PromptTokens,
            WallSeconds = wall,
            TokensPerSecond = state.Generated / wall,
            TimeToFirstTokenMs = Percentiles.Of(state.FirstTokenMs),
            InterTokenMs = Percentiles.Of(state.InterTokenMs),
            EndToEndMs = Percentiles.Of(state.EndToEndMs),
            PeakKvBytes = state.PeakKvBytes,
            PeakKvTokensReserved = state.PeakKvTokens,
            KvBytesPerToken = bytesPerToken,
            PeakKvOverInFlight = state.PeakOverInFlight,
            WorstKvOverBound = state.WorstOverBound,
            WorstKvSample = state.WorstSample,
            KvBudgetTokens = model.KvBudgetTokens,
            Preemptions = model.KvPreemptions - preemptionsBefore,
            TimeToFirstTokenP50ByTurnMs = [.. state.FirstTokenByTurn.Select(t => ConcurrencySweep.Percentile(t, 0.5))],
            MeanPromptTokensByTurn = [.. state.PromptByTurn.Select(t => t.Count == 0 ? 0 : t.Average())],
        };
    }

    private static async Task PlayAsync(GlmModel model, int[] system, TraceConversation conversation, long started, RunState state, CancellationToken cancellationToken)
    {
        TimeSpan wait = TimeSpan.FromSeconds(conversation.StartSeconds) - Stopwatch.GetElapsedTime(started);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
        }

        var history = new List<int>(system);
        for (int turn = 0; turn < conversation.Turns.Count; turn++)
        {
            TraceTurn next = conversation.Turns[turn];
            history.AddRange(next.UserTokens);
            if (history.Count + next.AnswerTokens > model.MaxSequenceLength)
            {
                Interlocked.Increment(ref state.Skipped);
                return;
            }

            int[] answer = await AskAsync(model, [.. history], next.AnswerTokens, turn, state, cancellationToken).ConfigureAwait(false);
            if (answer.Length == 0)
            {
                return;
            }

            history.AddRange(answer);
            await Task.Delay(TimeSpan.FromSeconds(next.ThinkSeconds), cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<int[]> AskAsync(GlmModel model, int[] prompt, int answerTokens, int turn, RunState state, CancellationToken cancellationToken)
    {
        var options = new GenerationOptions { Temperature = 0f, MaxNewTokens = answerTokens, IgnoreEos = true };
        var tokens = new List<int>(answerTokens);
        var gaps = new List<double>(answerTokens);
        long submitted = Stopwatch.GetTimestamp();
        long last = submitted;
        double firstToken = 0;
        Interlocked.Increment(ref state.Requests);
        try
        {
            await foreach (GeneratedToken token in model.GenerateStreamingAsync(prompt, options, cancellationToken).ConfigureAwait(false))
            {
                long now = Stopwatch.GetTimestamp();
                if (tokens.Count == 0)
                {
                    firstToken = Stopwatch.GetElapsedTime(submitted, now).TotalMilliseconds;
                }
                else
                {
                    gaps.Add(Stopwatch.GetElapsedTime(last, now).TotalMilliseconds);
                }

                last = now;
                tokens.Add(token.Id);
            }
        }
        catch (QueueFullException)
        {
            // Back-pressure, not a failure: the client is told to retry later; the conversation ends here.
            Interlocked.Increment(ref state.Rejected);
            return [];
        }
        catch (Exception ex) when (ex is AutoGlmException or ArgumentException)
        {
            Interlocked.Increment(ref state.Failed);
            return [];
        }

        lock (state)
        {
            state.Generated += tokens.Count;
            state.PromptTokens += prompt.Length;
            state.FirstTokenMs.Add(firstToken);
            state.InterTokenMs.AddRange(gaps);
            state.EndToEndMs.Add(Stopwatch.GetElapsedTime(submitted).TotalMilliseconds);
            state.FirstTokenByTurn[Math.Min(turn, RunState.Turns - 1)].Add(firstToken);
            state.PromptByTurn[Math.Min(turn, RunState.Turns - 1)].Add(prompt.Length);
        }

        return [.. tokens];
    }

    private static async Task SampleKvAsync(GlmModel model, RunState state, CancellationToken cancellationToken)
    {
        long bytesPerToken = model.Info.KvBytesPerToken;
        while (!cancellationToken.IsCancellationRequested)
        {
            // The loop moves on while we read: a ratio is taken only from a snapshot it did not change midway.
            bool steady = model.TryReadKv(out long bytes, out int held, out int sequences);
            state.PeakKvBytes = Math.Max(state.PeakKvBytes, bytes);
            state.PeakKvTokens = Math.Max(state.PeakKvTokens, model.KvTokensInUse);
            if (steady && held > 0)
            {
                long needed = held * bytesPerToken;
                state.PeakOverInFlight = Math.Max(state.PeakOverInFlight, bytes / (double)needed);
                double bound = (1.25 * needed) + ((long)sequences * KvCacheBudget.BlockTokens * bytesPerToken);
                if (bytes / bound > state.WorstOverBound)
                {
                    state.WorstOverBound = bytes / bound;
                    state.WorstSample = new KvSample(bytes, held, sequences);
                }
            }

            try
            {
                await Task.Delay(5, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private sealed class RunState
    {
        public const int Turns = 5;
#pragma warning disable SA1401, CA1051 // Counters updated with Interlocked need fields.
        public int Requests;
        public int Failed;
        public int Rejected;
        public int Skipped;
#pragma warning restore SA1401, CA1051

        public int Generated { get; set; }

        public long PromptTokens { get; set; }

        public List<double> FirstTokenMs { get; } = [];

        public List<double> InterTokenMs { get; } = [];

        public List<double> EndToEndMs { get; } = [];

        public List<double>[] FirstTokenByTurn { get; } = [.. Enumerable.Range(0, Turns).Select(_ => new List<double>())];

        public List<int>[] PromptByTurn { get; } = [.. Enumerable.Range(0, Turns).Select(_ => new List<int>())];

        public long PeakKvBytes { get; set; }

        public int PeakKvTokens { get; set; }

        public double PeakOverInFlight { get; set; }

        public double WorstOverBound { get; set; }

        public KvSample? WorstSample { get; set; }
    }
}

/// <summary>p50 / p95 / p99 of a set of measurements.</summary>
internal sealed record Percentiles(double P50, double P95, double P99)
{
    public static Percentiles Of(IReadOnlyList<double> values) =>
        new(ConcurrencySweep.Percentile(values, 0.50), ConcurrencySweep.Percentile(values, 0.95), ConcurrencySweep.Percentile(values, 0.99));
}

/// <summary>The result of one <see cref="TraceReplay"/>.</summary>
internal sealed record TraceReport
{
    public required string Model { get; init; }

    public required int Requests { get; init; }

    public required int Failed { get; init; }

    /// <summary>Requests turned away because the model's queue was full (<see cref="QueueFullException"/>); their conversations end there.</summary>
    public required int RejectedQueueFull { get; init; }

    public required int SkippedForContext { get; init; }

    public required int GeneratedTokens { get; init; }

    /// <summary>Prompt tokens of the requests answered (each turn's whole history).</summary>
    public required long PromptTokens { get; init; }

    /// <summary>Requests admitted with prefix reuse on, during the replay (<c>autoglm.prefix_cache.lookups</c>).</summary>
    public long PrefixLookups { get; init; }

    /// <summary>Requests that started from a kept KV prefix, during the replay.</summary>
    public long PrefixHits { get; init; }

    /// <summary>Prompt tokens not recomputed thanks to a kept prefix, during the replay.</summary>
    public long PrefixTokensSaved { get; init; }

    public required double WallSeconds { get; init; }

    public required double TokensPerSecond { get; init; }

    public required Percentiles TimeToFirstTokenMs { get; init; }

    public required Percentiles InterTokenMs { get; init; }

    public required Percentiles EndToEndMs { get; init; }

    public required long PeakKvBytes { get; init; }

    public required int PeakKvTokensReserved { get; init; }

    public required long KvBytesPerToken { get; init; }

    /// <summary>The largest ratio, over samples, of KV bytes held to the bytes the tokens held in KV need.</summary>
    public required double PeakKvOverInFlight { get; init; }

    /// <summary>The largest ratio, over samples, of KV bytes held to <c>1.25 × needed + one 16-token block per sequence</c> (at most 1: within the bound).</summary>
    public required double WorstKvOverBound { get; init; }

    /// <summary>The sample of <see cref="WorstKvOverBound"/>.</summary>
    public required KvSample? WorstKvSample { get; init; }

    public required int KvBudgetTokens { get; init; }

    /// <summary>Running requests preempted for lack of KV budget during the replay.</summary>
    public required long Preemptions { get; init; }

    public required double[] TimeToFirstTokenP50ByTurnMs { get; init; }

    public required double[] MeanPromptTokensByTurn { get; init; }

    /// <summary>The last turn alone with prefix reuse vs the same prompt cold (<c>--warm-cold</c>); null when not probed.</summary>
    public WarmColdReport? WarmCold { get; init; }
}

/// <summary>One sample of the KV memory: bytes held, tokens held in KV, sequences holding them.</summary>
internal sealed record KvSample(long Bytes, int Tokens, int Sequences);
