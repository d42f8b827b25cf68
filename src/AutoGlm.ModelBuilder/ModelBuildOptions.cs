namespace AutoGlm.ModelBuilder;

/// <summary>Options of <see cref="GlmModelBuilder"/>.</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
public sealed record ModelBuildOptions
{
    /// <summary>Weight precision of the output model; float32 by default.</summary>
    public ModelPrecision Precision { get; init; } = ModelPrecision.Fp32;

    /// <summary>Elements per quantisation block for <see cref="ModelPrecision.Int4"/>: a power of two, at least 16; 32 by default.</summary>
    public int Int4BlockSize { get; init; } = 32;

    /// <summary>
    /// The <c>accuracy_level</c> of <see cref="ModelPrecision.Int4"/>'s <c>MatMulNBits</c> nodes: the precision ONNX Runtime
    /// computes in — 0 (unset: fp32), 1 (fp32), 2 (fp16), 3 (bf16) or 4 (int8 activations, VNNI/AVX-512 on x64 CPUs).
    /// </summary>
    public int Int4AccuracyLevel { get; init; } = DefaultInt4AccuracyLevel;

    /// <summary>The default of <see cref="Int4AccuracyLevel"/>.</summary>
    public const int DefaultInt4AccuracyLevel = 0;

    /// <summary>Whether <see cref="ModelPrecision.Int4"/> also quantises the output projection (lm_head); true by default.</summary>
    public bool QuantizeLmHead { get; init; } = true;

    /// <summary>Whether <see cref="ModelPrecision.Int4"/> also stores the token embedding in 4 bits (<c>GatherBlockQuantized</c>); false by default.</summary>
    public bool QuantizeEmbedding { get; init; }

    /// <summary>The longest sequence the model will serve (rotary tables and <c>context_length</c>); null takes the checkpoint's maximum.</summary>
    public int? MaxSequenceLength { get; init; }
}
