namespace AutoGlm;

/// <summary>
/// How a model's weights reach ONNX Runtime's kernels (DESIGN.md decision 5). Both read the 64 KiB-aligned
/// <c>model.onnx.data</c> through ONNX Runtime's own memory map; they differ in whether the kernels re-pack it.
/// </summary>
public enum WeightLoading
{
    /// <summary>
    /// The default: ONNX Runtime pre-packs the weights into its kernels' layouts. Fastest decoding; the packed copy is
    /// private (anonymous) memory of each process. Required for int4 models.
    /// </summary>
    Packed = 0,

    /// <summary>
    /// Weights stay in the file-backed page cache (<c>session.disable_prepacking</c>): loading is near-instant and
    /// processes serving the same folder share one copy, at the cost of slower fp32/fp16 decoding. Refused for int4
    /// models, whose <c>MatMulNBits</c> kernels run about 30× slower without pre-packing.
    /// </summary>
    Mapped = 1,
}
