namespace AutoGlm.ModelBuilder.Onnx;

/// <summary>A NodeProto; an empty string among the inputs marks an omitted optional input.</summary>
internal sealed record OnnxNode(string OpType, string Name, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs, IReadOnlyList<OnnxAttribute> Attributes, string Domain = "")
{
    // NodeProto: input 1, output 2, name 3, op_type 4, attribute 5, domain 7.
    public ProtobufWriter Encode()
    {
        var w = new ProtobufWriter();
        foreach (string input in Inputs)
        {
            w.WriteString(1, input);
        }

        foreach (string output in Outputs)
        {
            w.WriteString(2, output);
        }

        w.WriteString(3, Name);
        w.WriteString(4, OpType);
        foreach (OnnxAttribute a in Attributes)
        {
            w.WriteMessage(5, a.Encode());
        }

        if (Domain.Length > 0)
        {
            w.WriteString(7, Domain);
        }

        return w;
    }
}
