using AutoGlm.Execution;
using AutoGlm.Generation;
using AutoGlm.ModelBuilder;
using AutoGlm.Models;
using BenchmarkDotNet.Attributes;

namespace AutoGlm.Benchmarks;

/// <summary>
/// One decode step of one sequence (batch 1) on the <c>small</c> preset, per token: the bare ONNX Runtime loop
/// with a hand-managed KV buffer (baseline) against AutoGlm's <see cref="OnnxBatchDecoder"/> + <see cref="Sampler"/>
/// (what the scheduler runs per step). Both: same model file, same session options (<see cref="ModelSession"/>),
/// 256-position KV buffer updated in place, a 32-token prompt read once in setup, then 16 greedy decode steps
/// per invocation over positions 32..47. Allocated bytes are per decoded token.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ThroughputConfig))]
public class DecodeStepBenchmarks
{
    private const int PromptLength = 32;
    private const int Steps = 16;
    private const int KvLength = 256;

    private ModelSession? _session;
    private BareOrtLoop? _bare;
    private OnnxBatchDecoder? _decoder;
    private Sampler? _sampler;
    private SamplingState? _sampling;
    private readonly DecoderRow[] _rows = new DecoderRow[1];
    private readonly int[] _tokens = new int[1];
    private float[] _logits = [];
    private int _first;

    [Params(ModelPrecision.Fp32, ModelPrecision.Int4)]
    public ModelPrecision Precision { get; set; }

    [GlobalSetup(Target = nameof(BareOrtLoop))]
    public void SetupBare()
    {
        GlmModelInfo info = Open();
        _bare = new BareOrtLoop(_session!.Session, info, KvLength);
        _first = _bare.Prefill(BenchmarkPrompts.Create(info.VocabularySize, PromptLength, 0));
    }

    [GlobalSetup(Target = nameof(AutoGlmDecoder))]
    public void SetupAutoGlm()
    {
        GlmModelInfo info = Open();
        _decoder = new OnnxBatchDecoder(_session!.Session, info, maxBatchSize: 1, maxSequenceLength: KvLength - 1);
        _decoder.AllocateSlot(0, KvLength - 1);
        _sampler = new Sampler(info.VocabularySize);
        _sampling = new SamplingState(GenerationOptions.Greedy, info.VocabularySize, [], Steps, seed: 1);
        _logits = new float[info.VocabularySize];
        int[] prompt = BenchmarkPrompts.Create(info.VocabularySize, PromptLength, 0);
        _rows[0] = new DecoderRow(0, 0, PromptLength);
        _decoder.Step(_rows, prompt, _logits, CancellationToken.None);
        _first = _sampler.Sample(_logits, _sampling);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _bare?.Dispose();
        _decoder?.Dispose();
        _sampling?.Dispose();
        _session?.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Steps, Description = "bare ORT loop, batch 1")]
    public int BareOrtLoop()
    {
        _bare!.Truncate(PromptLength);
        int token = _first;
        for (int i = 0; i < Steps; i++)
        {
            token = _bare.Decode(token, PromptLength + i);
        }

        return token;
    }

    [Benchmark(OperationsPerInvoke = Steps, Description = "AutoGlm decoder + sampler, batch 1")]
    public int AutoGlmDecoder()
    {
        int token = _first;
        for (int i = 0; i < Steps; i++)
        {
            _rows[0] = new DecoderRow(0, PromptLength + i, 1);
            _tokens[0] = token;
            _decoder!.Step(_rows, _tokens, _logits, CancellationToken.None);
            token = _sampler!.Sample(_logits, _sampling!);
        }

        return token;
    }

    private GlmModelInfo Open()
    {
        GlmModelInfo info = ModelFolder.Read(BenchmarkModels.Ensure("small", Precision));
        _session = ModelSession.Open(info, ExecutionProvider.Cpu, intraOpThreads: 0, mapWeights: true, logger: null);
        return info;
    }
}
