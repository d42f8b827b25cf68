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
/// per invocation over positions 32..47. A third method runs the same decoder with 8 sequences per step (8 slots,
/// each with its own prompt), counting 8 tokens per step, to show what batching does to the cost of a token.
/// Allocated bytes are per decoded token.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ThroughputConfig))]
public class DecodeStepBenchmarks
{
    private const int PromptLength = 32;
    private const int Steps = 16;
    private const int KvLength = 256;
    private const int Batch = 8;

    private ModelSession? _session;
    private BareOrtLoop? _bare;
    private OnnxBatchDecoder? _decoder;
    private Sampler? _sampler;
    private SamplingState? _sampling;
    private readonly DecoderRow[] _rows = new DecoderRow[1];
    private readonly int[] _tokens = new int[1];
    private readonly DecoderRow[] _batchRows = new DecoderRow[Batch];
    private readonly int[] _batchTokens = new int[Batch];
    private readonly int[] _batchFirst = new int[Batch];
    private SamplingState[] _batchSampling = [];
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

    [GlobalSetup(Target = nameof(AutoGlmDecoderBatch8))]
    public void SetupAutoGlmBatch()
    {
        GlmModelInfo info = Open();
        _decoder = new OnnxBatchDecoder(_session!.Session, info, maxBatchSize: Batch, maxSequenceLength: KvLength - 1);
        _sampler = new Sampler(info.VocabularySize);
        _batchSampling = [.. Enumerable.Range(0, Batch).Select(_ => new SamplingState(GenerationOptions.Greedy, info.VocabularySize, [], Steps, seed: 1))];
        _logits = new float[Batch * info.VocabularySize];
        for (int slot = 0; slot < Batch; slot++)
        {
            _decoder.AllocateSlot(slot, KvLength - 1);
            int[] prompt = BenchmarkPrompts.Create(info.VocabularySize, PromptLength, slot);
            _rows[0] = new DecoderRow(slot, 0, PromptLength);
            _decoder.Step(_rows, prompt, _logits.AsSpan(0, info.VocabularySize), CancellationToken.None);
            _batchFirst[slot] = _sampler.Sample(_logits.AsSpan(0, info.VocabularySize), _batchSampling[slot]);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (SamplingState state in _batchSampling)
        {
            state.Dispose();
        }

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

    [Benchmark(OperationsPerInvoke = Steps * Batch, Description = "AutoGlm decoder + sampler, batch 8")]
    public int AutoGlmDecoderBatch8()
    {
        int vocabulary = _sampler!.VocabularySize;
        _batchFirst.CopyTo(_batchTokens, 0);
        for (int i = 0; i < Steps; i++)
        {
            for (int slot = 0; slot < Batch; slot++)
            {
                _batchRows[slot] = new DecoderRow(slot, PromptLength + i, 1);
            }

            _decoder!.Step(_batchRows, _batchTokens, _logits, CancellationToken.None);
            for (int slot = 0; slot < Batch; slot++)
            {
                _batchTokens[slot] = _sampler.Sample(_logits.AsSpan(slot * vocabulary, vocabulary), _batchSampling[slot]);
            }
        }

        return _batchTokens[0];
    }

    private GlmModelInfo Open()
    {
        GlmModelInfo info = ModelFolder.Read(BenchmarkModels.Ensure("small", Precision));
        _session = ModelSession.Open(info, ExecutionProvider.Cpu, intraOpThreads: 0, weightLoading: BenchmarkModels.WeightLoading, logger: null);
        return info;
    }
}
