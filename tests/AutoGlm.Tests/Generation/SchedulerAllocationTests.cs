using AutoGlm.Generation;

namespace AutoGlm.Tests.Generation;

[Collection(SerialTestCollection.Name)]
public sealed class SchedulerAllocationTests
{
    /// <summary>
    /// A decoder that allocates nothing itself and measures what the scheduler loop allocates on its thread
    /// between the end of one step and the start of the next (sampling, streaming, bookkeeping). Each step
    /// pauses for a millisecond, as a real model step would.
    /// </summary>
    private sealed class AllocationProbeDecoder : IBatchDecoder
    {
        private readonly long[] _between = new long[4096];
        private long _lastExit = -1;
        private int _steps;

        public int MaxBatchSize => 4;

        public int MaxSequenceLength => 4096;

        public int VocabularySize => 64;

        public int Steps => Volatile.Read(ref _steps);

        public long[] Between => _between.AsSpan(0, Steps).ToArray();

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
            long entry = GC.GetAllocatedBytesForCurrentThread();
            if (_lastExit >= 0 && _steps < _between.Length)
            {
                _between[_steps] = entry - _lastExit;
            }

            // Real steps take milliseconds, so readers keep up with the stream; without a pause the loop can run
            // ahead of a starved reader and the token channel grows its buffer (amortised, not per token).
            Thread.Sleep(1);
            logits.Clear();
            for (int i = 0; i < rows.Length; i++)
            {
                logits[(i * VocabularySize) + ((rows[i].PastLength * 7 + rows[i].Slot) % VocabularySize)] = 1f;
            }

            Volatile.Write(ref _steps, _steps + 1);
            _lastExit = GC.GetAllocatedBytesForCurrentThread();
        }
    }

    private sealed class CachedText : ITokenTextDecoder, ITokenTextStream
    {
        private readonly string[] _pieces = Enumerable.Range(0, 64).Select(i => $"t{i} ").ToArray();

        public ITokenTextStream CreateStream() => this;

        public string Append(int tokenId) => _pieces[tokenId];

        public string Flush() => string.Empty;
    }

    [Fact]
    public async Task Loop_SteadyStateDecoding_AllocatesNothingPerToken()
    {
        // The test host keeps some pool threads blocked; on two cores the readers' continuations could then
        // wait for thread injection, the token channels would back up and grow their buffers, and the test
        // would measure the host rather than the loop.
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(Math.Max(workers, 8), io);
        var decoder = new AllocationProbeDecoder();
        await using var scheduler = new BatchScheduler(decoder, new CachedText());
        var options = new GenerationOptions { MaxNewTokens = 400, IgnoreEos = true, Temperature = 0.7f, TopK = 20, TopP = 0.9f, RepetitionPenalty = 1.05f, Seed = 1 };

        await Task.WhenAll(Enumerable.Range(0, 4).Select(i => scheduler.GenerateAsync([1 + i, 2, 3], options))).WaitAsync(TimeSpan.FromSeconds(20));

        // Skip admission and warm-up at the start and retirement at the end; the middle is pure batched decoding.
        long[] between = decoder.Between;
        Assert.True(between.Length > 300, $"only {between.Length} steps ran");
        long[] steady = between[100..300];
        Assert.True(steady.Sum() == 0, $"allocated {steady.Sum()} bytes over {steady.Length} steps: {string.Join(",", steady.Select((b, i) => (b, i)).Where(x => x.b != 0).Select(x => $"{x.i}:{x.b}"))}");
    }
}
