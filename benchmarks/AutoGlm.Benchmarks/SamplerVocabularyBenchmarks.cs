using AutoGlm.Generation;
using BenchmarkDotNet.Attributes;

namespace AutoGlm.Benchmarks;

/// <summary>
/// <see cref="Sampler.Sample"/> on one row of logits, for the vocabularies of the <c>small</c> preset (16 384)
/// and GLM-4 (151 552): greedy (baseline), temperature + top-k + top-p, temperature + top-p without top-k, and everything with the three penalties.
/// Each operation first restores the row from a pristine copy (the sampler works in place), in every method alike.
/// </summary>
[MemoryDiagnoser]
public class SamplerVocabularyBenchmarks
{
    private float[] _pristine = [];
    private float[] _logits = [];
    private Sampler? _sampler;
    private SamplingState? _greedy;
    private SamplingState? _topKTopP;
    private SamplingState? _topP;
    private SamplingState? _penalties;

    [Params(16384, 151552)]
    public int Vocabulary { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        _pristine = [.. Enumerable.Range(0, Vocabulary).Select(_ => (float)((random.NextDouble() * 20) - 10))];
        _logits = new float[Vocabulary];
        _sampler = new Sampler(Vocabulary);
        int[] history = [.. Enumerable.Range(0, 256).Select(i => (i * 7919) % Vocabulary)];
        _greedy = new SamplingState(GenerationOptions.Greedy, Vocabulary, history, 256, 1);
        _topKTopP = new SamplingState(new GenerationOptions { Temperature = 0.8f, TopK = 50, TopP = 0.9f }, Vocabulary, history, 256, 1);
        _topP = new SamplingState(new GenerationOptions { Temperature = 0.8f, TopP = 0.9f }, Vocabulary, history, 256, 1);
        _penalties = new SamplingState(new GenerationOptions { Temperature = 0.8f, TopP = 0.95f, MinP = 0.05f, RepetitionPenalty = 1.1f, FrequencyPenalty = 0.5f, PresencePenalty = 0.5f }, Vocabulary, history, 256, 1);
        for (int i = 0; i < 64; i++)
        {
            _penalties.Observe(history[i]);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _greedy?.Dispose();
        _topKTopP?.Dispose();
        _topP?.Dispose();
        _penalties?.Dispose();
    }

    [Benchmark(Baseline = true, Description = "greedy")]
    public int Greedy() => Sample(_greedy!);

    [Benchmark(Description = "temperature + top-k 50 + top-p 0.9")]
    public int TopKTopP() => Sample(_topKTopP!);

    [Benchmark(Description = "temperature + top-p 0.9 (no top-k)")]
    public int TopP() => Sample(_topP!);

    [Benchmark(Description = "penalties + temperature + top-p + min-p")]
    public int Penalties() => Sample(_penalties!);

    private int Sample(SamplingState state)
    {
        _pristine.CopyTo(_logits, 0);
        return _sampler!.Sample(_logits, state);
    }
}
