using System.Diagnostics;
using AutoGlm.Generation;

namespace AutoGlm.Cli;

/// <summary>
/// What prefix reuse buys the last turn of a conversation, with nothing else running: each probed conversation of a
/// <see cref="ChatTrace"/> is played turn by turn on a model with prefix reuse (answers generated greedily to the
/// trace's lengths, no think time), and its last turn's prompt is then sent once more to a second model that keeps
/// nothing (cold). Both times to first token are taken for the same prompt, alone on an idle machine.
/// </summary>
/// <remarks>Not thread-safe; needs both models idle and to itself.</remarks>
internal static class WarmColdProbe
{
    /// <summary>Probes up to <paramref name="count"/> conversations of <paramref name="trace"/> that have <paramref name="turns"/> turns or more.</summary>
    public static async Task<WarmColdReport> RunAsync(GlmModel warm, GlmModel cold, ChatTrace trace, int turns, int count, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(warm);
        ArgumentNullException.ThrowIfNull(cold);
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentOutOfRangeException.ThrowIfLessThan(turns, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (!warm.Options.PrefixReuse || cold.Options.PrefixReuse)
        {
            throw new ArgumentException("The warm model needs PrefixReuse on and the cold one off.", nameof(warm));
        }

        var warmMs = new List<double>();
        var coldMs = new List<double>();
        var promptTokens = new List<int>();
        foreach (TraceConversation conversation in trace.Conversations.Where(c => c.Turns.Count >= turns).Take(count))
        {
            var history = new List<int>(trace.SystemPrompt);
            double lastWarm = 0;
            bool fits = true;
            for (int turn = 0; turn < turns && fits; turn++)
            {
                TraceTurn next = conversation.Turns[turn];
                history.AddRange(next.UserTokens);
                fits = history.Count + next.AnswerTokens <= warm.MaxSequenceLength;
                if (fits)
                {
                    (lastWarm, int[] answer) = await TimeAsync(warm, [.. history], next.AnswerTokens, cancellationToken).ConfigureAwait(false);
                    if (turn < turns - 1)
                    {
                        history.AddRange(answer);
                    }
                }
            }

            if (!fits)
            {
                continue;
            }

            (double coldFirst, _) = await TimeAsync(cold, [.. history], conversation.Turns[turns - 1].AnswerTokens, cancellationToken).ConfigureAwait(false);
            warmMs.Add(lastWarm);
            coldMs.Add(coldFirst);
            promptTokens.Add(history.Count);
        }

        return new WarmColdReport(
            turns,
            warmMs.Count,
            promptTokens.Count == 0 ? 0 : promptTokens.Average(),
            ConcurrencySweep.Percentile(warmMs, 0.5),
            ConcurrencySweep.Percentile(coldMs, 0.5),
            ConcurrencySweep.Percentile([.. warmMs.Zip(coldMs, (w, c) => w / c)], 0.5));
    }

    // Time to first token of one greedy request, and the tokens it generated.
    private static async Task<(double FirstTokenMs, int[] Tokens)> TimeAsync(GlmModel model, int[] prompt, int answerTokens, CancellationToken cancellationToken)
    {
        var options = new GenerationOptions { Temperature = 0f, MaxNewTokens = answerTokens, IgnoreEos = true };
        var tokens = new List<int>(answerTokens);
        long submitted = Stopwatch.GetTimestamp();
        double firstToken = 0;
        await foreach (GeneratedToken token in model.GenerateStreamingAsync(prompt, options, cancellationToken).ConfigureAwait(false))
        {
            if (tokens.Count == 0)
            {
                firstToken = Stopwatch.GetElapsedTime(submitted).TotalMilliseconds;
            }

            tokens.Add(token.Id);
        }

        return (firstToken, [.. tokens]);
    }
}

/// <summary>The result of a <see cref="WarmColdProbe"/>.</summary>
/// <param name="Turn">The turn probed (1-based).</param>
/// <param name="Conversations">Conversations probed.</param>
/// <param name="MeanPromptTokens">Mean prompt length of the probed turn.</param>
/// <param name="WarmFirstTokenP50Ms">Median time to first token of the probed turn with the earlier turns' KV kept.</param>
/// <param name="ColdFirstTokenP50Ms">Median time to first token of the same prompts on a model that kept nothing.</param>
/// <param name="RatioP50">Median over conversations of warm ÷ cold.</param>
internal sealed record WarmColdReport(int Turn, int Conversations, double MeanPromptTokens, double WarmFirstTokenP50Ms, double ColdFirstTokenP50Ms, double RatioP50);
