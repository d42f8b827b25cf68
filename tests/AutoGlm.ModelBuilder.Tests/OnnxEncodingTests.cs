using AutoGlm.ModelBuilder.Onnx;
using AutoGlm.Runtime;

namespace AutoGlm.ModelBuilder.Tests;

public sealed class OnnxEncodingTests
{
    [Fact]
    public void ProtobufWriter_VarintsStringsAndFloats_MatchTheWireFormat()
    {
        var w = new ProtobufWriter();
        w.WriteVarint(1, 150);
        w.WriteString(2, "hi");
        w.WriteFixed32(3, 1f);
        w.WriteVarint(4, -1);
        w.WritePackedVarints(5, [1L, 300L]);
        Assert.Equal(
            new byte[]
            {
                0x08, 0x96, 0x01,
                0x12, 0x02, (byte)'h', (byte)'i',
                0x1D, 0x00, 0x00, 0x80, 0x3F,
                0x20, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01,
                0x2A, 0x03, 0x01, 0xAC, 0x02,
            },
            w.ToArray());
    }

    [Fact]
    public void ExternalDataWriter_EveryTensor_StartsAt64KiBAlignedOffset()
    {
        string dir = TestModels.NewPath("ext");
        Directory.CreateDirectory(dir);
        var tensors = new List<OnnxTensor>();
        using (var writer = new ExternalDataWriter(Path.Combine(dir, "model.onnx.data")))
        {
            tensors.Add(writer.WriteTensor("a", [3], [1f, 2f, 3f]));
            tensors.Add(writer.WriteTensor("b", [70000], new float[70000]));
            tensors.Add(writer.WriteTensor("c", [1], [Half.One]));
        }

        Assert.Equal([0L, 65536L, 393216L], tensors.Select(t => t.ExternalOffset));
        Assert.Equal([12L, 280000L, 2L], tensors.Select(t => t.ExternalLength));
        Assert.Equal(TensorElementType.Float16, tensors[2].ElementType);
        Assert.Equal(393218L, new FileInfo(Path.Combine(dir, "model.onnx.data")).Length);
    }

    [Fact]
    public void ExternalDataWriter_WrongByteCount_Throws()
    {
        string dir = TestModels.NewPath("ext");
        Directory.CreateDirectory(dir);
        using var writer = new ExternalDataWriter(Path.Combine(dir, "model.onnx.data"));
        writer.BeginTensor("w", TensorElementType.Float, [2]);
        writer.Write([1f]);
        var ex = Assert.Throws<InvalidOperationException>(() => writer.EndTensor());
        Assert.Equal("Tensor 'w' should hold 8 bytes but 4 were written.", ex.Message);
    }

    [Fact]
    public void EncodedModel_SmallGraph_RunsInOnnxRuntime()
    {
        var model = new OnnxModel();
        model.Inputs.Add(new OnnxValueInfo("x", TensorElementType.Float, ["n"]));
        model.Outputs.Add(new OnnxValueInfo("y", TensorElementType.Float, ["n"]));
        model.Nodes.Add(new OnnxNode("Constant", "c", [], ["two"], [OnnxAttribute.Of("value", new OnnxTensor("two", TensorElementType.Float, [], BitConverter.GetBytes(2f)))]));
        model.Nodes.Add(new OnnxNode("Mul", "m", ["x", "two"], ["y"], []));
        using OrtSession session = OrtSession.Create(model.Encode());
        IReadOnlyDictionary<string, HostTensor> outputs = session.Run(new Dictionary<string, HostTensor> { ["x"] = HostTensor.Create(new[] { 1f, -3f }, 2) });
        Assert.Equal([2f, -6f], outputs["y"].As<float>());
    }
}
