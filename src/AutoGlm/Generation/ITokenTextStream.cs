namespace AutoGlm.Generation;

/// <summary>
/// The incremental text of one sequence's output. Only complete characters are returned: bytes of a UTF-8
/// character split over tokens wait for the token that completes them. Used by one thread at a time.
/// </summary>
internal interface ITokenTextStream
{
    /// <summary>Adds a generated token and returns the text it completes (often empty for partial characters).</summary>
    /// <exception cref="TokenizerException">The id is not in the vocabulary.</exception>
    string Append(int tokenId);

    /// <summary>Returns whatever is left at the end of the sequence (incomplete bytes decoded with replacement characters).</summary>
    string Flush();
}
