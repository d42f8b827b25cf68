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
    public static ModelSession Open(GlmModelInfo info, ExecutionProvider provider, int intraOpThreads, WeightLoading weightLoading, ILogger? logger)
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
        if (weightLoading == WeightLoading.Mapped)
        {
            options.AddSessionConfigEntry(DisablePrepackingKey, "1");
        }

        ExecutionProviderSelection selection = ExecutionProviderSelector.For(options, logger).Select(provider);
        OrtSession session = OrtSession.Create(Path.Combine(info.FolderPath, ModelFolder.ModelFile), options);
        return new ModelSession(info, session, selection, weightLoading);
    }

    public void Dispose() => Session.Dispose();
}
