namespace AutoGlm.ModelBuilder.Onnx;

/// <summary>A ModelProto with one graph, the operator sets it uses, and metadata; <see cref="Encode"/> gives the file's bytes.</summary>
internal sealed class OnnxModel
{
    public const long IrVersion = 8;

    public const long DefaultOpset = 17;

    public List<OnnxNode> Nodes { get; } = [];

    public List<OnnxTensor> Initializers { get; } = [];

    public List<OnnxValueInfo> Inputs { get; } = [];

    public List<OnnxValueInfo> Outputs { get; } = [];

    public Dictionary<string, long> Opsets { get; } = new() { [""] = DefaultOpset, ["com.microsoft"] = 1 };

    public Dictionary<string, string> Metadata { get; } = [];

    public string GraphName { get; set; } = "main_graph";

    // ModelProto: ir_version 1, producer_name 2, producer_version 3, graph 7, opset_import 8, metadata_props 14.
    // GraphProto: node 1, name 2, initializer 5, input 11, output 12.
    public byte[] Encode()
    {
        var graph = new ProtobufWriter();
        foreach (OnnxNode node in Nodes)
        {
            graph.WriteMessage(1, node.Encode());
        }

        graph.WriteString(2, GraphName);
        foreach (OnnxTensor t in Initializers)
        {
            graph.WriteMessage(5, t.Encode());
        }

        foreach (OnnxValueInfo input in Inputs)
        {
            graph.WriteMessage(11, input.Encode());
        }

        foreach (OnnxValueInfo output in Outputs)
        {
            graph.WriteMessage(12, output.Encode());
        }

        var model = new ProtobufWriter();
        model.WriteVarint(1, IrVersion);
        model.WriteString(2, "autoglm");
        model.WriteString(3, typeof(OnnxModel).Assembly.GetName().Version?.ToString() ?? "0");
        model.WriteMessage(7, graph);
        foreach (KeyValuePair<string, long> opset in Opsets.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            var op = new ProtobufWriter();
            op.WriteString(1, opset.Key);
            op.WriteVarint(2, opset.Value);
            model.WriteMessage(8, op);
        }

        foreach (KeyValuePair<string, string> entry in Metadata.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            var kv = new ProtobufWriter();
            kv.WriteString(1, entry.Key);
            kv.WriteString(2, entry.Value);
            model.WriteMessage(14, kv);
        }

        return model.ToArray();
    }
}
