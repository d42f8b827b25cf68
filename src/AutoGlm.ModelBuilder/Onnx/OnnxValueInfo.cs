using AutoGlm.Runtime;

namespace AutoGlm.ModelBuilder.Onnx;

/// <summary>A graph input or output: name, element type, and dimensions that are either fixed numbers or symbolic names.</summary>
internal sealed record OnnxValueInfo(string Name, TensorElementType ElementType, IReadOnlyList<OnnxDim> Dims)
{
    // ValueInfoProto: name 1, type 2; TypeProto: tensor_type 1; Tensor: elem_type 1, shape 2;
    // TensorShapeProto: dim 1; Dimension: dim_value 1, dim_param 2.
    public ProtobufWriter Encode()
    {
        var shape = new ProtobufWriter();
        foreach (OnnxDim d in Dims)
        {
            var dim = new ProtobufWriter();
            if (d.Symbol is string symbol)
            {
                dim.WriteString(2, symbol);
            }
            else
            {
                dim.WriteVarint(1, d.Value);
            }

            shape.WriteMessage(1, dim);
        }

        var tensorType = new ProtobufWriter();
        tensorType.WriteVarint(1, (int)ElementType);
        tensorType.WriteMessage(2, shape);
        var type = new ProtobufWriter();
        type.WriteMessage(1, tensorType);
        var w = new ProtobufWriter();
        w.WriteString(1, Name);
        w.WriteMessage(2, type);
        return w;
    }
}
