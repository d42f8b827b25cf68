using System.Buffers;

namespace AutoGlm.Tokenization;

/// <summary>Finds added tokens in text, leftmost first and longest among those starting at the same place.</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal sealed class AddedTokenMatcher
{
    private readonly Dictionary<char, AddedToken[]> _byFirstChar;
    private readonly SearchValues<char> _firstChars;

    public AddedTokenMatcher(IEnumerable<AddedToken> tokens)
    {
        _byFirstChar = tokens
            .Where(t => t.Content.Length > 0)
            .GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());
        _firstChars = SearchValues.Create([.. _byFirstChar.Keys]);
    }

    /// <summary>Whether there is nothing to match.</summary>
    public bool IsEmpty => _byFirstChar.Count == 0;

    /// <summary>
    /// Finds the next added token at or after <paramref name="start"/>. The match span includes white space
    /// absorbed by the token's strip flags.
    /// </summary>
    public bool TryFindNext(ReadOnlySpan<char> text, int start, out int matchStart, out int matchEnd, out AddedToken? token)
    {
        for (int i = start; i < text.Length; i++)
        {
            // Skip, vectorised, to the next character that can start an added token.
            int next = text[i..].IndexOfAny(_firstChars);
            if (next < 0)
            {
                break;
            }

            i += next;
            AddedToken[] candidates = _byFirstChar[text[i]];

            foreach (AddedToken candidate in candidates)
            {
                if (!text[i..].StartsWith(candidate.Content, StringComparison.Ordinal))
                {
                    continue;
                }

                int end = i + candidate.Content.Length;
                if (candidate.SingleWord && ((i > 0 && IsWordChar(text[i - 1])) || (end < text.Length && IsWordChar(text[end]))))
                {
                    continue;
                }

                int left = i;
                if (candidate.StripLeft)
                {
                    while (left > start && UnicodeClass.IsWhiteSpace(text[left - 1]))
                    {
                        left--;
                    }
                }

                if (candidate.StripRight)
                {
                    while (end < text.Length && UnicodeClass.IsWhiteSpace(text[end]))
                    {
                        end++;
                    }
                }

                matchStart = left;
                matchEnd = end;
                token = candidate;
                return true;
            }
        }

        matchStart = matchEnd = text.Length;
        token = null;
        return false;
    }

    private static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c == '_';
}
