using Microsoft.Extensions.Options;

namespace AutoGlm.Extensions.Hosting.Tests;

public sealed class AutoGlmOptionsValidatorTests : IDisposable
{
    private const string Hint = "set it to a model folder written by 'autoglm build' (the folder that holds model.onnx).";
    private readonly string _modelFolder;
    private readonly AutoGlmOptionsValidator _validator = new();

    public AutoGlmOptionsValidatorTests()
    {
        _modelFolder = ModelFolders.CreateEmpty();
    }

    public void Dispose() => Directory.Delete(_modelFolder, recursive: true);

    [Theory]
    [InlineData("cpu")]
    [InlineData("CUDA:1")]
    [InlineData("auto")]
    [InlineData("dml:0")]
    public void Validate_ValidOptions_Succeeds(string provider)
    {
        ValidateOptionsResult result = _validator.Validate(Options.DefaultName, Valid(o => o.ExecutionProvider = provider));

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    public static TheoryData<string, Action<AutoGlmOptions>, string> SingleFailures => new()
    {
        { "model path unset", o => o.ModelPath = null, $"AutoGlm: ModelPath is not set; {Hint}" },
        { "model path blank", o => o.ModelPath = "  ", $"AutoGlm: ModelPath is not set; {Hint}" },
        { "model path missing", o => o.ModelPath = "/no/such/model", $"AutoGlm: ModelPath '/no/such/model' does not exist; {Hint}" },
        { "batch size 0", o => o.MaxBatchSize = 0, "AutoGlm: MaxBatchSize must be between 1 and 256; got 0." },
        { "batch size -3", o => o.MaxBatchSize = -3, "AutoGlm: MaxBatchSize must be between 1 and 256; got -3." },
        { "batch size 257", o => o.MaxBatchSize = 257, "AutoGlm: MaxBatchSize must be between 1 and 256; got 257." },
        { "unknown provider", o => o.ExecutionProvider = "tpu", "AutoGlm: ExecutionProvider 'tpu' is not a known provider; use one of: cpu, cuda, cuda:<device>, directml, dml:<adapter>, auto." },
        { "bad device index", o => o.ExecutionProvider = "cuda:x", "AutoGlm: ExecutionProvider 'cuda:x' is not a known provider; use one of: cpu, cuda, cuda:<device>, directml, dml:<adapter>, auto." },
        { "empty provider", o => o.ExecutionProvider = "", "AutoGlm: ExecutionProvider '' is not a known provider; use one of: cpu, cuda, cuda:<device>, directml, dml:<adapter>, auto." },
        { "session config empty key", o => o.OnnxRuntimeSessionConfig[""] = "1", "AutoGlm: OnnxRuntimeSessionConfig: a key is empty; use ONNX Runtime's dotted key names, e.g. 'session.intra_op.allow_spinning'." },
        { "session config long value", o => o.OnnxRuntimeSessionConfig["session.dynamic_block_base"] = new string('9', 1025), "AutoGlm: OnnxRuntimeSessionConfig: the value of 'session.dynamic_block_base' has 1025 characters; ONNX Runtime allows at most 1024." },
        { "threads", o => o.IntraOpThreads = -1, "AutoGlm: IntraOpThreads must be between 0 (let ONNX Runtime choose) and " + (4 * Environment.ProcessorCount) + " (4 × the " + Environment.ProcessorCount + " logical processors); got -1." },
        { "threads 100000", o => o.IntraOpThreads = 100_000, "AutoGlm: IntraOpThreads must be between 0 (let ONNX Runtime choose) and " + (4 * Environment.ProcessorCount) + " (4 × the " + Environment.ProcessorCount + " logical processors); got 100000." },
        { "queue", o => o.QueueCapacity = 0, "AutoGlm: QueueCapacity must be between 1 and 1000000; got 0." },
        { "queue huge", o => o.QueueCapacity = int.MaxValue, "AutoGlm: QueueCapacity must be between 1 and 1000000; got 2147483647." },
        { "prefill", o => o.PrefillChunkTokens = -5, "AutoGlm: PrefillChunkTokens must be between 1 and 65536; got -5." },
        { "prefill huge", o => o.PrefillChunkTokens = 1 << 20, "AutoGlm: PrefillChunkTokens must be between 1 and 65536; got 1048576." },
        { "max sequence", o => o.MaxSequenceLength = 0, "AutoGlm: MaxSequenceLength must be between 1 and 16777216 when set; got 0. Leave it unset to use the model's context length." },
        { "kv budget 0", o => o.KvBudgetTokens = 0, "AutoGlm: KvBudgetTokens must be between 1 and 16777216 when set; got 0. Leave it unset for MaxBatchSize × the max sequence length." },
        {
            "kv budget below one sequence",
            o => { o.MaxSequenceLength = 512; o.KvBudgetTokens = 100; },
            "AutoGlm: KvBudgetTokens (100) is smaller than one max-length sequence (MaxSequenceLength = 512), so a long request could never run; raise KvBudgetTokens to at least 512 or lower MaxSequenceLength."
        },
        { "default max output tokens", o => o.DefaultMaxOutputTokens = 0, "AutoGlm: DefaultMaxOutputTokens must be between 1 and 16777216; got 0." },
        { "default max output tokens huge", o => o.DefaultMaxOutputTokens = 1_000_000_000, "AutoGlm: DefaultMaxOutputTokens must be between 1 and 16777216; got 1000000000." },
        { "keep-alive 0", o => o.KeepAlive = TimeSpan.Zero, "AutoGlm: KeepAlive must be positive and at most 24 days when set; got 00:00:00. Leave it unset to keep the model loaded until the application stops." },
        { "drain negative", o => o.DrainTimeout = TimeSpan.FromSeconds(-1), "AutoGlm: DrainTimeout must be between zero and 24 days; got -00:00:01." },
        { "drain huge", o => o.DrainTimeout = TimeSpan.MaxValue, "AutoGlm: DrainTimeout must be between zero and 24 days; got 10675199.02:48:05.4775807." },
        { "keep-alive huge", o => o.KeepAlive = TimeSpan.FromDays(365), "AutoGlm: KeepAlive must be positive and at most 24 days when set; got 365.00:00:00. Leave it unset to keep the model loaded until the application stops." },
        { "degraded NaN", o => o.DegradedQueueFraction = double.NaN, "AutoGlm: DegradedQueueFraction must be greater than 0 and at most 1; got NaN." },
        { "degraded infinity", o => o.DegradedQueueFraction = double.PositiveInfinity, "AutoGlm: DegradedQueueFraction must be greater than 0 and at most 1; got Infinity." },
        { "degraded fraction 0", o => o.DegradedQueueFraction = 0, "AutoGlm: DegradedQueueFraction must be greater than 0 and at most 1; got 0." },
        { "degraded fraction 1.5", o => o.DegradedQueueFraction = 1.5, "AutoGlm: DegradedQueueFraction must be greater than 0 and at most 1; got 1.5." },
        { "degraded fraction NaN", o => o.DegradedQueueFraction = double.NaN, "AutoGlm: DegradedQueueFraction must be greater than 0 and at most 1; got NaN." },
        {
            "native library missing",
            o => o.NativeLibraryPath = "/no/libonnxruntime.so",
            "AutoGlm: NativeLibraryPath '/no/libonnxruntime.so' does not exist; point it at the ONNX Runtime library file or its folder, or leave it unset to search the usual places."
        },
    };

    [Theory]
    [MemberData(nameof(SingleFailures))]
    public void Validate_OneBadValue_FailsWithMessageQuotingIt(string scenario, Action<AutoGlmOptions> breakIt, string expected)
    {
        ValidateOptionsResult result = _validator.Validate(Options.DefaultName, Valid(breakIt));

        Assert.True(result.Failed, scenario);
        Assert.Equal([expected], result.Failures);
    }

    [Fact]
    public void Validate_RelativeMissingPath_QuotesItAndItsFullPath()
    {
        ValidateOptionsResult result = _validator.Validate(Options.DefaultName, Valid(o => o.ModelPath = "missing-model-folder"));

        string full = Path.GetFullPath("missing-model-folder");
        Assert.Equal([$"AutoGlm: ModelPath 'missing-model-folder' ({full}) does not exist; {Hint}"], result.Failures);
    }

    [Fact]
    public void Validate_FolderWithoutModelOnnx_SaysSo()
    {
        string empty = Directory.CreateTempSubdirectory("autoglm-empty-").FullName;
        try
        {
            ValidateOptionsResult result = _validator.Validate(Options.DefaultName, Valid(o => o.ModelPath = empty));

            Assert.Equal([$"AutoGlm: ModelPath '{empty}' has no model.onnx; {Hint}"], result.Failures);
        }
        finally
        {
            Directory.Delete(empty);
        }
    }

    [Fact]
    public void Validate_KeyedOptions_NameTheKeyAndReportEveryFailure()
    {
        ValidateOptionsResult result = _validator.Validate("small", Valid(o =>
        {
            o.MaxBatchSize = 0;
            o.ExecutionProvider = "gpu";
        }));

        Assert.Equal(
            [
                "AutoGlm 'small': ExecutionProvider 'gpu' is not a known provider; use one of: cpu, cuda, cuda:<device>, directml, dml:<adapter>, auto.",
                "AutoGlm 'small': MaxBatchSize must be between 1 and 256; got 0.",
            ],
            result.Failures);
    }

    [Fact]
    public void Validate_KvBudgetWithoutMaxSequenceLength_IsLeftToLoadTime()
    {
        ValidateOptionsResult result = _validator.Validate(Options.DefaultName, Valid(o => o.KvBudgetTokens = 16));

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    private AutoGlmOptions Valid(Action<AutoGlmOptions> change)
    {
        var options = new AutoGlmOptions { ModelPath = _modelFolder };
        change(options);
        return options;
    }
}
