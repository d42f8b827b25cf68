using AutoGlm.ModelBuilder;

namespace AutoGlm.Samples.Chat;

/// <summary>
/// The model the sample uses when none is given: the builder's <c>tiny</c> preset with random weights, built once
/// into the user's cache folder (the same one <c>autoglm chat</c> uses, so either builds it for both).
/// </summary>
/// <remarks>Not thread-safe within a process; concurrent processes are handled by building into a private folder and moving it.</remarks>
internal static class DemoModel
{
    public static async Task<string> EnsureAsync(TextWriter progress, CancellationToken cancellationToken)
    {
        string? root = Environment.GetEnvironmentVariable("AUTOGLM_CACHE");
        if (string.IsNullOrEmpty(root))
        {
            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            root = string.IsNullOrEmpty(xdg)
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "autoglm")
                : Path.Combine(xdg, "autoglm");
        }

        string cacheFolder = Path.Combine(root, "demo-model", "tiny-v1");
        string model = Path.Combine(cacheFolder, "model");
        if (File.Exists(Path.Combine(model, "genai_config.json")))
        {
            return model;
        }

        progress.WriteLine($"No model folder given: building the tiny demo model (random weights) into {cacheFolder} ...");
        string staging = $"{cacheFolder}.tmp-{Environment.ProcessId}";
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }

        await GlmModelBuilder.BuildRandomAsync(new RandomCheckpointOptions { Preset = "tiny", Seed = 1 }, Path.Combine(staging, "model"), cancellationToken: cancellationToken);
        Directory.CreateDirectory(Path.GetDirectoryName(cacheFolder)!);
        try
        {
            Directory.Move(staging, cacheFolder);
        }
        catch (IOException) when (File.Exists(Path.Combine(model, "genai_config.json")))
        {
            Directory.Delete(staging, recursive: true);
        }

        return model;
    }
}
