using System.Text;

namespace AutoGlm.Tests.Runtime;

/// <summary>
/// Small ONNX models written as protobuf bytes in the test itself (field numbers from onnx.proto), so the
/// bindings are tested without depending on the model builder.
/// </summary>
internal static class TestGraphs
{
    private const int FloatType = 1;

    /// <summary>C = A + B, all float [2, 3].</summary>
    public static byte[] Add() => Model(
        Graph(
            "add",
            [Node("Add", ["A", "B"], ["C"])],
            [ValueInfo("A", FloatType, 2, 3), ValueInfo("B", FloatType, 2, 3)],
            [ValueInfo("C", FloatType, 2, 3)]));

    /// <summary>C = A + B like <see cref="Add"/>, plus an initializer no node uses (ONNX Runtime warns and removes it).</summary>
    public static byte[] AddWithUnusedInitializer()
    {
        var tensor = new ProtoBuffer();
        tensor.Varint(1, 1); // dims [1]
        tensor.Varint(2, FloatType);
        tensor.Bytes(8, Encoding.UTF8.GetBytes("unused_weight"));
        tensor.Bytes(9, BitConverter.GetBytes(1.5f));
        return Model(
            Graph(
                "add_unused",
                [Node("Add", ["A", "B"], ["C"])],
                [ValueInfo("A", FloatType, 2, 3), ValueInfo("B", FloatType, 2, 3)],
                [ValueInfo("C", FloatType, 2, 3)],
                [tensor.ToArray()]));
    }

    /// <summary>Y = X · W, X float [batch, 2] with a symbolic batch, W float [2, 2] an input too.</summary>
    public static byte[] MatMul() => Model(
        Graph(
            "matmul",
            [Node("MatMul", ["X", "W"], ["Y"])],
            [ValueInfo("X", FloatType, -1, 2), ValueInfo("W", FloatType, 2, 2)],
            [ValueInfo("Y", FloatType, -1, 2)]));

    /// <summary>
    /// A chain of <paramref name="steps"/> MatMuls of a [n, n] input with itself-shaped weights given as a second input:
    /// slow enough to cancel in the middle.
    /// </summary>
    public static byte[] MatMulChain(int steps)
    {
        var nodes = new List<byte[]>();
        string current = "X";
        for (int i = 0; i < steps; i++)
        {
            string next = i == steps - 1 ? "Y" : $"h{i}";
            nodes.Add(Node("MatMul", [current, "W"], [next]));
            current = next;
        }

        return Model(Graph("chain", nodes, [ValueInfo("X", FloatType, -1, -1), ValueInfo("W", FloatType, -1, -1)], [ValueInfo("Y", FloatType, -1, -1)]));
    }

    private static byte[] Model(byte[] graph)
    {
        var w = new ProtoBuffer();
        w.Varint(1, 8); // ir_version
        w.Bytes(2, Encoding.UTF8.GetBytes("AutoGlm.Tests")); // producer_name
        w.Bytes(7, graph);
        var opset = new ProtoBuffer();
        opset.Bytes(1, []); // default domain
        opset.Varint(2, 17);
        w.Bytes(8, opset.ToArray());
        return w.ToArray();
    }

    private static byte[] Graph(string name, IEnumerable<byte[]> nodes, IEnumerable<byte[]> inputs, IEnumerable<byte[]> outputs, IEnumerable<byte[]>? initializers = null)
    {
        var w = new ProtoBuffer();
        foreach (byte[] node in nodes)
        {
            w.Bytes(1, node);
        }

        w.Bytes(2, Encoding.UTF8.GetBytes(name));
        foreach (byte[] initializer in initializers ?? [])
        {
            w.Bytes(5, initializer);
        }

        foreach (byte[] input in inputs)
        {
            w.Bytes(11, input);
        }

        foreach (byte[] output in outputs)
        {
            w.Bytes(12, output);
        }

        return w.ToArray();
    }

    private static byte[] Node(string opType, string[] inputs, string[] outputs)
    {
        var w = new ProtoBuffer();
        foreach (string input in inputs)
        {
            w.Bytes(1, Encoding.UTF8.GetBytes(input));
        }

        foreach (string output in outputs)
        {
            w.Bytes(2, Encoding.UTF8.GetBytes(output));
        }

        w.Bytes(4, Encoding.UTF8.GetBytes(opType));
        return w.ToArray();
    }

    /// <summary>A tensor value info; a negative dimension becomes a symbolic one named <c>d{index}</c>.</summary>
    private static byte[] ValueInfo(string name, int elementType, params long[] dims)
    {
        var shape = new ProtoBuffer();
        for (int i = 0; i < dims.Length; i++)
        {
            var dim = new ProtoBuffer();
            if (dims[i] >= 0)
            {
                dim.Varint(1, (ulong)dims[i]);
            }
            else
            {
                dim.Bytes(2, Encoding.UTF8.GetBytes($"d{i}"));
            }

            shape.Bytes(1, dim.ToArray());
        }

        var tensorType = new ProtoBuffer();
        tensorType.Varint(1, (ulong)elementType);
        tensorType.Bytes(2, shape.ToArray());
        var type = new ProtoBuffer();
        type.Bytes(1, tensorType.ToArray());
        var info = new ProtoBuffer();
        info.Bytes(1, Encoding.UTF8.GetBytes(name));
        info.Bytes(2, type.ToArray());
        return info.ToArray();
    }

    private sealed class ProtoBuffer
    {
        private readonly MemoryStream _stream = new();

        public void Varint(int field, ulong value)
        {
            WriteRaw(((ulong)field << 3) | 0);
            WriteRaw(value);
        }

        public void Bytes(int field, byte[] value)
        {
            WriteRaw(((ulong)field << 3) | 2);
            WriteRaw((ulong)value.Length);
            _stream.Write(value);
        }

        public byte[] ToArray() => _stream.ToArray();

        private void WriteRaw(ulong value)
        {
            while (value >= 0x80)
            {
                _stream.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }

            _stream.WriteByte((byte)value);
        }
    }
}
