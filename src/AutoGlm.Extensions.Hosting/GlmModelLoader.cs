namespace AutoGlm.Extensions.Hosting;

/// <summary>Loads models with <see cref="GlmModel.LoadAsync"/>, off the caller's thread.</summary>
/// <remarks>Stateless and thread-safe.</remarks>
internal sealed class GlmModelLoader : IGlmModelLoader
{
    public Task<GlmModel> LoadAsync(string path, GlmModelOptions options, CancellationToken cancellationToken)
        => GlmModel.LoadAsync(path, options, cancellationToken);
}
