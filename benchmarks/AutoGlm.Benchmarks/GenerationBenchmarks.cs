using AutoGlm.Execution;
using AutoGlm.Generation;
using AutoGlm.ModelBuilder;
using AutoGlm.Models;
using BenchmarkDotNet.Attributes;

namespace AutoGlm.Benchmarks;

/// <summary>
/// End-to-end greedy generation of one request (batch 1) on the <c>small</c> preset, per generated token: a
/// 32-token prompt and 32 new tokens (one prefill, 31 decode steps). Baseline: the bare ONNX Runtime loop with
/// a hand-managed KV buffer and an arg-max; against it, <see cref="GlmModel.GenerateStreamingAsync(IReadOnlyList{int}, GenerationOptions?, CancellationToken)"/>
/// (scheduler thread, slot and KV allocation per request, sampler, detokenisation, streaming channel).
/// Allocated bytes are per generated token, including the request's fixed costs spread over its 32 tokens.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ThroughputConfig))]
public class GenerationBenchmarks
{
    private const int PromptLength = 32;
    private const int NewTokens = 32;
    private const int KvLength = 256;
    private static readonly GenerationOptions s_options = new() { Temperature = 0f, MaxNewTokens = NewTokens, IgnoreEos = true };

    private ModelSession? _session;
    private BareOrtLoop? _bare;
    private GlmModel? _model;
    private int[] _prompt = [];

    [Params(ModelPrecision.Fp32, ModelPrecision.Int4)]
    public ModelPrecision Precision { get; set; }

    [GlobalSetup(Target = nameof(BareOrtLoop))]
    public void SetupBare()
    {
        GlmModelInfo info = ModelFolder.Read(BenchmarkModels.Ensure("small", Precision));
        _session = ModelSession.Open(info, ExecutionProvider.Cpu, intraOpThreads: 0, weightLoading: BenchmarkModels.WeightLoading, logger: null);
        _bare = new BareOrtLoop(_session.Session, info, KvLength);
        _prompt = BenchmarkPrompts.Create(info.VocabularySize, PromptLength, 0);
    }

    [GlobalSetup(Target = nameof(GlmModelStreaming))]
    public void SetupModel()
    {
        _model = GlmModel.Load(BenchmarkModels.Ensure("small", Precision), new GlmModelOptions { MaxBatchSize = 1, MaxSequenceLength = KvLength - 1 });
        _prompt = BenchmarkPrompts.Create(_model.Info.VocabularySize, PromptLength, 0);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _bare?.Dispose();
        _session?.Dispose();
        _model?.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = NewTokens, Description = "bare ORT loop, 1 request")]
    public int BareOrtLoop()
    {
        int token = _bare!.Prefill(_prompt);
        for (int i = 1; i < NewTokens; i++)
        {
            token = _bare.Decode(token, PromptLength + i - 1);
        }

        return token;
    }

    [Benchmark(OperationsPerInvoke = NewTokens, Description = "GlmModel streaming, 1 request")]
    public async Task<int> GlmModelStreaming()
    {
        int last = 0;
        await foreach (GeneratedToken token in _model!.GenerateStreamingAsync(_prompt, s_options).ConfigureAwait(false))
        {
            last = token.Id;
        }

        return last;
    }
}
