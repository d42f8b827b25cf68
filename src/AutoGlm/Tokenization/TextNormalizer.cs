using System.Text;

namespace AutoGlm.Tokenization;

/// <summary>The normalizer of a <c>tokenizer.json</c>: Unicode normalization forms and lowercasing, in order.</summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal sealed class TextNormalizer
{
    private readonly NormalizationForm?[] _steps;

    /// <param name="steps">Each step: a normalization form, or null for lowercasing.</param>
    public TextNormalizer(NormalizationForm?[] steps) => _steps = steps;

    /// <summary>Applies every step to <paramref name="text"/>.</summary>
    public string Normalize(ReadOnlySpan<char> text)
    {
        // string.Normalize rejects lone surrogates; every reference tokenizer treats them as U+FFFD.
        string result = ReplaceLoneSurrogates(text);
        foreach (NormalizationForm? step in _steps)
        {
            if (step is { } form)
            {
                if (!result.IsNormalized(form))
                {
                    result = result.Normalize(form);
                }
            }
            else
            {
                result = result.ToLowerInvariant();
            }
        }

        return result;
    }

    private static string ReplaceLoneSurrogates(ReadOnlySpan<char> text)
    {
        char[] copy = text.ToArray();
        for (int i = 0; i < copy.Length; i++)
        {
            if (char.IsHighSurrogate(copy[i]) && i + 1 < copy.Length && char.IsLowSurrogate(copy[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(copy[i]))
            {
                copy[i] = '\uFFFD';
            }
        }

        return new string(copy);
    }
}
