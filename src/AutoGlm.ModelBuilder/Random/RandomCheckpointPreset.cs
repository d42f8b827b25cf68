namespace AutoGlm.ModelBuilder.Random;

/// <summary>The shapes of a named random-checkpoint preset.</summary>
internal sealed record RandomCheckpointPreset(
    string Name,
    int Layers,
    int HiddenSize,
    int Heads,
    int KvHeads,
    int HeadDim,
    int IntermediateSize,
    int VocabSize,
    double RotaryFactor,
    bool AttentionBias,
    bool TieWordEmbeddings,
    int MaxPositions,
    double RopeTheta)
{
    public static IReadOnlyList<RandomCheckpointPreset> All { get; } =
    [
        // Builds and runs in well under a second; head_dim 32 keeps a 0.5 rotary factor legal for GroupQueryAttention.
        new("tiny", 2, 128, 4, 2, 32, 256, 1024, 0.5, true, false, 256, 10000),
        // About 100M parameters, for benchmarks and memory measurements.
        new("small", 12, 768, 12, 4, 64, 2048, 16384, 0.5, true, false, 2048, 10000),
        new("glm-edge-1.5b", 28, 2048, 16, 4, 128, 6144, 59264, 1.0, false, true, 8192, 10000),
        new("glm-edge-4b", 28, 3072, 24, 6, 128, 8192, 59264, 1.0, false, true, 8192, 10000),
        new("glm-4-9b", 40, 4096, 32, 2, 128, 13696, 151552, 0.5, true, false, 131072, 10000),
    ];

    public static RandomCheckpointPreset Find(string name)
        => All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"Unknown preset '{name}'. Known presets: {string.Join(", ", All.Select(p => p.Name))}.");
}
