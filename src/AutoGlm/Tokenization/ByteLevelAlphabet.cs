namespace AutoGlm.Tokenization;

/// <summary>
/// The GPT-2 byte-level alphabet: every byte maps to one printable character, so that byte-level BPE
/// vocabularies can be stored as text in <c>tokenizer.json</c>.
/// </summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal static class ByteLevelAlphabet
{
    private static readonly char[] s_byteToChar = CreateByteToChar();
    private static readonly short[] s_charToByte = CreateCharToByte(s_byteToChar);

    /// <summary>The character that stands for <paramref name="value"/> in a byte-level vocabulary.</summary>
    public static char ToChar(byte value) => s_byteToChar[value];

    /// <summary>Converts byte-level text back to the bytes it stands for; false when a character is outside the alphabet.</summary>
    public static bool TryToBytes(string text, out byte[] bytes)
    {
        bytes = new byte[text.Length];
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            int value = c < s_charToByte.Length ? s_charToByte[c] : -1;
            if (value < 0)
            {
                bytes = [];
                return false;
            }

            bytes[i] = (byte)value;
        }

        return true;
    }

    /// <summary>Writes the byte-level text of <paramref name="bytes"/>.</summary>
    public static string ToText(ReadOnlySpan<byte> bytes)
    {
        return string.Create(bytes.Length, bytes.ToArray(), static (span, source) =>
        {
            for (int i = 0; i < source.Length; i++)
            {
                span[i] = s_byteToChar[source[i]];
            }
        });
    }

    private static char[] CreateByteToChar()
    {
        // Printable Latin-1 bytes stand for themselves; the others are shifted to U+0100 and up, in byte order.
        var map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char)b : (char)next++;
        }

        return map;
    }

    private static short[] CreateCharToByte(char[] byteToChar)
    {
        var map = new short[512];
        map.AsSpan().Fill(-1);
        for (int b = 0; b < 256; b++)
        {
            map[byteToChar[b]] = (short)b;
        }

        return map;
    }
}
