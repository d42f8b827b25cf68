using AutoGlm.Generation;
using BenchmarkDotNet.Attributes;

namespace AutoGlm.Benchmarks.Generation;

/// <summary>
/// One sampling decision over a GLM-4-sized vocabulary (151,552 logits): greedy is the baseline; each other
/// method adds one stage of the pipeline. Every method copies the row first (the sampler works in place), so
/// the copy is part of every number, baseline included.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
public class SamplerBenchmarks
{
    private const int Vocabulary = 151_552;
    private readonly float[] _source = new float[Vocabulary];
    private readonly float[] _row = new float[Vocabulary];
    private Sampler _sampler = null!;
    private SamplingState _greedy = null!;
    private SamplingState _temperature = null!;
    private SamplingState _topK = null!;
    private SamplingState _topP = null!;
    private SamplingState _minP = null!;
    private SamplingState _penalties = null!;

    [GlobalSetup]
    public void Setup()
    {
        // Logits shaped like a language model's: a few strong candidates over a long tail.
        var random = new Random(1);
        for (int i = 0; i < Vocabulary; i++)
        {
            _source[i] = (float)((random.NextDouble() * 6) - 8 + (i % 5003 == 0 ? 14 : 0));
        }

        int[] prompt = Enumerable.Range(0, 512).Select(i => (i * 7919) % Vocabulary).ToArray();
        _sampler = new Sampler(Vocabulary);
        _greedy = new SamplingState(GenerationOptions.Greedy, Vocabulary, prompt, 4096, seed: 1);
        _temperature = new SamplingState(new GenerationOptions { Temperature = 0.8f }, Vocabulary, prompt, 4096, seed: 1);
        _topK = new SamplingState(new GenerationOptions { Temperature = 0.8f, TopK = 50 }, Vocabulary, prompt, 4096, seed: 1);
        _topP = new SamplingState(new GenerationOptions { Temperature = 0.8f, TopP = 0.9f }, Vocabulary, prompt, 4096, seed: 1);
        _minP = new SamplingState(new GenerationOptions { Temperature = 0.8f, MinP = 0.05f }, Vocabulary, prompt, 4096, seed: 1);
        _penalties = new SamplingState(
            new GenerationOptions { Temperature = 0.8f, TopK = 50, TopP = 0.9f, RepetitionPenalty = 1.1f, FrequencyPenalty = 0.3f, PresencePenalty = 0.2f },
            Vocabulary,
            prompt,
            4096,
            seed: 1);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (SamplingState state in new[] { _greedy, _temperature, _topK, _topP, _minP, _penalties })
        {
            state.Dispose();
        }
    }

    [Benchmark(Baseline = true)]
    public int Greedy() => Run(_greedy);

    [Benchmark]
    public int Temperature() => Run(_temperature);

    [Benchmark]
    public int TopK50() => Run(_topK);

    [Benchmark]
    public int TopP090() => Run(_topP);

    [Benchmark]
    public int MinP005() => Run(_minP);

    [Benchmark]
    public int PenaltiesTopKTopP() => Run(_penalties);

    private int Run(SamplingState state)
    {
        _source.CopyTo(_row, 0);
        return _sampler.Sample(_row, state);
    }
}
