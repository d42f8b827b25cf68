using AutoGlm.ModelBuilder;
using BenchmarkDotNet.Attributes;

namespace AutoGlm.Benchmarks;

/// <summary>
/// <see cref="GlmModel.Load"/> of the <c>small</c> preset (no warm-up generation): the weights file memory-mapped
/// and handed to ONNX Runtime (baseline) against ONNX Runtime reading it into memory itself. The file is in the
/// page cache after the first iteration, so this is a warm-cache load. Resident memory is measured separately,
/// in child processes (<c>--load-memory</c>, <see cref="LoadMemoryProbe"/>), since a benchmark process keeps
/// every earlier iteration's pages.
/// </summary>
[MemoryDiagnoser]
public class LoadBenchmarks
{
    private string _folder = "";

    [Params(ModelPrecision.Fp32, ModelPrecision.Int4)]
    public ModelPrecision Precision { get; set; }

    [GlobalSetup]
    public void Setup() => _folder = BenchmarkModels.Ensure("small", Precision);

    [Benchmark(Baseline = true, Description = "WeightLoading.Packed")]
    public long Packed() => Load(WeightLoading.Packed);

    [Benchmark(Description = "WeightLoading.Mapped")]
    public long Mapped() => Load(WeightLoading.Mapped);

    private long Load(WeightLoading weightLoading)
    {
        using GlmModel model = GlmModel.Load(_folder, new GlmModelOptions { WeightLoading = weightLoading, WarmUp = false, MaxBatchSize = 1 });
        return model.MaxSequenceLength;
    }
}
