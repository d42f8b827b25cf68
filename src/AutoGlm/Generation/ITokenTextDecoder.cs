namespace AutoGlm.Generation;

/// <summary>
/// Turns generated token ids back into text, one sequence at a time; implemented over the tokenizer's
/// incremental decoder. Must be safe to call from the scheduler loop while other threads use the tokenizer.
/// </summary>
internal interface ITokenTextDecoder
{
    /// <summary>Starts decoding a new sequence's output.</summary>
    ITokenTextStream CreateStream();

    /// <summary>Gets the token bytes constrained decoding works with (built on first use); null when the decoder has none.</summary>
    Constraints.ConstraintVocabulary? ConstraintVocabulary => null;
}
