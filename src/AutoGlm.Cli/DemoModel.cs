using AutoGlm.ModelBuilder;

namespace AutoGlm.Cli;

/// <summary>
/// The small model <c>autoglm chat</c> uses when none is given: the builder's <c>tiny</c> preset with random
/// weights and a trained tokenizer, built once and cached (it talks nonsense, but proves the whole path).
/// </summary>
internal static class DemoModel
{
    private const string Version = "v1";

    public static string CacheFolder
    {
        get
        {
            string? root = Environment.GetEnvironmentVariable("AUTOGLM_CACHE");
            if (string.IsNullOrEmpty(root))
            {
                string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
                root = string.IsNullOrEmpty(xdg)
                    ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "autoglm")
                    : Path.Combine(xdg, "autoglm");
            }

            return Path.Combine(root, "demo-model", $"tiny-{Version}");
        }
    }

    /// <summary>Returns the demo model folder, building it first when it is not cached.</summary>
    public static async Task<string> EnsureAsync(TextWriter progress, CancellationToken cancellationToken)
    {
        string folder = Path.Combine(CacheFolder, "model");
        if (File.Exists(Path.Combine(folder, "genai_config.json")))
        {
            return folder;
        }

        progress.WriteLine($"No --model given: building a small demo model (random weights) into {CacheFolder} ...");
        string staging = CacheFolder + ".tmp-" + Environment.ProcessId;
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }

        await GlmModelBuilder.BuildRandomAsync(new RandomCheckpointOptions { Preset = "tiny", Seed = 1 }, Path.Combine(staging, "model"), cancellationToken: cancellationToken).ConfigureAwait(false);
        Directory.CreateDirectory(Path.GetDirectoryName(CacheFolder)!);
        try
        {
            Directory.Move(staging, CacheFolder);
        }
        catch (IOException) when (File.Exists(Path.Combine(folder, "genai_config.json")))
        {
            // Another process built it at the same time; use theirs.
            Directory.Delete(staging, recursive: true);
        }

        progress.WriteLine("Demo model ready.");
        return folder;
    }
}
