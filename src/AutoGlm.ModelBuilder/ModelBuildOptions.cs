namespace AutoGlm.ModelBuilder;

/// <summary>Options of <see cref="GlmModelBuilder"/>.</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
public sealed record ModelBuildOptions
{
    /// <summary>Weight precision of the output model; float32 by default.</summary>
    public ModelPrecision Precision { get; init; } = ModelPrecision.Fp32;

    /// <summary>Elements per quantisation block for <see cref="ModelPrecision.Int4"/>: a power of two, at least 16; 32 by default.</summary>
    public int Int4BlockSize { get; init; } = 32;

    /// <summary>Whether <see cref="ModelPrecision.Int4"/> also quantises the output projection (lm_head); true by default.</summary>
    public bool QuantizeLmHead { get; init; } = true;

    /// <summary>Whether <see cref="ModelPrecision.Int4"/> also stores the token embedding in 4 bits (<c>GatherBlockQuantized</c>); false by default.</summary>
    public bool QuantizeEmbedding { get; init; }

    /// <summary>The longest sequence the model will serve (rotary tables and <c>context_length</c>); null takes the checkpoint's maximum.</summary>
    public int? MaxSequenceLength { get; init; }
}
