using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace AutoGlm.ModelBuilder.Safetensors;

/// <summary>
/// Writes a safetensors file whose tensor list is known up front: the header goes first, then each
/// tensor's data is streamed in the declared order (converted from float32 to the declared dtype).
/// </summary>
/// <remarks>Not thread-safe.</remarks>
internal sealed class SafetensorsWriter : IDisposable
{
    private readonly FileStream _stream;
    private readonly IReadOnlyList<(string Name, SafetensorsDType DType, long[] Shape)> _tensors;
    private readonly long _dataStart;
    private int _next;
    private long _written;

    public SafetensorsWriter(string path, IReadOnlyList<(string Name, SafetensorsDType DType, long[] Shape)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        _tensors = tensors;
        using var json = new MemoryStream();
        using (var w = new Utf8JsonWriter(json))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach ((string k, string v) in metadata)
                {
                    w.WriteString(k, v);
                }

                w.WriteEndObject();
            }

            long offset = 0;
            foreach ((string name, SafetensorsDType dtype, long[] shape) in tensors)
            {
                long bytes = ElementSize(dtype);
                foreach (long d in shape)
                {
                    bytes *= d;
                }

                w.WriteStartObject(name);
                w.WriteString("dtype", dtype.ToString());
                w.WriteStartArray("shape");
                foreach (long d in shape)
                {
                    w.WriteNumberValue(d);
                }

                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + bytes);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += bytes;
            }

            w.WriteEndObject();
        }

        // Pad the header with spaces so tensor data starts 8-byte aligned, as the reference writer does.
        int headerLength = (int)json.Length;
        int padded = (headerLength + 7) / 8 * 8;
        byte[] header = new byte[padded];
        json.GetBuffer().AsSpan(0, headerLength).CopyTo(header);
        header.AsSpan(headerLength).Fill((byte)' ');
        _stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
        _stream.Write(length);
        _stream.Write(header);
        _dataStart = _stream.Position;
    }

    public static int ElementSize(SafetensorsDType dtype) => dtype == SafetensorsDType.F32 ? 4 : 2;

    /// <summary>The tensor whose data is expected next.</summary>
    public string? NextTensor => _next < _tensors.Count ? _tensors[_next].Name : null;

    /// <summary>Appends part (or all) of the next tensor's elements; call again until the tensor is complete.</summary>
    public void Append(ReadOnlySpan<float> values)
    {
        if (_next >= _tensors.Count)
        {
            throw new InvalidOperationException("Every declared tensor has been written.");
        }

        (string name, SafetensorsDType dtype, long[] shape) = _tensors[_next];
        long count = 1;
        foreach (long d in shape)
        {
            count *= d;
        }

        if (_written + values.Length > count)
        {
            throw new InvalidOperationException($"Tensor '{name}' holds {count} elements; {_written + values.Length} were given.");
        }

        switch (dtype)
        {
            case SafetensorsDType.F32:
                _stream.Write(MemoryMarshal.AsBytes(values));
                break;
            default:
                byte[] buffer = new byte[values.Length * 2];
                for (int i = 0; i < values.Length; i++)
                {
                    ushort bits = dtype == SafetensorsDType.F16
                        ? BitConverter.HalfToUInt16Bits((Half)values[i])
                        : ToBFloat16(values[i]);
                    BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(i * 2), bits);
                }

                _stream.Write(buffer);
                break;
        }

        _written += values.Length;
        if (_written == count)
        {
            _next++;
            _written = 0;
        }
    }

    /// <summary>Round to nearest even, as PyTorch converts float32 to bfloat16.</summary>
    public static ushort ToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            return (ushort)((bits >> 16) | 0x40);
        }

        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    /// <summary>Checks that every tensor was written and flushes.</summary>
    public void Complete()
    {
        if (_next != _tensors.Count)
        {
            throw new InvalidOperationException($"Tensor '{_tensors[_next].Name}' and later ones were not written.");
        }

        _stream.Flush(flushToDisk: true);
        _ = _dataStart;
    }

    public void Dispose() => _stream.Dispose();
}
