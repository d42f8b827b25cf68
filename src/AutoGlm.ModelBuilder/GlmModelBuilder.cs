using AutoGlm.ModelBuilder.Checkpoints;
using AutoGlm.ModelBuilder.Graph;
using AutoGlm.ModelBuilder.Safetensors;

namespace AutoGlm.ModelBuilder;

/// <summary>
/// Converts a Hugging Face GLM checkpoint folder (<c>config.json</c> + safetensors + tokenizer files) into an
/// AutoGlm / ONNX Runtime GenAI model folder: <c>model.onnx</c>, <c>model.onnx.data</c>, <c>genai_config.json</c>,
/// and the configuration and tokenizer files copied through.
/// </summary>
/// <remarks>
/// Stateless and thread-safe. The output is assembled in a temporary sibling folder and moved into place
/// only when complete, so a failed or cancelled conversion leaves nothing that looks like a model.
/// </remarks>
public static class GlmModelBuilder
{
    private static readonly string[] s_copiedFiles =
    [
        "config.json", "generation_config.json", "tokenizer.json", "tokenizer.model", "tokenizer_config.json",
        "special_tokens_map.json", "added_tokens.json", "vocab.json", "merges.txt",
    ];

    /// <summary>Converts the checkpoint in <paramref name="checkpointDirectory"/> into a model folder at <paramref name="outputDirectory"/>.</summary>
    /// <param name="checkpointDirectory">Folder with <c>config.json</c> and the safetensors weights.</param>
    /// <param name="outputDirectory">Folder to create; it must not exist or be empty.</param>
    /// <param name="options">Precision and quantisation options; null for float32.</param>
    /// <param name="progress">Receives progress after each tensor (and tile of a large tensor).</param>
    /// <param name="cancellationToken">Cancels the conversion; the partial output is deleted.</param>
    /// <returns>A task that completes when the folder is in place.</returns>
    /// <exception cref="ModelLoadException">The checkpoint is missing, malformed, of an unsupported architecture, or its tensors do not match its config.</exception>
    /// <exception cref="IOException">The output folder exists and is not empty, or cannot be written.</exception>
    /// <exception cref="ArgumentException">An option is invalid (int4 block size, maximum sequence length).</exception>
    /// <exception cref="OperationCanceledException">The conversion was cancelled.</exception>
    public static Task BuildAsync(string checkpointDirectory, string outputDirectory, ModelBuildOptions? options = null, IProgress<ModelBuildProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(checkpointDirectory);
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        options ??= new ModelBuildOptions();
        return Task.Run(() => Build(checkpointDirectory, outputDirectory, options, progress, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Writes a random-weight checkpoint (see <see cref="RandomCheckpoint"/>) into a temporary folder, converts it into a
    /// model folder at <paramref name="outputDirectory"/>, and deletes the checkpoint: a runnable model in one call,
    /// for tests, benchmarks and demos.
    /// </summary>
    /// <param name="checkpointOptions">Preset, architecture, seed and overrides of the random checkpoint.</param>
    /// <param name="outputDirectory">Folder to create; it must not exist or be empty.</param>
    /// <param name="options">Precision and quantisation options; null for float32.</param>
    /// <param name="cancellationToken">Cancels the work; partial output is deleted.</param>
    /// <returns>A task that completes when the model folder is in place.</returns>
    /// <exception cref="ArgumentException">A checkpoint or build option is invalid (unknown preset, bad override).</exception>
    /// <exception cref="IOException">The output folder exists and is not empty, or cannot be written.</exception>
    /// <exception cref="OperationCanceledException">The work was cancelled.</exception>
    public static async Task BuildRandomAsync(RandomCheckpointOptions checkpointOptions, string outputDirectory, ModelBuildOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(checkpointOptions);
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        string checkpoint = Path.Combine(Path.GetTempPath(), "autoglm-random-checkpoint-" + Guid.NewGuid().ToString("N"));
        try
        {
            await RandomCheckpoint.WriteAsync(checkpointOptions, checkpoint, cancellationToken).ConfigureAwait(false);
            await BuildAsync(checkpoint, outputDirectory, options, progress: null, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (Directory.Exists(checkpoint))
            {
                Directory.Delete(checkpoint, recursive: true);
            }
        }
    }

    internal static void Build(string checkpointDirectory, string outputDirectory, ModelBuildOptions options, IProgress<ModelBuildProgress>? progress, CancellationToken cancellationToken)
    {
        string target = Path.GetFullPath(outputDirectory);
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
        {
            throw new IOException($"The output folder '{target}' already exists and is not empty. Choose a new folder or delete it first.");
        }

        if (!Directory.Exists(checkpointDirectory))
        {
            throw new ModelLoadException($"The checkpoint folder '{checkpointDirectory}' does not exist.");
        }

        GlmConfig config = GlmConfigReader.Read(Path.Combine(checkpointDirectory, "config.json"));
        string staging = StagingDirectory.Create(target);
        try
        {
            using (SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.Open(checkpointDirectory))
            {
                var graph = new GlmGraphBuilder(config, checkpoint, options, progress, cancellationToken);
                graph.Build(staging);
                GenAiConfigWriter.Write(Path.Combine(staging, GenAiConfigWriter.FileName), config, graph.MaxSequenceLength, graph.KvType, options.Precision);
            }

            foreach (string name in s_copiedFiles)
            {
                string source = Path.Combine(checkpointDirectory, name);
                if (File.Exists(source))
                {
                    File.Copy(source, Path.Combine(staging, name));
                }
            }

            cancellationToken.ThrowIfCancellationRequested();
            StagingDirectory.Commit(staging, target);
        }
        catch
        {
            StagingDirectory.TryDelete(staging);
            throw;
        }
    }
}
