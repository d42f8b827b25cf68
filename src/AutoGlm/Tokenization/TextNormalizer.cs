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
                TextNormalizerKind.SentencePiece => step.CharsMap is null ? ApplySentencePiece(result, step) : ApplySentencePieceRules(result, step, step.CharsMap),
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

    /// <summary>
    /// SentencePiece's normalizer with a rule set: over the UTF-8 text, the longest matching rule's replacement (or
    /// one character) at a time; leading spaces are those pieces that normalize to exactly a space, a piece after a
    /// piece ending in a space loses its leading spaces, and spaces become ▁ — as SentencePiece's Normalize does.
    /// </summary>
    private static string ApplySentencePieceRules(string text, TextNormalizerStep step, PrecompiledCharsMap map)
    {
        byte[] input = Encoding.UTF8.GetBytes(text);
        var output = new ArrayBufferWriter<byte>(input.Length + 8);
        ReadOnlySpan<byte> space = step.EscapeWhitespaces ? "\u2581"u8 : " "u8;
        int position = 0;
        if (step.RemoveExtraWhitespaces)
        {
            while (position < input.Length)
            {
                ReadOnlySpan<byte> piece = Prefix(map, input.AsSpan(position), out int consumed);
                if (!piece.SequenceEqual(" "u8))
                {
                    break;
                }

                position += consumed;
            }
        }

        if (position == input.Length)
        {
            return string.Empty;
        }

        if (step.AddDummyPrefix)
        {
            output.Write(space);
        }

        bool previousSpace = step.RemoveExtraWhitespaces;
        while (position < input.Length)
        {
            ReadOnlySpan<byte> piece = Prefix(map, input.AsSpan(position), out int consumed);
            if (previousSpace && step.RemoveExtraWhitespaces)
            {
                piece = piece.TrimStart((byte)' ');
            }

            if (!piece.IsEmpty)
            {
                foreach (byte b in piece)
                {
                    if (b == (byte)' ' && step.EscapeWhitespaces)
                    {
                        output.Write(space);
                    }
                    else
                    {
                        output.Write([b]);
                    }
                }

                previousSpace = piece[^1] == (byte)' ';
            }

            position += consumed;
            if (!step.RemoveExtraWhitespaces)
            {
                previousSpace = false;
            }
        }

        ReadOnlySpan<byte> result = output.WrittenSpan;
        if (step.RemoveExtraWhitespaces)
        {
            while (result.EndsWith(space))
            {
                result = result[..^space.Length];
            }
        }

        return Encoding.UTF8.GetString(result);
    }

    /// <summary>The normalized form of the next piece of <paramref name="input"/> and the bytes it covers.</summary>
    private static ReadOnlySpan<byte> Prefix(PrecompiledCharsMap map, ReadOnlySpan<byte> input, out int consumed)
    {
        if (map.TryMatch(input, out ReadOnlySpan<byte> replacement, out consumed))
        {
            return replacement;
        }

        // No rule: one character (the text is valid UTF-8: lone surrogates were replaced before).
        System.Text.Rune.DecodeFromUtf8(input, out _, out consumed);
        consumed = Math.Max(consumed, 1);
        return input[..consumed];
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
