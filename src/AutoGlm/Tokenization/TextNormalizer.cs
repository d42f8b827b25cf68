using System.Buffers;
using System.Text;

namespace AutoGlm.Tokenization;

/// <summary>
/// The normalization of a tokenizer, in order: Unicode normalization forms, lowercasing, the SentencePiece-style
/// <c>Prepend</c> / <c>Replace</c> steps of a <c>tokenizer.json</c>, its <c>Metaspace</c> pre-tokenizer's space
/// replacement, and a SentencePiece model's own whitespace handling.
/// </summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal sealed class TextNormalizer
{
    /// <summary>The character SentencePiece writes for a space.</summary>
    public const char Metaspace = '\u2581';

    private readonly TextNormalizerStep[] _steps;

    /// <param name="steps">The steps, applied in order.</param>
    public TextNormalizer(TextNormalizerStep[] steps) => _steps = steps;

    /// <summary>Applies every step to <paramref name="text"/>.</summary>
    /// <param name="text">One segment of the input (the text between two added tokens).</param>
    /// <param name="atTextStart">Whether the segment starts the input (Metaspace's <c>prepend_scheme: first</c>).</param>
    public string Normalize(ReadOnlySpan<char> text, bool atTextStart = true)
    {
        // string.Normalize rejects lone surrogates; every reference tokenizer treats them as U+FFFD.
        string result = ReplaceLoneSurrogates(text);
        foreach (TextNormalizerStep step in _steps)
        {
            result = step.Kind switch
            {
                TextNormalizerKind.Form => result.IsNormalized(step.Form) ? result : result.Normalize(step.Form),
                TextNormalizerKind.Lowercase => result.ToLowerInvariant(),
                TextNormalizerKind.Prepend => result.Length == 0 ? result : step.Text + result,
                TextNormalizerKind.Replace => result.Replace(step.Text, step.Replacement, StringComparison.Ordinal),
                TextNormalizerKind.Metaspace => ApplyMetaspace(result, step, atTextStart),
                TextNormalizerKind.SentencePiece => ApplySentencePiece(result, step),
                _ => throw new InvalidOperationException($"Unknown normalizer step {step.Kind}; this is a bug in AutoGlm."),
            };
        }

        return result;
    }

    /// <summary>Hugging Face's Metaspace pre-tokenizer: spaces become ▁, and ▁ is prepended per its scheme.</summary>
    private static string ApplyMetaspace(string text, TextNormalizerStep step, bool atTextStart)
    {
        string replaced = text.Replace(' ', Metaspace);
        bool prepend = step.PrependScheme switch
        {
            MetaspacePrependScheme.Always => true,
            MetaspacePrependScheme.First => atTextStart,
            _ => false,
        };
        return prepend && !replaced.StartsWith(Metaspace) ? Metaspace + replaced : replaced;
    }

    /// <summary>
    /// SentencePiece's normalizer with the identity rule: optionally drops leading, trailing and repeated spaces,
    /// adds the dummy-prefix space, and writes spaces as ▁.
    /// </summary>
    private static string ApplySentencePiece(string text, TextNormalizerStep step)
    {
        ReadOnlySpan<char> input = text;
        if (step.RemoveExtraWhitespaces)
        {
            input = input.TrimStart(' ');
        }

        if (input.IsEmpty)
        {
            return string.Empty;
        }

        char space = step.EscapeWhitespaces ? Metaspace : ' ';
        char[]? rented = null;
        Span<char> buffer = input.Length < 256 ? stackalloc char[256] : (rented = ArrayPool<char>.Shared.Rent(input.Length + 1));
        try
        {
            int length = 0;
            if (step.AddDummyPrefix)
            {
                buffer[length++] = space;
            }

            bool previousSpace = false;
            foreach (char c in input)
            {
                if (c == ' ')
                {
                    if (!(step.RemoveExtraWhitespaces && previousSpace))
                    {
                        buffer[length++] = space;
                    }

                    previousSpace = true;
                }
                else
                {
                    buffer[length++] = c;
                    previousSpace = false;
                }
            }

            if (step.RemoveExtraWhitespaces)
            {
                while (length > 0 && buffer[length - 1] == space)
                {
                    length--;
                }
            }

            return new string(buffer[..length]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    private static string ReplaceLoneSurrogates(ReadOnlySpan<char> text)
    {
        if (!text.ContainsAnyInRange('\uD800', '\uDFFF'))
        {
            return text.ToString();
        }

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
