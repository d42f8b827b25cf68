namespace AutoGlm.Extensions.Hosting;

/// <summary>Loads a model folder; the seam tests use to observe and gate loading.</summary>
internal interface IGlmModelLoader
{
    /// <summary>Loads (and, by option, warms) the model at <paramref name="path"/>.</summary>
    Task<GlmModel> LoadAsync(string path, GlmModelOptions options, CancellationToken cancellationToken);
}
