namespace AutoGlm.ModelBuilder.Onnx;

/// <summary>A node attribute: exactly one of an int, a float, a string, a list of ints or a tensor.</summary>
internal sealed class OnnxAttribute
{
    private OnnxAttribute(string name)
    {
        Name = name;
    }

    public string Name { get; }

    public long? Int { get; private init; }

    public float? Float { get; private init; }

    public string? String { get; private init; }

    public IReadOnlyList<long>? Ints { get; private init; }

    public OnnxTensor? Tensor { get; private init; }

    public static OnnxAttribute Of(string name, long value) => new(name) { Int = value };

    public static OnnxAttribute Of(string name, float value) => new(name) { Float = value };

    public static OnnxAttribute Of(string name, string value) => new(name) { String = value };

    public static OnnxAttribute Of(string name, long[] values) => new(name) { Ints = values };

    public static OnnxAttribute Of(string name, OnnxTensor value) => new(name) { Tensor = value };

    // AttributeProto: name 1, f 2, i 3, s 4, t 5, ints 8, type 20 (FLOAT 1, INT 2, STRING 3, TENSOR 4, INTS 7).
    public ProtobufWriter Encode()
    {
        var w = new ProtobufWriter();
        w.WriteString(1, Name);
        if (Float is float f)
        {
            w.WriteFixed32(2, f);
            w.WriteVarint(20, 1);
        }
        else if (Int is long i)
        {
            w.WriteVarint(3, i);
            w.WriteVarint(20, 2);
        }
        else if (String is string s)
        {
            w.WriteString(4, s);
            w.WriteVarint(20, 3);
        }
        else if (Tensor is OnnxTensor t)
        {
            w.WriteMessage(5, t.Encode());
            w.WriteVarint(20, 4);
        }
        else if (Ints is IReadOnlyList<long> ints)
        {
            w.WritePackedVarints(8, ints);
            w.WriteVarint(20, 7);
        }

        return w;
    }
}
