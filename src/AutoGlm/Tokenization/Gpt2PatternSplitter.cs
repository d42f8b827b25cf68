namespace AutoGlm.Tokenization;

/// <summary>
/// The GPT-2 split pattern (what a <c>ByteLevel</c> pre-tokenizer with <c>use_regex</c> applies), written out
/// by hand so it works on code points, as the Rust and JavaScript tokenizers do.
/// </summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal sealed class Gpt2PatternSplitter : TextSplitter
{
    /// <summary>The pattern this class implements.</summary>
    public const string Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>The shared instance.</summary>
    public static Gpt2PatternSplitter Instance { get; } = new();

    /// <inheritdoc/>
    public override void Split(ReadOnlySpan<char> text, int offset, List<(int Start, int Length)> pieces)
    {
        int position = 0;
        while (position < text.Length)
        {
            int end = MatchAt(text, position);
            pieces.Add((offset + position, end - position));
            position = end;
        }
    }

    private static int MatchAt(ReadOnlySpan<char> text, int position)
    {
        int length = text.Length;
        char first = text[position];
        if (first == '\'' && position + 1 < length)
        {
            char a = text[position + 1];
            if (a is 's' or 't' or 'm' or 'd')
            {
                return position + 2;
            }

            if (position + 2 < length && ((a == 'r' && text[position + 2] == 'e') || (a == 'v' && text[position + 2] == 'e') || (a == 'l' && text[position + 2] == 'l')))
            {
                return position + 3;
            }
        }

        int start = first == ' ' && position + 1 < length ? position + 1 : position;
        byte wanted = UnicodeClass.Of(UnicodeClass.ReadCodePoint(text, start, out _));
        if (wanted != UnicodeClass.WhiteSpace)
        {
            // ' ?\p{L}+', ' ?\p{N}+' or ' ?[^\s\p{L}\p{N}]+': a run of one class, after an optional space.
            int end = start;
            while (end < length)
            {
                int codePoint = UnicodeClass.ReadCodePoint(text, end, out int width);
                if (UnicodeClass.Of(codePoint) != wanted)
                {
                    break;
                }

                end += width;
            }

            return end;
        }

        // \s+(?!\S) | \s+
        int runEnd = position;
        while (runEnd < length && UnicodeClass.IsWhiteSpace(text[runEnd]))
        {
            runEnd++;
        }

        return runEnd < length && runEnd - position >= 2 ? runEnd - 1 : runEnd;
    }
}
