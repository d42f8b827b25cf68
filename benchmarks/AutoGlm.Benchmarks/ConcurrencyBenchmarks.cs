using AutoGlm.Generation;
using AutoGlm.ModelBuilder;
using BenchmarkDotNet.Attributes;

namespace AutoGlm.Benchmarks;

/// <summary>
/// AutoGlm end to end at 1, 4 and 8 concurrent requests on one <see cref="GlmModel"/> (<c>small</c> preset,
/// continuous batching, max batch 8): each request has its own 32-token prompt and generates 32 greedy tokens.
/// The operation is one generated token over all requests (<c>OperationsPerInvoke</c> = 32 × concurrency), so
/// the Tokens/s column is the aggregate throughput and 1 / Ratio is the speed-up over one request.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ThroughputConfig))]
public class ConcurrencyBenchmarks
{
    private const int PromptLength = 32;
    private const int NewTokens = 32;
    private static readonly GenerationOptions s_options = new() { Temperature = 0f, MaxNewTokens = NewTokens, IgnoreEos = true };

    private GlmModel? _model;
    private int[][] _prompts = [];

    [Params(ModelPrecision.Fp32, ModelPrecision.Int4)]
    public ModelPrecision Precision { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _model = GlmModel.Load(BenchmarkModels.Ensure("small", Precision), new GlmModelOptions { MaxBatchSize = 8, MaxSequenceLength = 255 });
        _prompts = [.. Enumerable.Range(0, 8).Select(r => BenchmarkPrompts.Create(_model.Info.VocabularySize, PromptLength, r))];
    }

    [GlobalCleanup]
    public void Cleanup() => _model?.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = NewTokens, Description = "concurrency 1")]
    public Task Concurrency1() => RunAsync(1);

    [Benchmark(OperationsPerInvoke = NewTokens * 4, Description = "concurrency 4")]
    public Task Concurrency4() => RunAsync(4);

    [Benchmark(OperationsPerInvoke = NewTokens * 8, Description = "concurrency 8")]
    public Task Concurrency8() => RunAsync(8);

    private Task RunAsync(int concurrency)
    {
        var requests = new Task<GenerationResult>[concurrency];
        for (int r = 0; r < concurrency; r++)
        {
            requests[r] = _model!.GenerateAsync(_prompts[r], s_options);
        }

        return Task.WhenAll(requests);
    }
}
