namespace AutoGlm.Cli;

/// <summary>What one <c>autoglm bench</c> sweep runs: the concurrency levels, and the shape of every request.</summary>
/// <param name="ConcurrencyLevels">How many requests run at once, one level after another; level 1 is always measured first (the ratios' reference).</param>
/// <param name="PromptTokens">Prompt length of every request, in tokens.</param>
/// <param name="NewTokens">Tokens every request generates (greedy, end-of-sequence ignored).</param>
internal sealed record BenchSettings(IReadOnlyList<int> ConcurrencyLevels, int PromptTokens, int NewTokens);
