namespace AutoGlm.ModelBuilder;

/// <summary>What <see cref="RandomCheckpoint"/> generates: a preset's shapes, an architecture, a seed, and optional overrides.</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
public sealed record RandomCheckpointOptions
{
    /// <summary>Shape preset: <c>tiny</c>, <c>small</c>, <c>glm-edge-1.5b</c>, <c>glm-edge-4b</c> or <c>glm-4-9b</c>.</summary>
    public string Preset { get; init; } = "tiny";

    /// <summary>Checkpoint dialect to write (tensor names and config.json fields).</summary>
    public GlmArchitecture Architecture { get; init; } = GlmArchitecture.Glm;

    /// <summary>Seed of every random value; the same options give byte-identical files.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Overrides the preset's layer count.</summary>
    public int? Layers { get; init; }

    /// <summary>Overrides the preset's hidden size.</summary>
    public int? HiddenSize { get; init; }

    /// <summary>Overrides the preset's attention head count.</summary>
    public int? Heads { get; init; }

    /// <summary>Overrides the preset's key/value head count.</summary>
    public int? KvHeads { get; init; }

    /// <summary>Overrides the preset's head dimension.</summary>
    public int? HeadDim { get; init; }

    /// <summary>Overrides the preset's MLP width.</summary>
    public int? IntermediateSize { get; init; }

    /// <summary>Overrides the preset's vocabulary size (model rows; the trained tokenizer may use fewer).</summary>
    public int? VocabSize { get; init; }

    /// <summary>Overrides the preset's partial rotary factor (0.5 or 1.0; ChatGLM always rotates half).</summary>
    public double? RotaryFactor { get; init; }

    /// <summary>Overrides whether the q/k/v projections have biases.</summary>
    public bool? AttentionBias { get; init; }

    /// <summary>Overrides whether lm_head shares the embedding table (not available for ChatGLM).</summary>
    public bool? TieWordEmbeddings { get; init; }

    /// <summary>Standard deviation of the projection and embedding weights; 0.02 by default (larger values make attention patterns sharper, which tests use).</summary>
    public double InitializerRange { get; init; } = 0.02;

    /// <summary>Element type of the written weights: <c>F32</c> (default), <c>F16</c> or <c>BF16</c> (as real GLM checkpoints ship).</summary>
    public string WeightDType { get; init; } = "F32";

    /// <summary>Overrides the preset's maximum sequence length.</summary>
    public int? MaxPositions { get; init; }
}
