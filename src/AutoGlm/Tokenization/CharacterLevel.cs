namespace AutoGlm.Tokenization;

/// <summary>What a character-level (SentencePiece-style) BPE model does with a character its vocabulary lacks.</summary>
/// <param name="ByteIds">The id of <c>&lt;0xNN&gt;</c> for each byte (-1 where missing), or null without byte fallback.</param>
/// <param name="UnknownId">The unknown token's id, or -1 to drop such characters.</param>
/// <param name="FuseUnknown">Whether consecutive unknown characters give one unknown token.</param>
internal sealed record CharacterLevel(int[]? ByteIds, int UnknownId, bool FuseUnknown);
