namespace AutoGlm.Chat;

/// <summary>One generated token with its natural-log probability and the most likely alternatives at its position.</summary>
/// <remarks>
/// The probabilities are the model's (before penalties, temperature and constraints). <see cref="Token"/> is the
/// token's text; a token that holds part of a UTF-8 character shows U+FFFD there. Immutable; safe to share.
/// </remarks>
/// <param name="Token">The token's text.</param>
/// <param name="LogProbability">The natural logarithm of its probability.</param>
/// <param name="TopLogProbabilities">The most likely tokens at this position, most likely first (empty for the alternatives themselves).</param>
public sealed record ChatTokenLogProbability(string Token, float LogProbability, IReadOnlyList<ChatTokenLogProbability> TopLogProbabilities);
