namespace AutoGlm.ModelBuilder.Checkpoints;

/// <summary>The shape and math constants of a GLM model, normalised from any of the three config.json dialects.</summary>
internal sealed record GlmConfig
{
    public required GlmArchitecture Architecture { get; init; }

    public required int VocabSize { get; init; }

    public required int HiddenSize { get; init; }

    public required int IntermediateSize { get; init; }

    public required int NumLayers { get; init; }

    public required int NumHeads { get; init; }

    public required int NumKvHeads { get; init; }

    public required int HeadDim { get; init; }

    /// <summary>Channels of each head that are rotated (the first ones, in interleaved pairs).</summary>
    public required int RotaryDim { get; init; }

    public required double RopeTheta { get; init; }

    public required double RmsNormEps { get; init; }

    public required int MaxPositions { get; init; }

    public required bool QkvBias { get; init; }

    public required bool TieWordEmbeddings { get; init; }

    public required IReadOnlyList<int> EosTokenIds { get; init; }

    public int? BosTokenId { get; init; }

    public int? PadTokenId { get; init; }

    public string ModelType => Architecture switch
    {
        GlmArchitecture.Glm => "glm",
        GlmArchitecture.Glm4 => "glm4",
        _ => "chatglm",
    };

    public int QSize => NumHeads * HeadDim;

    public int KvSize => NumKvHeads * HeadDim;

    public int QkvSize => QSize + (2 * KvSize);
}
