using System.Diagnostics;
using AutoGlm.Generation;

namespace AutoGlm.Benchmarks;

/// <summary>
/// <c>--sampler-probe</c>: quick timings of <see cref="Sampler.Sample"/> at GLM-4's vocabulary (151 552) in each sampling
/// mode — min, p25 and median of 400 samples on the same logits as <see cref="SamplerVocabularyBenchmarks"/>, and the
/// bytes allocated (the probe's own list of timings included). The minimum is the figure least disturbed by a busy
/// machine; the BenchmarkDotNet class is the report of record.
/// </summary>
internal static class SamplerProbe
{
    public static int Run()
    {
        foreach (int vocab in new[] { 151552 })
        {
            var random = new Random(1);
            float[] pristine = [.. Enumerable.Range(0, vocab).Select(_ => (float)((random.NextDouble() * 20) - 10))];
            float[] logits = new float[vocab];
            var sampler = new Sampler(vocab);
            int[] history = [.. Enumerable.Range(0, 256).Select(i => (i * 7919) % vocab)];
            var modes = new (string, SamplingState)[]
            {
                ("greedy", new SamplingState(GenerationOptions.Greedy, vocab, history, 256, 1)),
                ("topk50+topp", new SamplingState(new GenerationOptions { Temperature = 0.8f, TopK = 50, TopP = 0.9f }, vocab, history, 256, 1)),
                ("topp0.9", new SamplingState(new GenerationOptions { Temperature = 0.8f, TopP = 0.9f }, vocab, history, 256, 1)),
                ("penalties", new SamplingState(new GenerationOptions { Temperature = 0.8f, TopP = 0.95f, MinP = 0.05f, RepetitionPenalty = 1.1f, FrequencyPenalty = 0.5f, PresencePenalty = 0.5f }, vocab, history, 256, 1)),
            };
            for (int i = 0; i < 64; i++)
            {
                modes[3].Item2.Observe(history[i]);
            }

            foreach ((string name, SamplingState state) in modes)
            {
                var times = new List<double>(400);
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < 400; i++)
                {
                    pristine.CopyTo(logits, 0);
                    long t = Stopwatch.GetTimestamp();
                    sampler.Sample(logits, state);
                    times.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
                }
                long alloc = GC.GetAllocatedBytesForCurrentThread() - before;
                times.Sort();
                state.Dispose();
                Console.WriteLine(FormattableString.Invariant($"{vocab} {name,-12} min {times[0],8:F1} us  p25 {times[100],8:F1} us  median {times[200],8:F1} us  alloc {alloc} B"));
            }
        }
        return 0;
    }
}
