using AutoGlm.ModelBuilder;
using BenchmarkDotNet.Attributes;

namespace AutoGlm.Benchmarks;

/// <summary>
/// Converting the <c>tiny</c> random checkpoint (2 layers, hidden 128): float32 (baseline) against float16
/// (per-element conversion) and int4 (block quantisation). Each iteration writes a fresh folder.
/// </summary>
[MemoryDiagnoser]
public class ModelBuilderBenchmarks
{
    private string _root = null!;
    private string _checkpoint = null!;
    private int _counter;

    [GlobalSetup]
    public void Setup()
    {
        _root = Path.Combine(Path.GetTempPath(), "autoglm-builder-bench-" + Environment.ProcessId);
        _checkpoint = Path.Combine(_root, "checkpoint");
        RandomCheckpoint.WriteAsync(new RandomCheckpointOptions { Preset = "tiny", Seed = 1 }, _checkpoint).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_root, recursive: true);

    [Benchmark(Baseline = true)]
    public Task Fp32() => Build(ModelPrecision.Fp32);

    [Benchmark]
    public Task Fp16() => Build(ModelPrecision.Fp16);

    [Benchmark]
    public Task Int4() => Build(ModelPrecision.Int4);

    private async Task Build(ModelPrecision precision)
    {
        string output = Path.Combine(_root, "model-" + Interlocked.Increment(ref _counter));
        await GlmModelBuilder.BuildAsync(_checkpoint, output, new ModelBuildOptions { Precision = precision }).ConfigureAwait(false);
        Directory.Delete(output, recursive: true);
    }
}
