using System.Buffers;

namespace AutoGlm.Generation;

/// <summary>
/// What the sampler needs to remember about one sequence: its options, its random generator, and (only when a
/// penalty is enabled) which tokens it has seen and how often each appeared in the output.
/// </summary>
/// <remarks>
/// Buffers are rented when the sequence is admitted and returned by <see cref="Dispose"/> when it retires, so
/// sampling a token allocates nothing. Not thread-safe: only the scheduler loop uses it.
/// </remarks>
internal sealed class SamplingState : IDisposable
{
    // _counts[id] is 0 for a token never seen, otherwise 1 + the number of times it appears in the output
    // (so a token seen only in the prompt is 1). One array serves both the repetition penalty (seen
    // anywhere) and the frequency/presence penalties (output counts).
    private int[]? _counts;
    private int[]? _seenIds;
    private int _seenCount;
    private SplitMix64 _random;

    /// <summary>Creates the state of a sequence with <paramref name="prompt"/> that may sample up to <paramref name="maxNewTokens"/> tokens.</summary>
    public SamplingState(GenerationOptions options, int vocabularySize, ReadOnlySpan<int> prompt, int maxNewTokens, long seed)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        VocabularySize = vocabularySize;
        _random = new SplitMix64(seed);
        HasPenalties = options.RepetitionPenalty != 1f || options.FrequencyPenalty != 0f || options.PresencePenalty != 0f;
        if (!HasPenalties)
        {
            return;
        }

        _counts = ArrayPool<int>.Shared.Rent(vocabularySize);
        Array.Clear(_counts, 0, vocabularySize);
        _seenIds = ArrayPool<int>.Shared.Rent(Math.Min(vocabularySize, prompt.Length + maxNewTokens));
        foreach (int id in prompt)
        {
            if (_counts[id] == 0)
            {
                _counts[id] = 1;
                _seenIds[_seenCount++] = id;
            }
        }
    }

    /// <summary>Gets the request's sampling options.</summary>
    public GenerationOptions Options { get; }

    /// <summary>Gets the size of the model's vocabulary (the length of a logits row).</summary>
    public int VocabularySize { get; }

    /// <summary>Gets a value indicating whether any penalty is enabled (and so whether seen tokens are tracked).</summary>
    public bool HasPenalties { get; }

    /// <summary>Gets the distinct tokens seen so far in the prompt and the output, in order of first appearance.</summary>
    public ReadOnlySpan<int> SeenTokenIds => _seenIds.AsSpan(0, _seenCount);

    /// <summary>Gets the request's random generator, advanced in place by the sampler.</summary>
    public ref SplitMix64 Random => ref _random;

    /// <summary>Returns how many times <paramref name="tokenId"/> appears in the output (0 when penalties are disabled).</summary>
    public int OutputCount(int tokenId) => _counts is null ? 0 : Math.Max(0, _counts[tokenId] - 1);

    /// <summary>Records a token the sequence produced.</summary>
    public void Observe(int tokenId)
    {
        if (_counts is null)
        {
            return;
        }

        if (_counts[tokenId] == 0)
        {
            _counts[tokenId] = 1;
            _seenIds![_seenCount++] = tokenId;
        }

        _counts[tokenId]++;
    }

    /// <summary>Returns the rented buffers.</summary>
    public void Dispose()
    {
        if (_counts is not null)
        {
            ArrayPool<int>.Shared.Return(_counts);
            _counts = null;
        }

        if (_seenIds is not null)
        {
            ArrayPool<int>.Shared.Return(_seenIds);
            _seenIds = null;
        }

        _seenCount = 0;
    }
}
