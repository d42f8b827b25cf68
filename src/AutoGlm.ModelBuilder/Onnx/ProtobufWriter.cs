using System.Buffers.Binary;
using System.Text;

namespace AutoGlm.ModelBuilder.Onnx;

/// <summary>
/// Writes protocol buffer wire format (varints, length-delimited fields, fixed32) into a growable buffer.
/// Nested messages are written into their own writer and then embedded, which is fine for ONNX graphs
/// because every large tensor lives in the external data file, not in the protobuf.
/// </summary>
internal sealed class ProtobufWriter
{
    private byte[] _buffer = new byte[256];
    private int _length;

    public int Length => _length;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    public byte[] ToArray() => WrittenSpan.ToArray();

    public void WriteVarint(int field, long value)
    {
        WriteTag(field, 0);
        WriteRawVarint(unchecked((ulong)value));
    }

    public void WriteFixed32(int field, float value)
    {
        WriteTag(field, 5);
        Ensure(4);
        BinaryPrimitives.WriteSingleLittleEndian(_buffer.AsSpan(_length), value);
        _length += 4;
    }

    public void WriteString(int field, string value) => WriteBytes(field, Encoding.UTF8.GetBytes(value));

    public void WriteBytes(int field, ReadOnlySpan<byte> value)
    {
        WriteTag(field, 2);
        WriteRawVarint((ulong)value.Length);
        Ensure(value.Length);
        value.CopyTo(_buffer.AsSpan(_length));
        _length += value.Length;
    }

    public void WriteMessage(int field, ProtobufWriter message) => WriteBytes(field, message.WrittenSpan);

    public void WritePackedVarints(int field, IReadOnlyList<long> values)
    {
        var packed = new ProtobufWriter();
        foreach (long v in values)
        {
            packed.WriteRawVarint(unchecked((ulong)v));
        }

        WriteBytes(field, packed.WrittenSpan);
    }

    public void WritePackedFixed32(int field, IReadOnlyList<float> values)
    {
        var packed = new ProtobufWriter();
        foreach (float v in values)
        {
            packed.Ensure(4);
            BinaryPrimitives.WriteSingleLittleEndian(packed._buffer.AsSpan(packed._length), v);
            packed._length += 4;
        }

        WriteBytes(field, packed.WrittenSpan);
    }

    private void WriteTag(int field, int wireType) => WriteRawVarint((ulong)((field << 3) | wireType));

    private void WriteRawVarint(ulong value)
    {
        Ensure(10);
        while (value >= 0x80)
        {
            _buffer[_length++] = (byte)(value | 0x80);
            value >>= 7;
        }

        _buffer[_length++] = (byte)value;
    }

    private void Ensure(int extra)
    {
        if (_length + extra > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + extra));
        }
    }
}
