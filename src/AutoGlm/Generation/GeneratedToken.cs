namespace AutoGlm.Generation;

/// <summary>One token produced by a streaming generation request.</summary>
/// <remarks>
/// <para>
/// <see cref="Text"/> is the text this token releases, which is not always the token's own text: text that
/// could still be the beginning of a stop sequence is held back and released with a later token (or dropped
/// when it does turn out to be the stop sequence), and bytes of an incomplete UTF-8 character wait for the
/// token that completes them. Concatenating <see cref="Text"/> of every token gives the generated text.
/// </para>
/// <para>An immutable value; safe to share between threads.</para>
/// </remarks>
/// <param name="Id">The token id the model sampled.</param>
/// <param name="Text">The text released with this token; may be empty.</param>
/// <param name="Index">The position of this token among the generated tokens, from 0.</param>
/// <param name="Elapsed">The time from the request's submission until this token was sampled.</param>
/// <param name="FinishReason">Why the request ended, on its last token; <see langword="null"/> on every other token.</param>
public readonly record struct GeneratedToken(int Id, string Text, int Index, TimeSpan Elapsed, FinishReason? FinishReason)
{
    /// <summary>
    /// Gets the natural-log probability of this token under the model's distribution (before penalties, temperature and
    /// constraints) when <see cref="GenerationOptions.TopLogProbabilities"/> asked for it; otherwise <see langword="null"/>.
    /// </summary>
    public float? LogProbability { get; init; }

    /// <summary>Gets the most likely tokens at this position with their log probabilities, most likely first, when asked for.</summary>
    public IReadOnlyList<TokenLogProbability>? TopLogProbabilities { get; init; }

    /// <summary>Gets a value indicating whether this is the request's last token.</summary>
    public bool IsLast => FinishReason is not null;
}
