using AutoGlm.Generation;
using BenchmarkDotNet.Attributes;

namespace AutoGlm.Benchmarks.Generation;

/// <summary>
/// The cost of the scheduler itself (queueing, batching, sampling a small vocabulary, streaming through
/// channels) with a model that costs nothing: 256 greedy tokens for one request, then for eight concurrent
/// requests. Divide by the tokens per operation (256 and 2,048) for the overhead per token.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
public class SchedulerOverheadBenchmarks
{
    private const int Tokens = 256;
    private static readonly GenerationOptions s_options = GenerationOptions.Greedy with { MaxNewTokens = Tokens, IgnoreEos = true };
    private BatchScheduler _scheduler = null!;

    [GlobalSetup]
    public void Setup() => _scheduler = new BatchScheduler(new FreeDecoder(), new FixedText());

    [GlobalCleanup]
    public void Cleanup() => _scheduler.Dispose();

    [Benchmark(Baseline = true)]
    public Task<GenerationResult> OneRequest() => _scheduler.GenerateAsync([1, 2, 3, 4], s_options);

    [Benchmark]
    public Task<GenerationResult[]> EightConcurrentRequests() =>
        Task.WhenAll(Enumerable.Range(0, 8).Select(i => _scheduler.GenerateAsync([1 + i, 2, 3, 4], s_options)));

    private sealed class FreeDecoder : IBatchDecoder
    {
        public int MaxBatchSize => 8;

        public int MaxSequenceLength => 4096;

        public int VocabularySize => 1024;

        public void AllocateSlot(int slot, int tokenCapacity)
        {
        }

        public void ReuseSlot(int slot, int tokenCapacity, int keptLength)
        {
        }

        public void FreeSlot(int slot)
        {
        }

        public void Step(ReadOnlySpan<DecoderRow> rows, ReadOnlySpan<int> tokenIds, Span<float> logits, CancellationToken cancellationToken)
        {
            logits.Clear();
            for (int i = 0; i < rows.Length; i++)
            {
                logits[(i * VocabularySize) + ((rows[i].PastLength + rows[i].Slot) % VocabularySize)] = 1f;
            }
        }
    }

    private sealed class FixedText : ITokenTextDecoder, ITokenTextStream
    {
        public ITokenTextStream CreateStream() => this;

        public string Append(int tokenId) => "x";

        public string Flush() => string.Empty;
    }
}
