using AutoGlm.ModelBuilder;

namespace AutoGlm.Benchmarks;

/// <summary>
/// Random-weight models for the benchmarks, built once per machine into
/// <c>~/.cache/autoglm/bench-models/&lt;preset&gt;-&lt;precision&gt;</c> and reused when present.
/// </summary>
internal static class BenchmarkModels
{
    /// <summary>Whether sessions opened directly (the bare loop, the decoder alone) map the weights: as <see cref="GlmModel"/> does by default, so every contender has the same session options.</summary>
    public static WeightLoading WeightLoading { get; } = new GlmModelOptions().WeightLoading;

    public static string Root { get; } = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "autoglm", "bench-models");

    /// <summary>The folder of the <paramref name="preset"/> model at <paramref name="precision"/>, built (seed 1) if missing.</summary>
    public static string Ensure(string preset, ModelPrecision precision) => Ensure(preset, precision, int4AccuracyLevel: 0);

    /// <summary>As <see cref="Ensure(string, ModelPrecision)"/>, int4 with <c>MatMulNBits</c> <c>accuracy_level</c> <paramref name="int4AccuracyLevel"/> (folder suffix <c>-acc4</c> when not 0).</summary>
    public static string Ensure(string preset, ModelPrecision precision, int int4AccuracyLevel)
    {
        string suffix = int4AccuracyLevel == 0 ? "" : $"-acc{int4AccuracyLevel}";
        string folder = Path.Combine(Root, $"{preset}-{precision.ToString().ToLowerInvariant()}{suffix}");
        if (File.Exists(Path.Combine(folder, "model.onnx")) && File.Exists(Path.Combine(folder, "genai_config.json")))
        {
            return folder;
        }

        string checkpoint = Path.Combine(Root, $"{preset}-checkpoint");
        if (!File.Exists(Path.Combine(checkpoint, "config.json")))
        {
            RandomCheckpoint.WriteAsync(new RandomCheckpointOptions { Preset = preset, Seed = 1 }, checkpoint).GetAwaiter().GetResult();
        }

        GlmModelBuilder.BuildAsync(checkpoint, folder, new ModelBuildOptions { Precision = precision, Int4AccuracyLevel = int4AccuracyLevel }).GetAwaiter().GetResult();
        return folder;
    }
}
