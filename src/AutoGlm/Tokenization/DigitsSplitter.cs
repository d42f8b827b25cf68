namespace AutoGlm.Tokenization;

/// <summary>The <c>Digits</c> pre-tokenizer: isolates runs of digits, or each digit alone.</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal sealed class DigitsSplitter : TextSplitter
{
    private readonly bool _individualDigits;

    public DigitsSplitter(bool individualDigits) => _individualDigits = individualDigits;

    /// <inheritdoc/>
    public override void Split(ReadOnlySpan<char> text, int offset, List<(int Start, int Length)> pieces)
    {
        int position = 0;
        while (position < text.Length)
        {
            int codePoint = UnicodeClass.ReadCodePoint(text, position, out int width);
            bool isDigit = UnicodeClass.Of(codePoint) == UnicodeClass.Number;
            int end = position + width;
            if (!isDigit || !_individualDigits)
            {
                while (end < text.Length)
                {
                    int next = UnicodeClass.ReadCodePoint(text, end, out int nextWidth);
                    if ((UnicodeClass.Of(next) == UnicodeClass.Number) != isDigit)
                    {
                        break;
                    }

                    end += nextWidth;
                }
            }

            pieces.Add((offset + position, end - position));
            position = end;
        }
    }
}
