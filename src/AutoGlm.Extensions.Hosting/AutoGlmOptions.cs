using AutoGlm.Chat;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace AutoGlm.Extensions.Hosting;

/// <summary>
/// How a hosted GLM model is loaded, served, kept alive and stopped; bound from an <c>"AutoGlm"</c> configuration section
/// or set in code through <c>services.AddAutoGlm(options =&gt; ...)</c>.
/// </summary>
/// <remarks>
/// A mutable bag filled by the options system, then read once when the model host is created; not thread-safe while it is being configured.
/// Values are checked when the application starts; a bad value fails start-up with a message that quotes it.
/// </remarks>
public sealed class AutoGlmOptions
{
    /// <summary>The model folder (as written by the AutoGlm model builder: <c>model.onnx</c>, <c>genai_config.json</c>, tokenizer files). Required.</summary>
    public string? ModelPath { get; set; }

    /// <summary>
    /// The model's name in metrics, traces, <c>ChatClientMetadata</c> and chat responses (the id clients may send as <c>ChatOptions.ModelId</c>);
    /// the model folder's name when unset. It stays the same when a new model version is swapped in.
    /// </summary>
    public string? ModelId { get; set; }

    /// <summary>
    /// Other ids the chat client answers to in <c>ChatOptions.ModelId</c>, e.g. <c>glm-4</c> for Semantic Kernel's
    /// <c>PromptExecutionSettings.ModelId</c>; empty by default, so any id but <see cref="ModelId"/> is rejected with <see cref="NotSupportedException"/>.
    /// </summary>
    public IList<string> ModelAliases { get; } = [];

    /// <summary>Where the model runs: <c>cpu</c> (default), <c>cuda</c>, <c>cuda:1</c>, <c>directml</c>, <c>dml:0</c> or <c>auto</c> (case-insensitive).</summary>
    public string ExecutionProvider { get; set; } = "cpu";

    /// <summary>Threads ONNX Runtime uses inside one operator; 0 (default) lets it choose.</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>The most sequences decoded together in one step (1 to 256); 8 by default.</summary>
    public int MaxBatchSize { get; set; } = 8;

    /// <summary>The most positions (prompt + generated) one request may use; unset means the model's context length.</summary>
    public int? MaxSequenceLength { get; set; }

    /// <summary>The KV cache budget in tokens over all running requests; unset means <see cref="MaxBatchSize"/> × the max sequence length. Must hold at least one max-length sequence.</summary>
    public int? KvBudgetTokens { get; set; }

    /// <summary>The most requests that may wait for a batch slot; one more is rejected with <see cref="QueueFullException"/>. 64 by default.</summary>
    public int QueueCapacity { get; set; } = 64;

    /// <summary>The most prompt tokens read between two decode steps, bounding the pause running requests see while a long prompt is read; 256 by default.</summary>
    public int PrefillChunkTokens { get; set; } = 256;

    /// <summary>How the weights reach ONNX Runtime's kernels (see <see cref="GlmModelOptions.WeightLoading"/>): <c>Packed</c> by default (fastest decoding), or <c>Mapped</c> (near-instant load, shared pages, slower fp32/fp16 decoding; refused for int4).</summary>
    public WeightLoading WeightLoading { get; set; } = WeightLoading.Packed;

    /// <summary>Whether loading runs one short generation so the first request does not pay for warm-up; true by default.</summary>
    public bool WarmUp { get; set; } = true;

    /// <summary>The ONNX Runtime library (file or folder) to load ahead of every other location; unset means the usual search.</summary>
    public string? NativeLibraryPath { get; set; }

    /// <summary>
    /// Whether the model starts loading when the application starts (true, default) or on the first request (false).
    /// Start-up does not wait for the load: the health check reports Unhealthy until it is done, and requests that arrive meanwhile wait for it.
    /// </summary>
    public bool LoadOnStartup { get; set; } = true;

    /// <summary>
    /// How long the model may sit idle (no request in flight) before it is unloaded to free memory; it is loaded again on the next request.
    /// Unset (default) keeps it loaded until the application stops.
    /// </summary>
    public TimeSpan? KeepAlive { get; set; }

    /// <summary>
    /// How long stopping waits for requests in flight to finish before cancelling them; 30 seconds by default.
    /// New requests are rejected from the moment stopping begins.
    /// </summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The most tokens a chat answer may have when the request does not set <c>ChatOptions.MaxOutputTokens</c>; 512 by default.</summary>
    public int DefaultMaxOutputTokens { get; set; } = 512;

    /// <summary>Whether <c>&lt;think&gt;…&lt;/think&gt;</c> in the model's answer becomes reasoning content (true, default) rather than text.</summary>
    public bool ParseReasoning { get; set; } = true;

    /// <summary>The share of the request queue (0 to 1] at which the health check reports Degraded; 0.8 by default.</summary>
    public double DegradedQueueFraction { get; set; } = 0.8;

    /// <summary>
    /// ONNX Runtime session config entries for tuning (see <see cref="GlmModelOptions.OnnxRuntimeSessionConfig"/>); empty
    /// by default. From configuration: <c>"AutoGlm": { "OnnxRuntimeSessionConfig": { "session.intra_op.allow_spinning": "0" } }</c>.
    /// </summary>
    public IDictionary<string, string> OnnxRuntimeSessionConfig { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    internal GlmModelOptions ToModelOptions(ILoggerFactory loggerFactory, IMeterFactory? meterFactory) => new()
    {
        ExecutionProvider = Execution.ExecutionProvider.Parse(ExecutionProvider),
        IntraOpThreads = IntraOpThreads,
        MaxBatchSize = MaxBatchSize,
        MaxSequenceLength = MaxSequenceLength,
        KvBudgetTokens = KvBudgetTokens,
        QueueCapacity = QueueCapacity,
        PrefillChunkTokens = PrefillChunkTokens,
        WeightLoading = WeightLoading,
        WarmUp = WarmUp,
        OnnxRuntimeSessionConfig = OnnxRuntimeSessionConfig.Count == 0 ? null : new Dictionary<string, string>(OnnxRuntimeSessionConfig, StringComparer.Ordinal),
        LoggerFactory = loggerFactory,
        MeterFactory = meterFactory,
    };

    internal AutoGlmChatClientOptions ToChatClientOptions() => new()
    {
        ModelId = ModelId ?? DefaultModelId(ModelPath!),
        DefaultMaxOutputTokens = DefaultMaxOutputTokens,
        ParseReasoning = ParseReasoning,
        ModelAliases = [.. ModelAliases],
    };

    internal static string DefaultModelId(string modelPath)
    {
        string trimmed = Path.TrimEndingDirectorySeparator(Path.GetFullPath(modelPath));
        string name = Path.GetFileName(trimmed);
        return name.Length == 0 ? trimmed : name;
    }
}
