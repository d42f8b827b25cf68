namespace AutoGlm.ModelBuilder.Onnx;

/// <summary>One dimension of a declared shape: a fixed size or a symbolic name.</summary>
internal readonly record struct OnnxDim(long Value, string? Symbol)
{
    public static implicit operator OnnxDim(long value) => new(value, null);

    public static implicit operator OnnxDim(string symbol) => new(0, symbol);

    public override string ToString() => Symbol ?? Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
