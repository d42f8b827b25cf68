namespace AutoGlm.ModelBuilder;

/// <summary>How the builder stores weights (and, where the provider supports it, computes).</summary>
public enum ModelPrecision
{
    /// <summary>float32 weights, activations and KV cache.</summary>
    Fp32,

    /// <summary>float16 weights, activations and KV cache; logits stay float32.</summary>
    Fp16,

    /// <summary>Block-wise symmetric 4-bit weights (<c>MatMulNBits</c>); float32 activations and KV cache.</summary>
    Int4,
}
