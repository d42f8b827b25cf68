using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace AutoGlm.Generation.Constraints;

/// <summary>
/// Computes, for one sequence at a time, the tokens that keep its output valid, and masks a logits row to them:
/// a depth-first walk of the vocabulary's token trie that advances a snapshot of the grammar state byte by byte and
/// prunes every subtree whose prefix is already invalid. Inside a string, plain tokens come from a precomputed
/// bit set and only the tokens holding a quote, a backslash or a control byte are walked.
/// </summary>
/// <remarks>
/// <para>
/// Length guarantee: when the vocabulary has a token for every printable ASCII byte, a token is allowed only if
/// the value can still be completed, one byte per token, and the end-of-sequence token emitted within the
/// request's remaining tokens; so a satisfiable request always ends with a complete value.
/// </para>
/// <para>Owns its scratch buffers (allocated once); a mask allocates nothing. Not thread-safe: one per scheduler loop.</para>
/// </remarks>
internal sealed class ConstraintMasker
{
    // For each byte of a mask word, the eight float lanes it keeps (all ones) or drops (zero).
    private static readonly Vector256<int>[] s_laneMasks = BuildLaneMasks();

    private readonly ConstraintVocabulary _vocabulary;
    private readonly int _rowLength;
    private readonly ulong[] _allowed;
    private readonly GrammarFrame[] _levels;
    private readonly int[] _levelDepth;
    private readonly int[] _levelNode;
    private readonly int[] _levelCursor;
    private Grammar? _grammar;
    private int _limit;

    /// <summary>Creates a masker for logits rows of <paramref name="rowLength"/> entries over <paramref name="vocabulary"/>.</summary>
    public ConstraintMasker(ConstraintVocabulary vocabulary, int rowLength)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        _vocabulary = vocabulary;
        _rowLength = rowLength;
        _allowed = new ulong[ConstraintVocabulary.WordCount(Math.Max(rowLength, vocabulary.Size))];
        int levels = vocabulary.MaxTokenLength + 2;
        _levels = new GrammarFrame[levels * GrammarMachine.Capacity];
        _levelDepth = new int[levels];
        _levelNode = new int[levels];
        _levelCursor = new int[levels];
    }

    public ConstraintVocabulary Vocabulary => _vocabulary;

    /// <summary>Gets whether the last computed mask allows <paramref name="token"/>.</summary>
    public bool IsAllowed(int token) => (uint)token < (uint)_rowLength && (_allowed[token >> 6] & (1UL << token)) != 0;

    /// <summary>
    /// Computes the tokens allowed next for <paramref name="state"/> with <paramref name="remaining"/> tokens left
    /// (this one included); <paramref name="endTokens"/> are allowed only where the value is complete.
    /// </summary>
    /// <returns>How many tokens are allowed.</returns>
    public int Compute(GrammarState state, int remaining, ReadOnlySpan<int> endTokens, IReadOnlyList<int> stopTokens)
    {
        ArgumentNullException.ThrowIfNull(state);
        Array.Clear(_allowed);
        Grammar grammar = state.Grammar;
        _grammar = grammar;

        // A token may be kept when what it leaves needs at most remaining - 2 bytes: one token per byte, then the end token.
        _limit = _vocabulary.HasSingleByteTokens ? remaining - 2 : int.MaxValue;
        ReadOnlySpan<GrammarFrame> frames = state.Frames;
        frames.CopyTo(_levels);
        _levelDepth[0] = frames.Length;

        TokenTrie trie = _vocabulary.All;
        ref readonly GrammarFrame top = ref frames[^1];
        if (top.Kind == FrameKind.String && top.Phase == 0)
        {
            GrammarNode node = grammar[top.Node];
            int cost = top.CostBelow;
            if (!node.AsciiOnly)
            {
                // Plain tokens leave the cost unchanged: the closing quote and whatever lies below.
                if (cost + 1 <= _limit)
                {
                    _vocabulary.PlainString.CopyTo(_allowed, 0);
                }

                trie = _vocabulary.StringSpecial;
            }
            else
            {
                // A token of L plain ASCII bytes keeps the string within maxLength when A + L <= max, and within
                // the budget when max(0, min - A - L) + 1 + cost <= limit.
                int longest = node.MaxCount < 0 ? ConstraintVocabulary.MaxAsciiLength : Math.Min(ConstraintVocabulary.MaxAsciiLength, node.MaxCount - top.A);
                long spare = (long)_limit - 1 - cost;
                if (longest >= 1 && spare >= 0)
                {
                    long shortest = Math.Max(1, node.MinCount - top.A - spare);
                    if (shortest <= longest)
                    {
                        ulong[] upTo = _vocabulary.AsciiUpTo[longest];
                        ulong[] below = _vocabulary.AsciiUpTo[shortest - 1];
                        for (int w = 0; w < upTo.Length; w++)
                        {
                            _allowed[w] = upTo[w] & ~below[w];
                        }
                    }
                }

                trie = _vocabulary.AsciiSpecial;
            }
        }

        Walk(trie);
        if (state.IsComplete)
        {
            Allow(endTokens);
            for (int i = 0; i < stopTokens.Count; i++)
            {
                if ((uint)stopTokens[i] < (uint)_rowLength)
                {
                    _allowed[stopTokens[i] >> 6] |= 1UL << stopTokens[i];
                }
            }
        }
        else
        {
            // A stop token that is also a text token must not end the output before the value is complete.
            for (int i = 0; i < stopTokens.Count; i++)
            {
                if ((uint)stopTokens[i] < (uint)_rowLength)
                {
                    _allowed[stopTokens[i] >> 6] &= ~(1UL << stopTokens[i]);
                }
            }
        }

        // Ids past the row (a tokenizer larger than the model's output) can never be sampled.
        int words = ConstraintVocabulary.WordCount(_rowLength);
        if ((_rowLength & 63) != 0)
        {
            _allowed[words - 1] &= (1UL << (_rowLength & 63)) - 1;
        }

        int count = 0;
        for (int w = 0; w < words; w++)
        {
            count += BitOperations.PopCount(_allowed[w]);
        }

        return count;
    }

    /// <summary>
    /// Masks <paramref name="logits"/> for <paramref name="state"/>, samples, and advances the state by the token.
    /// When no token can continue the value within the budget, the row is sampled with the end tokens masked and
    /// the state is marked <see cref="GrammarState.DeadEnd"/> (the request then ends with <see cref="FinishReason.Length"/>).
    /// </summary>
    public int Sample(Sampler sampler, Span<float> logits, SamplingState sampling, GrammarState state, int remaining, ReadOnlySpan<int> endTokens, IReadOnlyList<int> stopTokens)
    {
        ArgumentNullException.ThrowIfNull(sampler);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(stopTokens);
        if (Compute(state, remaining, endTokens, stopTokens) == 0)
        {
            state.DeadEnd = true;
            foreach (int id in endTokens)
            {
                if ((uint)id < (uint)logits.Length)
                {
                    logits[id] = float.NegativeInfinity;
                }
            }

            return sampler.Sample(logits, sampling);
        }

        Apply(logits);
        int token = sampler.Sample(logits, sampling);
        if (!IsAllowed(token))
        {
            // Masked tokens keep a weight of about 1e-35 in the sampler; should one ever be drawn, take the best allowed.
            token = BestAllowed(logits);
        }

        if (endTokens.Contains(token) || Contains(stopTokens, token))
        {
            return token;
        }

        if (!state.TryAdvance(_vocabulary.Bytes(token)))
        {
            state.DeadEnd = true;
        }

        return token;
    }

    /// <summary>Sets every logit the last mask disallows to negative infinity.</summary>
    public void Apply(Span<float> logits)
    {
        int words = logits.Length >> 6;
        Vector256<float> negativeInfinity = Vector256.Create(float.NegativeInfinity);
        ReadOnlySpan<Vector256<int>> laneMasks = s_laneMasks;
        for (int w = 0; w < words; w++)
        {
            ulong bits = _allowed[w];
            if (bits == ulong.MaxValue)
            {
                continue;
            }

            Span<float> block = logits.Slice(w << 6, 64);
            if (bits == 0)
            {
                block.Fill(float.NegativeInfinity);
                continue;
            }

            // Mixed words (common inside length-bounded strings): eight lanes at a time, selected by a byte of the mask.
            Span<Vector256<float>> lanes = MemoryMarshal.Cast<float, Vector256<float>>(block);
            for (int k = 0; k < 8; k++)
            {
                lanes[k] = Vector256.ConditionalSelect(laneMasks[(int)((bits >> (k * 8)) & 0xFF)].AsSingle(), lanes[k], negativeInfinity);
            }
        }

        for (int i = words << 6; i < logits.Length; i++)
        {
            if ((_allowed[i >> 6] & (1UL << i)) == 0)
            {
                logits[i] = float.NegativeInfinity;
            }
        }
    }

    private static Vector256<int>[] BuildLaneMasks()
    {
        var masks = new Vector256<int>[256];
        Span<int> lanes = stackalloc int[8];
        for (int b = 0; b < 256; b++)
        {
            for (int i = 0; i < 8; i++)
            {
                lanes[i] = (b & (1 << i)) != 0 ? -1 : 0;
            }

            masks[b] = Vector256.Create<int>(lanes);
        }

        return masks;
    }

    /// <summary>The allowed token with the largest logit (used only if sampling ever picks a masked token).</summary>
    public int BestAllowed(ReadOnlySpan<float> logits)
    {
        int best = -1;
        for (int w = 0; w < _allowed.Length; w++)
        {
            ulong bits = _allowed[w];
            while (bits != 0)
            {
                int id = (w << 6) + BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                if (id < logits.Length && (best < 0 || logits[id] > logits[best]))
                {
                    best = id;
                }
            }
        }

        return best;
    }

    private static bool Contains(IReadOnlyList<int> ids, int id)
    {
        for (int i = 0; i < ids.Count; i++)
        {
            if (ids[i] == id)
            {
                return true;
            }
        }

        return false;
    }

    private void Allow(ReadOnlySpan<int> tokens)
    {
        foreach (int id in tokens)
        {
            if ((uint)id < (uint)_rowLength)
            {
                _allowed[id >> 6] |= 1UL << id;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Walk(TokenTrie trie)
    {
        Grammar grammar = _grammar!;
        const int Capacity = GrammarMachine.Capacity;
        int level = 0;
        _levelNode[0] = 0;
        _levelCursor[0] = trie.FirstChild(0);
        while (level >= 0)
        {
            int node = _levelNode[level];
            int child = _levelCursor[level];
            if (child >= trie.FirstChild(node) + trie.ChildCount(node))
            {
                level--;
                continue;
            }

            _levelCursor[level] = child + 1;
            int depth = _levelDepth[level];
            Span<GrammarFrame> next = _levels.AsSpan((level + 1) * Capacity, Capacity);
            _levels.AsSpan(level * Capacity, depth).CopyTo(next);
            if (!GrammarMachine.Advance(grammar, next, ref depth, trie.Label(child)))
            {
                continue;
            }

            ReadOnlySpan<int> ends = trie.Ends(child);
            if (ends.Length > 0 && GrammarMachine.MinCompletion(grammar, next, depth) <= _limit)
            {
                foreach (int id in ends)
                {
                    _allowed[id >> 6] |= 1UL << id;
                }
            }

            if (trie.ChildCount(child) > 0)
            {
                level++;
                _levelDepth[level] = depth;
                _levelNode[level] = child;
                _levelCursor[level] = trie.FirstChild(child);
            }
        }
    }
}
