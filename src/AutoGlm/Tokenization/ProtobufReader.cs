using System.Buffers.Binary;

namespace AutoGlm.Tokenization;

/// <summary>
/// Reads protocol-buffer wire format (varint, 64-bit, length-delimited, 32-bit fields), enough for a
/// SentencePiece <c>ModelProto</c>. Every length is checked against the data, so a truncated or damaged file
/// fails with <see cref="TokenizerException"/> naming the file and the byte offset.
/// </summary>
internal ref struct ProtobufReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly string _source;
    private readonly int _baseOffset;
    private int _position;

    public ProtobufReader(ReadOnlySpan<byte> data, string source, int baseOffset = 0)
    {
        _data = data;
        _source = source;
        _baseOffset = baseOffset;
        _position = 0;
    }

    /// <summary>The offset of the next byte in the whole file.</summary>
    public readonly int Offset => _baseOffset + _position;

    /// <summary>Reads the next field's tag; false at the end of the message.</summary>
    public bool TryReadTag(out int field, out int wireType)
    {
        if (_position >= _data.Length)
        {
            field = wireType = 0;
            return false;
        }

        int at = Offset;
        ulong tag = ReadVarint();
        field = (int)Math.Min(tag >> 3, int.MaxValue);
        wireType = (int)(tag & 7);
        if (field == 0)
        {
            throw Damaged($"a field numbered 0 at byte {at}");
        }

        return true;
    }

    public ulong ReadVarint()
    {
        ulong value = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (_position >= _data.Length)
            {
                throw Damaged($"a number cut off at byte {Offset}");
            }

            byte b = _data[_position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw Damaged($"a number longer than 10 bytes at byte {Offset}");
    }

    public float ReadFloat() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));

    /// <summary>Reads a length-delimited field's bytes and the file offset they start at.</summary>
    public ReadOnlySpan<byte> ReadBytes(out int offset)
    {
        ulong length = ReadVarint();
        if (length > (ulong)(_data.Length - _position))
        {
            throw Damaged($"a field of {length} bytes at byte {Offset} that runs past the end of the data ({_data.Length - _position} bytes left)");
        }

        offset = Offset;
        return Take((int)length);
    }

    /// <summary>Skips a field of any wire type.</summary>
    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case 0: ReadVarint(); break;
            case 1: Take(8); break;
            case 2: ReadBytes(out _); break;
            case 5: Take(4); break;
            default: throw Damaged($"an unknown wire type {wireType} at byte {Offset}");
        }
    }

    /// <summary>Checks a field's wire type.</summary>
    public readonly void Expect(int wireType, int expected, string field)
    {
        if (wireType != expected)
        {
            throw Damaged($"the field {field} with wire type {wireType} (expected {expected}) at byte {Offset}");
        }
    }

    public readonly TokenizerException Damaged(string what) =>
        new($"The tokenizer file '{_source}' is not a valid SentencePiece model: it has {what}. The file is truncated or damaged, or not a SentencePiece tokenizer.model; download it again.");

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > _data.Length - _position)
        {
            throw Damaged($"data cut off at byte {Offset} ({count} bytes needed, {_data.Length - _position} left)");
        }

        ReadOnlySpan<byte> slice = _data.Slice(_position, count);
        _position += count;
        return slice;
    }
}
