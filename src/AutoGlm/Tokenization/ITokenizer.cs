namespace AutoGlm.Tokenization;

/// <summary>Turns text into token ids and back, exactly as a model's own tokenizer does.</summary>
/// <remarks>Implementations are safe for concurrent use by many threads.</remarks>
public interface ITokenizer
{
    /// <summary>The number of ids the tokenizer can produce: one more than the highest id, added tokens included.</summary>
    int VocabularySize { get; }

    /// <summary>
    /// Encodes <paramref name="text"/> and appends the ids to <paramref name="ids"/>, as the Hugging Face
    /// tokenizer's <c>encode</c> with <c>add_special_tokens=False</c> does: no BOS or EOS is added.
    /// </summary>
    /// <param name="text">The text; invalid UTF-16 (a lone surrogate) is encoded as U+FFFD.</param>
    /// <param name="ids">Receives the ids.</param>
    /// <param name="parseSpecialTokens">Whether special tokens written in the text (such as <c>&lt;|user|&gt;</c>) become their ids; when false they are encoded as plain text.</param>
    /// <returns>The number of ids appended.</returns>
    int Encode(ReadOnlySpan<char> text, ICollection<int> ids, bool parseSpecialTokens = true);

    /// <summary>Encodes <paramref name="text"/> into <paramref name="destination"/>.</summary>
    /// <param name="text">The text.</param>
    /// <param name="destination">Receives the ids.</param>
    /// <param name="parseSpecialTokens">Whether special tokens written in the text become their ids.</param>
    /// <returns>The number of ids written.</returns>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than the encoding; the message gives the length needed.</exception>
    int Encode(ReadOnlySpan<char> text, Span<int> destination, bool parseSpecialTokens = true);

    /// <summary>Encodes <paramref name="text"/>.</summary>
    /// <param name="text">The text.</param>
    /// <param name="parseSpecialTokens">Whether special tokens written in the text become their ids.</param>
    /// <returns>The ids.</returns>
    IReadOnlyList<int> Encode(string text, bool parseSpecialTokens = true);

    /// <summary>The number of ids <paramref name="text"/> encodes to.</summary>
    /// <param name="text">The text.</param>
    /// <param name="parseSpecialTokens">Whether special tokens written in the text become their ids.</param>
    /// <returns>The number of ids.</returns>
    int CountTokens(ReadOnlySpan<char> text, bool parseSpecialTokens = true);

    /// <summary>Turns ids back into text; byte sequences that are not valid UTF-8 become U+FFFD.</summary>
    /// <param name="ids">The ids.</param>
    /// <param name="skipSpecialTokens">Whether special tokens are left out of the text.</param>
    /// <returns>The text.</returns>
    /// <exception cref="TokenizerException">An id is not in the vocabulary.</exception>
    string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false);

    /// <summary>The id of a token given in its vocabulary form (byte-level text such as <c>Ġthe</c>, or an added token's content).</summary>
    /// <param name="token">The token.</param>
    /// <returns>The id, or null when the vocabulary has no such token.</returns>
    int? TokenToId(string token);

    /// <summary>The vocabulary form of an id (byte-level text, or an added token's content).</summary>
    /// <param name="id">The id.</param>
    /// <returns>The token, or null when no token has that id.</returns>
    string? IdToToken(int id);

    /// <summary>Whether <paramref name="id"/> is a special (control) token such as <c>&lt;|endoftext|&gt;</c>.</summary>
    /// <param name="id">The id.</param>
    /// <returns>True for a special token.</returns>
    bool IsSpecial(int id);

    /// <summary>Creates a decoder that turns ids into text one at a time, for streaming.</summary>
    /// <param name="skipSpecialTokens">Whether special tokens are left out of the text.</param>
    /// <returns>A new decoder for one sequence.</returns>
    IncrementalDecoder CreateIncrementalDecoder(bool skipSpecialTokens = false);
}
