using System.Text;

namespace AutoGlm.Tokenization;

/// <summary>
/// How a SentencePiece-style tokenizer turns tokens back into bytes: <c>▁</c> is a space, <c>&lt;0xNN&gt;</c> is the
/// byte NN (byte fallback), control tokens of a SentencePiece model are empty, its unknown token is its surface
/// text, and the space encoding prepended is removed again.
/// </summary>
/// <param name="ByteFallback">Whether <c>&lt;0xNN&gt;</c> tokens stand for single bytes.</param>
/// <param name="StripLeadingSpace">Whether one leading space of the decoded text is removed (Hugging Face <c>Strip</c> / <c>Metaspace</c> decoder, SentencePiece's dummy prefix).</param>
/// <param name="StripAllLeadingSpaces">Whether every leading space is removed instead of one (a SentencePiece model that removes extra whitespace).</param>
/// <param name="PerCharacterByteRepair">Whether byte tokens decode as SentencePiece decodes them (true for a tokenizer.model): a run that is not valid UTF-8 keeps its valid characters and makes each other byte U+FFFD, and a leading <c>&lt;0x20&gt;</c> keeps its space. False: as @huggingface/tokenizers does (one U+FFFD per invalid sequence).</param>
/// <param name="StripAfterAddedTokens">Whether that removal starts again after each added token (ChatGLM3 decodes the runs between its special tokens separately).</param>
/// <param name="SpecialIds">Model-vocabulary ids that are special (SentencePiece control and unknown pieces).</param>
/// <param name="EmptyIds">Ids that decode to nothing (SentencePiece control pieces).</param>
/// <param name="UnknownId">The unknown token's id, or -1.</param>
/// <param name="UnknownText">What the unknown token decodes to, or null for its own text.</param>
/// <param name="ChatGlm3">Whether ChatGLM3's special tokens follow the vocabulary.</param>
/// <remarks>Immutable; safe to share between threads.</remarks>
internal sealed record SentencePieceDecoding(
    bool ByteFallback,
    bool StripLeadingSpace,
    bool StripAllLeadingSpaces,
    bool PerCharacterByteRepair,
    bool StripAfterAddedTokens,
    IReadOnlySet<int> SpecialIds,
    IReadOnlySet<int> EmptyIds,
    int UnknownId,
    string? UnknownText,
    bool ChatGlm3)
{
    /// <summary>The bytes a model-vocabulary token decodes to.</summary>
    public byte[] TokenBytes(string token, int id)
    {
        if (EmptyIds.Contains(id))
        {
            return [];
        }

        if (id == UnknownId && UnknownText is not null)
        {
            return Encoding.UTF8.GetBytes(UnknownText);
        }

        if (ByteFallback && TryParseByteToken(token, out byte value))
        {
            return [value];
        }

        return Encoding.UTF8.GetBytes(token.Replace(TextNormalizer.Metaspace, ' '));
    }

    /// <summary>The bytes an added token decodes to (the decoder's ▁ replacement applies to it too).</summary>
    public static byte[] AddedTokenBytes(string content) => Encoding.UTF8.GetBytes(content.Replace(TextNormalizer.Metaspace, ' '));

    /// <summary>Recognises <c>&lt;0xNN&gt;</c> with two upper-case hex digits.</summary>
    public static bool TryParseByteToken(ReadOnlySpan<char> token, out byte value)
    {
        value = 0;
        if (token.Length != 6 || !token.StartsWith("<0x", StringComparison.Ordinal) || token[5] != '>')
        {
            return false;
        }

        int high = HexDigit(token[3]);
        int low = HexDigit(token[4]);
        if (high < 0 || low < 0)
        {
            return false;
        }

        value = (byte)((high << 4) | low);
        return true;
    }

    /// <summary>The text of the byte token for <paramref name="value"/>.</summary>
    public static string ByteToken(byte value) => $"<0x{value:X2}>";

    private static int HexDigit(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'A' and <= 'F' => c - 'A' + 10,
        >= 'a' and <= 'f' => c - 'a' + 10,
        _ => -1,
    };
}
