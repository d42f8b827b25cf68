namespace AutoGlm.Generation;

/// <summary>A token and its natural-log probability under the model's distribution at one position.</summary>
/// <remarks>An immutable value; safe to share between threads.</remarks>
/// <param name="Id">The token id.</param>
/// <param name="LogProbability">The natural logarithm of its probability.</param>
public readonly record struct TokenLogProbability(int Id, float LogProbability);
