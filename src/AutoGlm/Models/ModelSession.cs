using AutoGlm.Execution;
using AutoGlm.Native;
using Microsoft.Extensions.Logging;

namespace AutoGlm.Models;

/// <summary>
/// A model folder opened for inference: its description, its weights (memory-mapped), and an ONNX Runtime
/// session on the chosen execution provider, checked against the model I/O contract.
/// </summary>
/// <remarks>Thread-safe to read. Disposal releases the session, then the mapped weights.</remarks>
internal sealed class ModelSession : IDisposable
{
    private readonly MappedFile? _weights;

    private ModelSession(GlmModelInfo info, OrtSession session, MappedFile? weights, ExecutionProviderSelection provider)
    {
        Info = info;
        Session = session;
        _weights = weights;
        Provider = provider;
    }

    public GlmModelInfo Info { get; }

    public OrtSession Session { get; }

    public ExecutionProviderSelection Provider { get; }

    /// <summary>Whether the weights are read from a memory map (otherwise ONNX Runtime read the file itself).</summary>
    public bool WeightsAreMapped => _weights is not null;

    /// <summary>Opens <paramref name="info"/>'s folder.</summary>
    /// <exception cref="ModelLoadException">The weights or the graph cannot be loaded.</exception>
    /// <exception cref="ExecutionProviderUnavailableException">The requested provider cannot run here.</exception>
    public static ModelSession Open(GlmModelInfo info, ExecutionProvider provider, int intraOpThreads, bool mapWeights, ILogger? logger)
    {
        string weightsPath = Path.Combine(info.FolderPath, ModelFolder.WeightsFile);
        MappedFile? weights = null;
        OrtSessionOptions? options = null;
        try
        {
            options = new OrtSessionOptions();
            if (intraOpThreads > 0)
            {
                options.SetIntraOpThreads(intraOpThreads);
            }

            options.SetGraphOptimizationLevel(99);
            ExecutionProviderSelection selection = ExecutionProviderSelector.For(options, logger).Select(provider);
            if (mapWeights && File.Exists(weightsPath))
            {
                weights = MappedFile.Open(weightsPath);
                options.AddExternalDataInMemory(weights);
            }

            OrtSession session = OrtSession.Create(Path.Combine(info.FolderPath, ModelFolder.ModelFile), options);
            return new ModelSession(info, session, weights, selection);
        }
        catch
        {
            weights?.Dispose();
            throw;
        }
        finally
        {
            options?.Dispose();
        }
    }

    public void Dispose()
    {
        Session.Dispose();
        _weights?.Dispose();
    }
}
