namespace AutoGlm.Tokenization;

/// <summary>What merging a pair of adjacent tokens gives: the merge's priority (lower first) and the resulting id.</summary>
internal readonly record struct MergeRule(int Rank, int Id);
