namespace AutoGlm.ModelBuilder.Safetensors;

/// <summary>The element types the builder reads from and writes to safetensors files.</summary>
internal enum SafetensorsDType
{
    F32,
    F16,
    BF16,
}
