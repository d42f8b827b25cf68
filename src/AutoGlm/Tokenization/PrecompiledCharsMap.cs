using System.Buffers.Binary;

namespace AutoGlm.Tokenization;

/// <summary>
/// A SentencePiece normalization rule set (<c>normalizer_spec.precompiled_charsmap</c>, e.g. <c>nmt_nfkc</c>): a
/// double-array trie over UTF-8 byte strings whose values point into a pool of NUL-terminated replacements. At each
/// position the longest matching rule is replaced; where none matches, one character is copied.
/// </summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal sealed class PrecompiledCharsMap
{
    private readonly uint[] _units;
    private readonly byte[] _pool;

    private PrecompiledCharsMap(uint[] units, byte[] pool)
    {
        _units = units;
        _pool = pool;
    }

    /// <summary>Parses the blob: a little-endian 32-bit trie size in bytes, the trie's 32-bit units, the replacement pool.</summary>
    /// <returns>The map, or null when the blob is malformed.</returns>
    public static PrecompiledCharsMap? TryParse(ReadOnlySpan<byte> blob)
    {
        if (blob.Length < 4)
        {
            return null;
        }

        uint trieSize = BinaryPrimitives.ReadUInt32LittleEndian(blob);
        if (trieSize == 0 || trieSize % 4 != 0 || trieSize > (uint)(blob.Length - 4))
        {
            return null;
        }

        var units = new uint[trieSize / 4];
        for (int i = 0; i < units.Length; i++)
        {
            units[i] = BinaryPrimitives.ReadUInt32LittleEndian(blob[(4 + (i * 4))..]);
        }

        return new PrecompiledCharsMap(units, blob[(4 + (int)trieSize)..].ToArray());
    }

    /// <summary>
    /// The replacement for the longest rule matching at the start of <paramref name="input"/> and the number of
    /// input bytes it covers; false when no rule matches (or a rule points outside the pool).
    /// </summary>
    public bool TryMatch(ReadOnlySpan<byte> input, out ReadOnlySpan<byte> replacement, out int length)
    {
        replacement = default;
        length = 0;
        int value = -1;
        uint position = 0;
        uint unit = _units[0];
        position ^= Offset(unit);
        for (int i = 0; i < input.Length; i++)
        {
            position ^= input[i];
            if (position >= (uint)_units.Length)
            {
                break;
            }

            unit = _units[position];
            if (Label(unit) != input[i])
            {
                break;
            }

            position ^= Offset(unit);
            if (position >= (uint)_units.Length)
            {
                break;
            }

            if (HasLeaf(unit))
            {
                value = (int)(_units[position] & 0x7FFFFFFFu);
                length = i + 1;
            }
        }

        if (value < 0 || value >= _pool.Length)
        {
            length = 0;
            return false;
        }

        int end = _pool.AsSpan(value).IndexOf((byte)0);
        replacement = end < 0 ? _pool.AsSpan(value) : _pool.AsSpan(value, end);
        return true;
    }

    private static bool HasLeaf(uint unit) => ((unit >> 8) & 1) == 1;

    private static uint Label(uint unit) => unit & ((1u << 31) | 0xFF);

    private static uint Offset(uint unit) => (unit >> 10) << (int)((unit & (1u << 9)) >> 6);
}
