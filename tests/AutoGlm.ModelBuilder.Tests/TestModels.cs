using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace AutoGlm.ModelBuilder.Tests;

/// <summary>What a test model is made of; equal specs share one checkpoint and one built folder per test run.</summary>
internal sealed record ModelSpec(
    GlmArchitecture Architecture,
    double RotaryFactor = 0.5,
    bool Tied = false,
    bool Bias = true,
    ModelPrecision Precision = ModelPrecision.Fp32,
    bool UnusualChatGlmConstants = false,
    bool Int4Embedding = false,
    string WeightDType = "F32",
    int Int4AccuracyLevel = 0)
{
    public RandomCheckpointOptions CheckpointOptions => new()
    {
        Preset = "tiny",
        Architecture = Architecture,
        Seed = 7,
        RotaryFactor = Architecture == GlmArchitecture.ChatGlm ? null : RotaryFactor,
        TieWordEmbeddings = Architecture == GlmArchitecture.ChatGlm ? null : Tied,
        AttentionBias = Bias,
        MaxPositions = 64,
        InitializerRange = 0.15,
        WeightDType = WeightDType,
    };

    public string CheckpointKey => $"{Architecture}-{RotaryFactor}-{Tied}-{Bias}-{UnusualChatGlmConstants}-{WeightDType}".ToLowerInvariant();
}

/// <summary>Random checkpoints and built models, cached for the test run under one temporary folder deleted at exit.</summary>
internal static class TestModels
{
    private static readonly ConcurrentDictionary<string, Lazy<string>> s_checkpoints = new();
    private static readonly ConcurrentDictionary<string, Lazy<string>> s_models = new();

    static TestModels()
    {
        Root = Path.Combine(Path.GetTempPath(), "autoglm-builder-tests-" + Environment.ProcessId);
        Directory.CreateDirectory(Root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(Root, recursive: true);
            }
            catch (IOException)
            {
            }
        };
    }

    public static string Root { get; }

    /// <summary>A fresh empty path under the run's folder.</summary>
    public static string NewPath(string name) => Path.Combine(Root, name + "-" + Guid.NewGuid().ToString("N")[..8]);

    public static string Checkpoint(ModelSpec spec) => s_checkpoints.GetOrAdd(spec.CheckpointKey, key => new Lazy<string>(() =>
    {
        string dir = Path.Combine(Root, "ckpt-" + key);
        RandomCheckpoint.Write(spec.CheckpointOptions, dir, CancellationToken.None);
        if (spec.UnusualChatGlmConstants)
        {
            string configPath = Path.Combine(dir, "config.json");
            JsonNode config = JsonNode.Parse(File.ReadAllText(configPath))!;
            config["rope_ratio"] = 0.02;
            config["layernorm_epsilon"] = 0.5;
            File.WriteAllText(configPath, config.ToJsonString());
        }

        return dir;
    })).Value;

    public static string Model(ModelSpec spec) => s_models.GetOrAdd($"{spec.CheckpointKey}-{spec.Precision}-{spec.Int4Embedding}-acc{spec.Int4AccuracyLevel}".ToLowerInvariant(), key => new Lazy<string>(() =>
    {
        string dir = Path.Combine(Root, "model-" + key);
        GlmModelBuilder.Build(Checkpoint(spec), dir, new ModelBuildOptions { Precision = spec.Precision, QuantizeEmbedding = spec.Int4Embedding, Int4AccuracyLevel = spec.Int4AccuracyLevel }, null, CancellationToken.None);
        return dir;
    })).Value;
}
