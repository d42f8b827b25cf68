namespace AutoGlm.Tokenization;

/// <summary>
/// Cuts text at one delimiter character that stays in a piece: before it (Hugging Face's <c>MergedWithNext</c>, as the
/// Metaspace pre-tokenizer splits at ▁) or after it (<c>MergedWithPrevious</c>, Gemma's Split on a space).
/// </summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal sealed class DelimiterSplitter : TextSplitter
{
    private readonly char _delimiter;
    private readonly bool _mergedWithNext;

    public DelimiterSplitter(char delimiter, bool mergedWithNext)
    {
        _delimiter = delimiter;
        _mergedWithNext = mergedWithNext;
    }

    /// <inheritdoc/>
    public override void Split(ReadOnlySpan<char> text, int offset, List<(int Start, int Length)> pieces)
    {
        int start = 0;
        int position = 0;
        while (position < text.Length)
        {
            int found = text[position..].IndexOf(_delimiter);
            if (found < 0)
            {
                break;
            }

            int cut = _mergedWithNext ? position + found : position + found + 1;
            if (cut > start && cut < text.Length)
            {
                pieces.Add((offset + start, cut - start));
                start = cut;
            }

            position += found + 1;
        }

        if (start < text.Length)
        {
            pieces.Add((offset + start, text.Length - start));
        }
    }
}
