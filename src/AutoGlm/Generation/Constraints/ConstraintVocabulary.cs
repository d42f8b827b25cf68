using System.Runtime.CompilerServices;
using AutoGlm.Tokenization;

namespace AutoGlm.Generation.Constraints;

/// <summary>
/// What constrained decoding needs to know about a tokenizer, computed once and cached per tokenizer: the byte
/// string of every token that can appear in text (special tokens are left out: they produce no text), tries of
/// them, and bit sets of the tokens that are plain string content, so that a step inside a string costs one
/// bit-set copy plus a walk over the few tokens that hold a quote, a backslash or a control byte.
/// </summary>
/// <remarks>Immutable once built; safe to share between threads and schedulers.</remarks>
internal sealed class ConstraintVocabulary
{
    /// <summary>Printable-ASCII tokens up to this length are in the per-length bit sets; longer ones are walked.</summary>
    public const int MaxAsciiLength = 64;

    private static readonly ConditionalWeakTable<Tokenizer, ConstraintVocabulary> s_cache = [];

    private readonly byte[]?[] _tokens;

    public ConstraintVocabulary(byte[]?[] tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        _tokens = tokens;
        Size = tokens.Length;
        int words = WordCount(Size);
        PlainString = new ulong[words];
        AsciiUpTo = new ulong[MaxAsciiLength + 1][];
        var asciiLength = new int[Size];
        for (int id = 0; id < Size; id++)
        {
            byte[]? bytes = tokens[id];
            if (bytes is not { Length: > 0 })
            {
                continue;
            }

            MaxTokenLength = Math.Max(MaxTokenLength, bytes.Length);
            bool plain = true;
            bool ascii = bytes.Length <= MaxAsciiLength;
            foreach (byte b in bytes)
            {
                if (b < 0x20 || b == (byte)'"' || b == (byte)'\\')
                {
                    plain = false;
                    ascii = false;
                    break;
                }

                if (b > 0x7E)
                {
                    ascii = false;
                }
            }

            if (plain)
            {
                PlainString[id >> 6] |= 1UL << id;
            }

            if (ascii)
            {
                asciiLength[id] = bytes.Length;
            }
        }

        for (int length = 0; length <= MaxAsciiLength; length++)
        {
            ulong[] set = length == 0 ? new ulong[words] : (ulong[])AsciiUpTo[length - 1].Clone();
            for (int id = 0; id < Size && length > 0; id++)
            {
                if (asciiLength[id] == length)
                {
                    set[id >> 6] |= 1UL << id;
                }
            }

            AsciiUpTo[length] = set;
        }

        All = TokenTrie.Build(tokens, _ => true);
        StringSpecial = TokenTrie.Build(tokens, id => (PlainString[id >> 6] & (1UL << id)) == 0);
        AsciiSpecial = TokenTrie.Build(tokens, id => asciiLength[id] == 0);

        // The length guarantee completes a value one byte per token, which needs every byte JSON is written with.
        var single = new bool[128];
        foreach (byte[]? bytes in tokens)
        {
            if (bytes is { Length: 1 } && bytes[0] < 128)
            {
                single[bytes[0]] = true;
            }
        }

        HasSingleByteTokens = single['\n'];
        for (int b = 0x20; b < 0x7F; b++)
        {
            HasSingleByteTokens &= single[b];
        }
    }

    /// <summary>Gets the number of token ids described (the tokenizer's vocabulary).</summary>
    public int Size { get; }

    /// <summary>Gets the length of the longest token in bytes.</summary>
    public int MaxTokenLength { get; }

    /// <summary>Gets whether every printable ASCII byte and the newline are tokens of their own.</summary>
    public bool HasSingleByteTokens { get; }

    /// <summary>Gets the trie of every text token.</summary>
    public TokenTrie All { get; }

    /// <summary>Gets the trie of the tokens that are not plain string content.</summary>
    public TokenTrie StringSpecial { get; }

    /// <summary>Gets the trie of the tokens that are not short printable ASCII without quote or backslash.</summary>
    public TokenTrie AsciiSpecial { get; }

    /// <summary>Gets the tokens made only of bytes a JSON string may hold unescaped (no quote, backslash or control byte).</summary>
    public ulong[] PlainString { get; }

    /// <summary>Gets, per length L, the tokens of at most L printable ASCII bytes other than quote and backslash.</summary>
    public ulong[][] AsciiUpTo { get; }

    /// <summary>Gets the bytes of a text token, empty for special or unknown ids.</summary>
    public ReadOnlySpan<byte> Bytes(int id) => (uint)id < (uint)_tokens.Length ? _tokens[id] : default;

    /// <summary>Gets the vocabulary of <paramref name="tokenizer"/>, building it on first use.</summary>
    public static ConstraintVocabulary For(Tokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        return s_cache.GetValue(tokenizer, static t =>
        {
            var tokens = new byte[]?[t.VocabularySize];
            for (int id = 0; id < tokens.Length; id++)
            {
                if (!t.IsSpecial(id) && t.IdToToken(id) is not null)
                {
                    tokens[id] = t.GetTokenBytes(id, 0).ToArray();
                }
            }

            return new ConstraintVocabulary(tokens);
        });
    }

    public static int WordCount(int bits) => (bits + 63) >> 6;
}
