using System.Diagnostics;
using System.Runtime;

namespace AutoGlm.Generation;

/// <summary>
/// Brings the per-token managed path (scheduler loop, sampler, text decoding, stop matching, the channel hand-off
/// and the caller's async enumeration) to fully optimised code before the first real request, without running the
/// model: a scheduler over a decoder that computes nothing streams short greedy and sampled requests until the JIT
/// has compiled nothing for a while.
/// </summary>
/// <remarks>
/// With tiered compilation (the .NET default, which a library cannot switch off for its host) a method starts as
/// quick, unoptimised code and is recompiled — instrumented, then optimised — in the background after some dozens of
/// calls. Left to the first requests, that is hundreds of compilations competing with ONNX Runtime's threads while
/// tokens stream (benchmarks/results/JitProbe*.md). Here the same methods are called thousands of times in a few
/// hundred milliseconds of CPU, at microseconds per token.
/// </remarks>
internal static class ManagedPathWarmUp
{
    // Quiet period: the runtime's tiering delay is 100 ms, and background recompilation follows it.
    private static readonly TimeSpan s_quiet = TimeSpan.FromMilliseconds(500);

    // Pairs of requests before the quiet period counts: 6 × 48 tokens calls every per-token method well past the
    // 30 calls of each of the two promotions (quick → instrumented → optimised).
    private const int MinimumPairs = 6;

    /// <summary>Runs the warm-up for at most <paramref name="budget"/>.</summary>
    /// <returns>The requests streamed.</returns>
    public static int Run(ITokenTextDecoder textDecoder, int vocabularySize, IReadOnlyList<int> eosTokenIds, TimeSpan budget, CancellationToken cancellationToken)
    {
        var decoder = new SyntheticDecoder(vocabularySize, eosTokenIds);
        using var scheduler = new BatchScheduler(decoder, textDecoder, new BatchSchedulerOptions { EosTokenIds = eosTokenIds, QueueCapacity = 4 });
        GenerationOptions[] options =
        [
            new() { Temperature = 0f, MaxNewTokens = 48, IgnoreEos = true },
            new() { Temperature = 0.8f, TopK = 40, TopP = 0.9f, RepetitionPenalty = 1.1f, MaxNewTokens = 48, IgnoreEos = true, Seed = 1 },
        ];
        int[][] prompts = [[1, 2, 3], [4, 5, 6, 7, 8]];
        long started = Stopwatch.GetTimestamp();
        long quietSince = started;
        long compiled = JitInfo.GetCompiledMethodCount();
        int requests = 0;
        while (Stopwatch.GetElapsedTime(started) < budget)
        {
            Task first = ConsumeAsync(scheduler, prompts[0], options[requests % 2], cancellationToken);
            Task second = ConsumeAsync(scheduler, prompts[1], options[(requests + 1) % 2], cancellationToken);
            Task.WaitAll([first, second], cancellationToken);
            requests += 2;
            long now = Stopwatch.GetTimestamp();
            long count = JitInfo.GetCompiledMethodCount();
            if (count != compiled)
            {
                compiled = count;
                quietSince = now;
            }
            else if (requests >= 2 * MinimumPairs && Stopwatch.GetElapsedTime(quietSince, now) >= s_quiet)
            {
                break;
            }

            if (requests >= 2 * MinimumPairs)
            {
                // Let the background compiler have the CPU once the path is exercised.
                Thread.Sleep(20);
            }
        }

        return requests;
    }

    private static async Task ConsumeAsync(BatchScheduler scheduler, int[] prompt, GenerationOptions options, CancellationToken cancellationToken)
    {
        await foreach (GeneratedToken token in scheduler.GenerateStreamingAsync(prompt, options, cancellationToken).ConfigureAwait(false))
        {
            _ = token.Text;
        }
    }

    /// <summary>A decoder that runs no model: each row's logits are low everywhere but for a few ids that change with the position.</summary>
    private sealed class SyntheticDecoder(int vocabularySize, IReadOnlyList<int> eosTokenIds) : IBatchDecoder
    {
        public int MaxBatchSize => 2;

        public int MaxSequenceLength => 64;

        public int VocabularySize => vocabularySize;

        public void AllocateSlot(int slot, int tokenCapacity)
        {
        }

        public void FreeSlot(int slot)
        {
        }

        public void ReuseSlot(int slot, int tokenCapacity, int keptLength)
        {
        }

        public void Step(ReadOnlySpan<DecoderRow> rows, ReadOnlySpan<int> tokenIds, Span<float> logits, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (int i = 0; i < rows.Length; i++)
            {
                Span<float> row = logits.Slice(i * vocabularySize, vocabularySize);
                row.Fill(-10f);
                int position = rows[i].PastLength + rows[i].TokenCount;
                for (int k = 0; k < 4; k++)
                {
                    int id = (int)((((position * 7919L) + (k * 104729L) + rows[i].Slot) & 0x7FFFFFFF) % vocabularySize);
                    if (!Contains(eosTokenIds, id))
                    {
                        row[id] = 8f - k;
                    }
                }
            }
        }

        private static bool Contains(IReadOnlyList<int> ids, int id)
        {
            for (int i = 0; i < ids.Count; i++)
            {
                if (ids[i] == id)
                {
                    return true;
                }
            }

            return false;
        }
    }
}
