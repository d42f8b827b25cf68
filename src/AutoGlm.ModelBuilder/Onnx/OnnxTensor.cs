using AutoGlm.Runtime;

namespace AutoGlm.ModelBuilder.Onnx;

/// <summary>
/// A TensorProto: either small inline raw data (constants) or a reference to a range of the external
/// data file (initializers).
/// </summary>
internal sealed class OnnxTensor
{
    public OnnxTensor(string name, TensorElementType elementType, long[] shape, byte[] rawData)
    {
        Name = name;
        ElementType = elementType;
        Shape = shape;
        RawData = rawData;
    }

    public OnnxTensor(string name, TensorElementType elementType, long[] shape, string location, long offset, long length)
    {
        Name = name;
        ElementType = elementType;
        Shape = shape;
        ExternalLocation = location;
        ExternalOffset = offset;
        ExternalLength = length;
    }

    public string Name { get; }

    public TensorElementType ElementType { get; }

    public long[] Shape { get; }

    public byte[]? RawData { get; }

    public string? ExternalLocation { get; }

    public long ExternalOffset { get; }

    public long ExternalLength { get; }

    // TensorProto: dims 1, data_type 2, name 8, raw_data 9, external_data 13 (key 1, value 2), data_location 14.
    public ProtobufWriter Encode()
    {
        var w = new ProtobufWriter();
        if (Shape.Length > 0)
        {
            w.WritePackedVarints(1, Shape);
        }

        w.WriteVarint(2, (int)ElementType);
        w.WriteString(8, Name);
        if (RawData is not null)
        {
            w.WriteBytes(9, RawData);
        }
        else
        {
            WriteEntry(w, "location", ExternalLocation!);
            WriteEntry(w, "offset", ExternalOffset.ToString(System.Globalization.CultureInfo.InvariantCulture));
            WriteEntry(w, "length", ExternalLength.ToString(System.Globalization.CultureInfo.InvariantCulture));
            w.WriteVarint(14, 1);
        }

        return w;
    }

    private static void WriteEntry(ProtobufWriter w, string key, string value)
    {
        var entry = new ProtobufWriter();
        entry.WriteString(1, key);
        entry.WriteString(2, value);
        w.WriteMessage(13, entry);
    }
}
