using AutoGlm.Execution;
using AutoGlm.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace AutoGlm.Models;

/// <summary>
/// A model folder opened for inference: its description and an ONNX Runtime session on the chosen execution provider,
/// with the weights loaded the way <see cref="WeightLoading"/> asks.
/// </summary>
/// <remarks>Thread-safe to read. Disposal releases the session.</remarks>
internal sealed class ModelSession : IDisposable
{
    /// <summary>ONNX Runtime's session config key that keeps weights in their file layout (DESIGN.md decision 5).</summary>
    public const string DisablePrepackingKey = "session.disable_prepacking";

    /// <summary>
    /// ONNX Runtime's session config key that stops the intra-op threads spinning as soon as a run returns (they spin
    /// again from the next run). AutoGlm sets it: between two decode steps the spinning threads held both cores of a
    /// 2-core machine, so the thread that hands a token to its reader waited for the kernel's scheduler tick (4 ms) —
    /// tokens reached readers in 4 ms quanta. Spinning inside a run (between operators) stays on; turning all spinning
    /// off (<c>session.intra_op.allow_spinning</c> = 0) cost a quarter of the decode speed.
    /// </summary>
    public const string ForceSpinningStopKey = "session.force_spinning_stop";

    private ModelSession(GlmModelInfo info, OrtSession session, ExecutionProviderSelection provider, WeightLoading weightLoading)
    {
        Info = info;
        Session = session;
        Provider = provider;
        WeightLoading = weightLoading;
    }

    public GlmModelInfo Info { get; }

    public OrtSession Session { get; }

    public ExecutionProviderSelection Provider { get; }

    public WeightLoading WeightLoading { get; }

    /// <summary>Opens <paramref name="info"/>'s folder.</summary>
    /// <exception cref="ModelLoadException">The graph cannot be loaded, or <paramref name="weightLoading"/> does not suit the model.</exception>
    /// <exception cref="ExecutionProviderUnavailableException">The requested provider cannot run here.</exception>
    /// <param name="info">The model folder's description.</param>
    /// <param name="provider">The execution provider to run on.</param>
    /// <param name="intraOpThreads">ONNX Runtime's intra-op threads; 0 lets it choose.</param>
    /// <param name="weightLoading">How the weights reach the kernels.</param>
    /// <param name="logger">Where provider selection is logged, if anywhere.</param>
    /// <param name="sessionConfig">Entries that take precedence over AutoGlm's own (<see cref="GlmModelOptions.OnnxRuntimeSessionConfig"/>).</param>
    public static ModelSession Open(
        GlmModelInfo info,
        ExecutionProvider provider,
        int intraOpThreads,
        WeightLoading weightLoading,
        ILogger? logger,
        IReadOnlyDictionary<string, string>? sessionConfig = null)
    {
        if (weightLoading == WeightLoading.Mapped && string.Equals(info.Precision, "int4", StringComparison.OrdinalIgnoreCase))
        {
            throw new ModelLoadException(
                $"The model '{info.FolderPath}' is int4, and WeightLoading.Mapped keeps weights unpacked: ONNX Runtime's int4 MatMulNBits " +
                "kernels run about 30× slower that way. Use WeightLoading.Packed (the default) for int4 models, or build an fp16/fp32 model to share mapped weights.");
        }

        _ = OrtRuntime.Instance;
        using var options = new SessionOptions();
        if (intraOpThreads > 0)
        {
            options.IntraOpNumThreads = intraOpThreads;
        }

        options.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL;
        // AutoGlm's own entries, unless the caller's entries set the same keys (ONNX Runtime would log a warning for the override).
        if (weightLoading == WeightLoading.Mapped && sessionConfig?.ContainsKey(DisablePrepackingKey) != true)
        {
            options.AddSessionConfigEntry(DisablePrepackingKey, "1");
        }

        if (sessionConfig?.ContainsKey(ForceSpinningStopKey) != true)
        {
            options.AddSessionConfigEntry(ForceSpinningStopKey, "1");
        }

        if (sessionConfig is not null)
        {
            foreach ((string key, string value) in sessionConfig)
            {
                options.AddSessionConfigEntry(key, value);
            }
        }

        ExecutionProviderSelection selection = ExecutionProviderSelector.For(options, logger).Select(provider);
        OrtSession session = OrtSession.Create(Path.Combine(info.FolderPath, ModelFolder.ModelFile), options);
        return new ModelSession(info, session, selection, weightLoading);
    }

    public void Dispose() => Session.Dispose();
}
