using System.Globalization;

namespace AutoGlm.Tokenization;

/// <summary>The character classes that pre-tokenizer patterns use (<c>\p{L}</c>, <c>\p{N}</c>, <c>\s</c>), by code point.</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal static class UnicodeClass
{
    public const byte Other = 0;
    public const byte Letter = 1;
    public const byte Number = 2;
    public const byte WhiteSpace = 3;

    private static readonly byte[] s_bmp = CreateBmpTable();

    /// <summary>The class of a code point (a lone surrogate is <see cref="Other"/>).</summary>
    public static byte Of(int codePoint)
    {
        if (codePoint < 0x10000)
        {
            return s_bmp[codePoint];
        }

        return OfCategory(CharUnicodeInfo.GetUnicodeCategory(codePoint));
    }

    /// <summary>Reads the code point at <paramref name="index"/>; a lone surrogate reads as itself with width 1.</summary>
    public static int ReadCodePoint(ReadOnlySpan<char> text, int index, out int width)
    {
        char c = text[index];
        if (char.IsHighSurrogate(c) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]))
        {
            width = 2;
            return char.ConvertToUtf32(c, text[index + 1]);
        }

        width = 1;
        return c;
    }

    /// <summary>Unicode White_Space, which is what <c>\s</c> means in the Oniguruma and Rust patterns of tokenizer files.</summary>
    public static bool IsWhiteSpace(char c) => s_bmp[c] == WhiteSpace;

    private static byte[] CreateBmpTable()
    {
        var table = new byte[0x10000];
        for (int c = 0; c < table.Length; c++)
        {
            if (c is >= 0xD800 and <= 0xDFFF)
            {
                continue;
            }

            table[c] = IsWhiteSpaceCodePoint(c) ? WhiteSpace : OfCategory(CharUnicodeInfo.GetUnicodeCategory((char)c));
        }

        return table;
    }

    private static bool IsWhiteSpaceCodePoint(int c) =>
        c is (>= 0x09 and <= 0x0D) or 0x20 or 0x85 or 0xA0 or 0x1680 or (>= 0x2000 and <= 0x200A)
            or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000;

    private static byte OfCategory(UnicodeCategory category) => category switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => Letter,
        UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => Number,
        _ => Other,
    };
}
