using System.Globalization;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace AutoGlm.Generation;

/// <summary>
/// Turns one row of logits into a token id: penalties, then greedy choice or temperature, top-k, top-p and
/// min-p truncation followed by a seeded draw.
/// </summary>
/// <remarks>
/// <para>
/// The sampler owns vocabulary-sized scratch buffers allocated once, so sampling a token allocates nothing.
/// Nothing sorts the whole vocabulary (151k entries for GLM-4): top-k keeps a k-sized heap over the raw
/// logits; top-p gathers the tokens above a probability threshold (skipping whole blocks below it), lowers the
/// threshold only when they cannot hold the requested mass, and sorts just those; temperature and min-p
/// alone draw straight from the weights, finding the target block by vectorised block sums.
/// </para>
/// <para>
/// Exponents are floored at -80 to keep weights out of the subnormal range, so a token with a logit of
/// negative infinity keeps a weight of about 1e-35 of the top token's: it can in principle be drawn, with
/// a probability far below anything observable.
/// </para>
/// <para>Not thread-safe: one instance per scheduler loop.</para>
/// </remarks>
internal sealed class Sampler
{
    // Tokens whose weight (probability relative to the most likely token) falls below this are usually
    // irrelevant to top-k/top-p; each gather pass that proves insufficient lowers the bar by this factor.
    private const float FirstGatherThreshold = 1e-4f;
    private const float GatherThresholdStep = 1e-4f;
    private const float LowestGatherThreshold = 1e-30f;

    // exp(-80) ≈ 1.8e-35 is still a normal float; below about -87 exp gives subnormals, which can make later
    // vector operations on the row many times slower.
    private const float LowestExponent = -80f;

    // Scans over the vocabulary work a block at a time so that vector operations can skip or sum whole blocks.
    private const int BlockLength = 1024;

    // Two levels of weight buckets for top-p's partial selection (see SelectTopP).
    private const int BucketCount = 1024;

    // Survivor lists up to this long are sorted, most likely first.
    private const int SortedCandidateLimit = 512;

    private readonly float[] _weights;
    private readonly double[] _bucketMass = new double[BucketCount];
    private readonly int[] _bucketCount = new int[BucketCount];
    private readonly int[] _candidateIds;
    private readonly float[] _candidateWeights;
    private int _candidateCount;

    /// <summary>Creates a sampler for logits rows of <paramref name="vocabularySize"/> entries.</summary>
    public Sampler(int vocabularySize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabularySize, 1);
        VocabularySize = vocabularySize;
        _weights = new float[vocabularySize];
        _candidateIds = new int[vocabularySize];
        _candidateWeights = new float[vocabularySize];
    }

    /// <summary>Gets the length of a logits row.</summary>
    public int VocabularySize { get; }

    /// <summary>Gets the ids of the tokens that survived the last <see cref="PrepareCandidates"/>, most likely first when truncation sorted them.</summary>
    public ReadOnlySpan<int> CandidateIds => _candidateIds.AsSpan(0, _candidateCount);

    /// <summary>Gets the unnormalised probabilities matching <see cref="CandidateIds"/>.</summary>
    public ReadOnlySpan<float> CandidateWeights => _candidateWeights.AsSpan(0, _candidateCount);

    /// <summary>
    /// Chooses the next token of a sequence. <paramref name="logits"/> is modified in place (penalties are
    /// applied to it). The choice is not recorded in <paramref name="state"/>; the caller calls
    /// <see cref="SamplingState.Observe"/> once it keeps the token.
    /// </summary>
    /// <exception cref="AutoGlmException">The logits contain NaN, or every token has a logit of negative infinity.</exception>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public int Sample(Span<float> logits, SamplingState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        CheckRow(logits);
        ApplyPenalties(logits, state);
        GenerationOptions options = state.Options;
        if (options.IsGreedy)
        {
            int best = TensorPrimitives.IndexOfMax(logits);
            if (float.IsNaN(logits[best]) || float.IsNegativeInfinity(logits[best]))
            {
                throw BadLogits(logits[best]);
            }

            return best;
        }

        if (TopKOf(options) > 0 || options.TopP < 1f)
        {
            PrepareCandidates(logits, state);
            return Draw(ref state.Random);
        }

        // Temperature and min-p only: draw straight from the weights, without gathering candidates.
        ComputeWeights(logits, options.Temperature);
        return DrawFromWeights(options.MinP, ref state.Random);
    }

    /// <summary>
    /// Applies the repetition penalty (Hugging Face: divide positive, multiply negative logits of every token
    /// seen in the prompt or output), then the frequency and presence penalties (OpenAI: subtract
    /// <c>frequency × count + presence × (count &gt; 0)</c>, counting the output only).
    /// </summary>
    public static void ApplyPenalties(Span<float> logits, SamplingState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!state.HasPenalties)
        {
            return;
        }

        float repetition = state.Options.RepetitionPenalty;
        float frequency = state.Options.FrequencyPenalty;
        float presence = state.Options.PresencePenalty;
        foreach (int id in state.SeenTokenIds)
        {
            float logit = logits[id];
            if (repetition != 1f)
            {
                logit = logit > 0f ? logit / repetition : logit * repetition;
            }

            int count = state.OutputCount(id);
            if (count > 0)
            {
                logit -= (frequency * count) + presence;
            }

            logits[id] = logit;
        }
    }

    /// <summary>
    /// Applies temperature, top-k, top-p and min-p to <paramref name="logits"/> (after penalties; not modified) and leaves the
    /// surviving tokens in <see cref="CandidateIds"/> / <see cref="CandidateWeights"/>.
    /// </summary>
    /// <returns>How many tokens survived (at least 1).</returns>
    /// <exception cref="AutoGlmException">The logits contain NaN, or every token has a logit of negative infinity.</exception>
    public int PrepareCandidates(Span<float> logits, SamplingState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        CheckRow(logits);
        GenerationOptions options = state.Options;
        int topK = TopKOf(options);
        float topP = options.TopP;
        int count;
        float norm;
        if (topK > 0)
        {
            // Top-k does not depend on temperature (a positive scale keeps the order), so select on the raw
            // logits with a k-sized heap and exponentiate only the survivors.
            count = SelectTopK(logits, topK);
            Span<float> selected = _candidateWeights.AsSpan(0, count);
            SortDescending(0, count);
            float max = selected[0];
            if (!float.IsFinite(max))
            {
                throw BadLogits(max);
            }

            TensorPrimitives.Subtract(selected, max, selected);
            if (options.Temperature != 1f)
            {
                TensorPrimitives.Divide(selected, options.Temperature, selected);
            }

            TensorPrimitives.Max(selected, LowestExponent, selected);
            TensorPrimitives.Exp(selected, selected);
            norm = TensorPrimitives.Sum(selected);
        }
        else
        {
            ComputeWeights(logits, options.Temperature);
            ReadOnlySpan<float> weights = _weights;
            if (topP >= 1f)
            {
                _candidateCount = Gather(weights, options.MinP, out _);
                return _candidateCount;
            }

            // Min-p keeps the tokens weighing at least MinP (the top token weighs 1) and top-p keeps a prefix of
            // the descending order too, so the result is the shorter prefix: gathering at the min-p floor first
            // often bounds the work. Otherwise gather above a threshold, lowering it only when the tokens above
            // cannot hold top-p of the mass.
            norm = TensorPrimitives.Sum(weights);
            double limit = (double)topP * norm;
            float minP = options.MinP;

            // The tokens below a threshold t weigh at most vocabulary × t together, so at t = (1 - top-p) × sum ÷
            // vocabulary the tokens at or above t hold at least top-p of the mass: one gather is enough. On a flat
            // distribution that gathers far fewer tokens than the fixed first threshold; on a peaked one it is tiny
            // and the fixed threshold applies. Then one vector pass narrows it: of threshold × 4, 16 and 64, the
            // highest whose tokens still hold top-p of the mass (a small margin absorbs the float sums' rounding;
            // the gather below checks exactly and lowers the threshold if it must).
            float enough = (float)((1.0 - topP) * norm / VocabularySize);
            float threshold = Math.Max(Math.Max(FirstGatherThreshold, enough), minP);
            if (minP == 0f)
            {
                // (With min-p, its floor already bounds the gather; the extra pass measured slower there.)
                threshold = HighestThresholdHolding(weights, threshold, limit * 1.001);
            }
            while (true)
            {
                count = Gather(weights, threshold, out double gathered);
                if (gathered >= limit || threshold == 0f)
                {
                    break;
                }

                if (minP > 0f && threshold <= minP)
                {
                    // Everything gathered, so the whole min-p set, lies inside the top-p prefix.
                    count = KeepAtLeast(count, minP);
                    _candidateCount = count;
                    SortDescendingIfFew(count);
                    return count;
                }

                threshold *= GatherThresholdStep;
                if (threshold < LowestGatherThreshold)
                {
                    threshold = 0f;
                }
            }

            count = SelectTopP(count, limit);
            if (minP > 0f)
            {
                count = KeepAtLeast(count, minP);
            }

            _candidateCount = count;
            SortDescendingIfFew(count);
            return count;
        }

        ReadOnlySpan<float> candidateWeights = _candidateWeights.AsSpan(0, count);
        if (topP < 1f)
        {
            // Hugging Face's rule: keep a token while the mass of the tokens before it is below top-p of the
            // distribution (renormalised over the top-k survivors when top-k ran first).
            float limit = topP * norm;
            float before = 0f;
            int kept = 0;
            while (kept < count && (kept == 0 || before < limit))
            {
                before += candidateWeights[kept];
                kept++;
            }

            count = kept;
        }

        if (options.MinP > 0f)
        {
            float floor = options.MinP * candidateWeights[0];
            int kept = 1;
            while (kept < count && candidateWeights[kept] >= floor)
            {
                kept++;
            }

            count = kept;
        }

        _candidateCount = count;
        return count;
    }

    /// <summary>Draws one of the current candidates in proportion to its weight.</summary>
    public int Draw(ref SplitMix64 random)
    {
        ReadOnlySpan<float> weights = CandidateWeights;
        ReadOnlySpan<int> ids = CandidateIds;
        double total = 0;
        foreach (float weight in weights)
        {
            total += weight;
        }

        double target = random.NextDouble() * total;
        double cumulative = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            cumulative += weights[i];
            if (target < cumulative)
            {
                return ids[i];
            }
        }

        // Only reachable through rounding at the very top of the range: take the most likely candidate.
        return ids[TensorPrimitives.IndexOfMax(weights)];
    }

    private int TopKOf(GenerationOptions options) => options.TopK > 0 && options.TopK < VocabularySize ? options.TopK : 0;

    // Weights are probabilities scaled so that the most likely token has 1; normalising is never needed
    // because every rule compares weights with each other or with a fraction of their sum.
    private void ComputeWeights(ReadOnlySpan<float> logits, float temperature)
    {
        float max = TensorPrimitives.Max(logits);
        if (!float.IsFinite(max))
        {
            throw BadLogits(max);
        }

        // (logit - max) / temperature: the most likely token gets a weight of 1.
        TensorPrimitives.Subtract(logits, max, _weights);
        if (temperature != 1f)
        {
            TensorPrimitives.Divide(_weights, temperature, _weights);
        }

        TensorPrimitives.Max(_weights, LowestExponent, _weights);
        TensorPrimitives.Exp(_weights, _weights);
    }

    private int DrawFromWeights(float floor, ref SplitMix64 random)
    {
        Span<float> weights = _weights;
        if (floor > 0f)
        {
            ZeroBelow(weights, floor);
        }

        // Find the block holding the target with vectorised block sums, then walk only that block.
        double target = random.NextDouble() * TensorPrimitives.Sum(weights);
        double cumulative = 0;
        int from = 0;
        for (; from < weights.Length; from += BlockLength)
        {
            float blockSum = TensorPrimitives.Sum(weights.Slice(from, Math.Min(BlockLength, weights.Length - from)));
            if (target < cumulative + blockSum)
            {
                break;
            }

            cumulative += blockSum;
        }

        for (int i = Math.Min(from, weights.Length - 1); i < weights.Length; i++)
        {
            float weight = weights[i];
            if (weight > 0f)
            {
                cumulative += weight;
                if (target < cumulative)
                {
                    return i;
                }
            }
        }

        // Only reachable through rounding at the very top of the range: take the most likely token.
        return TensorPrimitives.IndexOfMax(weights);
    }

    // Min-p without sorting: drop (zero) every weight below the floor, a vector at a time.
    private static void ZeroBelow(Span<float> weights, float floor)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var floors = new Vector<float>(floor);
            Span<Vector<float>> vectors = MemoryMarshal.Cast<float, Vector<float>>(weights);
            for (int v = 0; v < vectors.Length; v++)
            {
                vectors[v] = Vector.ConditionalSelect(Vector.GreaterThanOrEqual(vectors[v], floors), vectors[v], Vector<float>.Zero);
            }

            i = vectors.Length * Vector<float>.Count;
        }

        for (; i < weights.Length; i++)
        {
            if (weights[i] < floor)
            {
                weights[i] = 0f;
            }
        }
    }

    // A min-heap on the candidate buffers keeps the k largest logits seen so far.
    private int SelectTopK(ReadOnlySpan<float> logits, int k)
    {
        Span<float> keys = _candidateWeights.AsSpan(0, k);
        Span<int> ids = _candidateIds.AsSpan(0, k);
        for (int i = 0; i < k; i++)
        {
            keys[i] = logits[i];
            ids[i] = i;
        }

        for (int i = (k / 2) - 1; i >= 0; i--)
        {
            SiftDown(keys, ids, i);
        }

        for (int start = k; start < logits.Length; start += BlockLength)
        {
            ReadOnlySpan<float> block = logits.Slice(start, Math.Min(BlockLength, logits.Length - start));

            // Once the heap is full its root is a high bar: most blocks hold nothing above it (NaN fails the
            // comparison, so a block holding one is scanned and the NaN reported).
            float blockMax = TensorPrimitives.Max(block);
            if (blockMax <= keys[0])
            {
                continue;
            }

            for (int i = 0; i < block.Length; i++)
            {
                float logit = block[i];
                if (logit > keys[0])
                {
                    keys[0] = logit;
                    ids[0] = start + i;
                    SiftDown(keys, ids, 0);
                }
                else if (float.IsNaN(logit))
                {
                    throw BadLogits(logit);
                }
            }
        }

        return k;
    }

    private static void SiftDown(Span<float> keys, Span<int> ids, int at)
    {
        int count = keys.Length;
        while (true)
        {
            int left = (2 * at) + 1;
            if (left >= count)
            {
                return;
            }

            int smallest = left + 1 < count && keys[left + 1] < keys[left] ? left + 1 : left;
            if (!(keys[smallest] < keys[at]))
            {
                return;
            }

            (keys[at], keys[smallest]) = (keys[smallest], keys[at]);
            (ids[at], ids[smallest]) = (ids[smallest], ids[at]);
            at = smallest;
        }
    }

    // Sorting negated keys ascending is a descending sort that takes the runtime's allocation-free path for
    // primitive keys (a custom comparer would be boxed on every call).
    private void SortDescending(int start, int count)
    {
        Span<float> keys = _candidateWeights.AsSpan(start, count);
        TensorPrimitives.Negate(keys, keys);
        keys.Sort(_candidateIds.AsSpan(start, count));
        TensorPrimitives.Negate(keys, keys);
    }

    // Of t, 4t, 16t and 64t, the highest whose weights at or above it sum to at least mass (t when none does).
    private static float HighestThresholdHolding(ReadOnlySpan<float> weights, float t, double mass)
    {
        var t1 = Vector256.Create(t);
        var t2 = Vector256.Create(t * 4f);
        var t3 = Vector256.Create(t * 16f);
        var t4 = Vector256.Create(t * 64f);
        Vector256<float> s2 = Vector256<float>.Zero, s3 = Vector256<float>.Zero, s4 = Vector256<float>.Zero;
        ref float first = ref MemoryMarshal.GetReference(weights);
        int i = 0;
        for (; i + Vector256<float>.Count <= weights.Length; i += Vector256<float>.Count)
        {
            Vector256<float> values = Vector256.LoadUnsafe(ref first, (nuint)i);
            if (Vector256.GreaterThanOrEqualAny(values, t1))
            {
                s2 += Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(values, t2), values, Vector256<float>.Zero);
                s3 += Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(values, t3), values, Vector256<float>.Zero);
                s4 += Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(values, t4), values, Vector256<float>.Zero);
            }
        }

        double m2 = Vector256.Sum(s2), m3 = Vector256.Sum(s3), m4 = Vector256.Sum(s4);
        for (; i < weights.Length; i++)
        {
            float w = weights[i];
            m2 += w >= t * 4f ? w : 0f;
            m3 += w >= t * 16f ? w : 0f;
            m4 += w >= t * 64f ? w : 0f;
        }

        return m4 >= mass ? t * 64f : m3 >= mass ? t * 16f : m2 >= mass ? t * 4f : t;
    }

    private int Gather(ReadOnlySpan<float> weights, float threshold, out double gathered)
    {
        int count = 0;
        double sum = 0;
        ref float first = ref MemoryMarshal.GetReference(weights);
        var thresholds = Vector256.Create(threshold);
        for (int start = 0; start < weights.Length; start += BlockLength)
        {
            int length = Math.Min(BlockLength, weights.Length - start);
            ReadOnlySpan<float> block = weights.Slice(start, length);

            // Most blocks of a language model's distribution hold nothing above the threshold; skip them whole.
            if (threshold > 0f && TensorPrimitives.Max(block) < threshold)
            {
                continue;
            }

            // A vector at a time: only the lanes at or above the threshold are visited, so a flat distribution
            // costs no branch per token.
            int i = 0;
            float blockSum = 0f;
            for (; i + Vector256<float>.Count <= length; i += Vector256<float>.Count)
            {
                Vector256<float> values = Vector256.LoadUnsafe(ref first, (nuint)(start + i));
                Vector256<float> taken = Vector256.GreaterThanOrEqual(values, thresholds);
                uint lanes = taken.ExtractMostSignificantBits();
                if (lanes == 0)
                {
                    continue;
                }

                blockSum += Vector256.Sum(Vector256.ConditionalSelect(taken, values, Vector256<float>.Zero));
                while (lanes != 0)
                {
                    int lane = BitOperations.TrailingZeroCount(lanes);
                    _candidateIds[count] = start + i + lane;
                    _candidateWeights[count] = block[i + lane];
                    count++;
                    lanes &= lanes - 1;
                }
            }

            for (; i < length; i++)
            {
                float weight = block[i];
                if (weight >= threshold)
                {
                    _candidateIds[count] = start + i;
                    _candidateWeights[count] = weight;
                    blockSum += weight;
                    count++;
                }
            }

            sum += blockSum;
        }

        gathered = sum;
        return count;
    }

    // Top-p over the gathered candidates without sorting them: the candidates are bucketed by the top bits of
    // their weight (positive floats order like their bit patterns) in two levels of 1024 buckets, the masses are
    // walked from the heaviest bucket down to the one where top-p of the mass is reached, and only the few
    // candidates of that last bucket are sorted. Everything heavier is kept, everything lighter dropped. Keeps
    // Hugging Face's rule exactly: a token stays while the mass of the tokens before it is below the limit.
    private int SelectTopP(int count, double limit)
    {
        Span<float> weights = _candidateWeights.AsSpan(0, count);
        Span<int> ids = _candidateIds.AsSpan(0, count);
        Array.Clear(_bucketMass);
        Array.Clear(_bucketCount);
        foreach (float weight in weights)
        {
            int key = BitConverter.SingleToInt32Bits(weight) >> 20;
            _bucketMass[key] += weight;
            _bucketCount[key]++;
        }

        double before = 0;
        int top = HeaviestBucketReaching(limit, ref before);
        if (top < 0)
        {
            // Rounding: the candidates hold less than the limit, so every one of them is kept.
            return count;
        }

        Array.Clear(_bucketMass);
        Array.Clear(_bucketCount);
        foreach (float weight in weights)
        {
            int bits = BitConverter.SingleToInt32Bits(weight);
            if (bits >> 20 == top)
            {
                int key = (bits >> 10) & (BucketCount - 1);
                _bucketMass[key] += weight;
                _bucketCount[key]++;
            }
        }

        int sub = HeaviestBucketReaching(limit, ref before);
        int boundary = (top << 10) | Math.Max(sub, 0);

        // Heavier buckets to the front, then the boundary bucket after them; the rest is dropped.
        int kept = 0;
        for (int i = 0; i < count; i++)
        {
            if (BitConverter.SingleToInt32Bits(weights[i]) >> 10 > boundary)
            {
                Swap(weights, ids, i, kept++);
            }
        }

        int edge = kept;
        for (int i = kept; i < count; i++)
        {
            if (BitConverter.SingleToInt32Bits(weights[i]) >> 10 == boundary)
            {
                Swap(weights, ids, i, edge++);
            }
        }

        if (sub < 0)
        {
            // Rounding again: the boundary bucket's heaviest sub-bucket is kept whole.
            return edge;
        }

        SortDescending(kept, edge - kept);
        while (kept < edge && (kept == 0 || before < limit))
        {
            before += weights[kept];
            kept++;
        }

        return kept;
    }

    // Walks the buckets from the heaviest down, adding their mass to before, and returns the first whose mass
    // takes before to the limit (before then excludes it), or -1 when none does.
    private int HeaviestBucketReaching(double limit, ref double before)
    {
        for (int key = BucketCount - 1; key >= 0; key--)
        {
            if (_bucketCount[key] == 0)
            {
                continue;
            }

            if (before + _bucketMass[key] >= limit)
            {
                return key;
            }

            before += _bucketMass[key];
        }

        return -1;
    }

    // Min-p on unsorted candidates: keep (in order) those weighing at least the floor.
    private int KeepAtLeast(int count, float floor)
    {
        Span<float> weights = _candidateWeights.AsSpan(0, count);
        Span<int> ids = _candidateIds.AsSpan(0, count);
        int kept = 0;
        for (int i = 0; i < count; i++)
        {
            if (weights[i] >= floor)
            {
                weights[kept] = weights[i];
                ids[kept] = ids[i];
                kept++;
            }
        }

        return kept;
    }

    private static void Swap(Span<float> weights, Span<int> ids, int a, int b)
    {
        (weights[a], weights[b]) = (weights[b], weights[a]);
        (ids[a], ids[b]) = (ids[b], ids[a]);
    }

    // Survivors are listed most likely first when there are few of them; sorting a large nucleus would cost
    // more than the whole selection, and the draw does not need the order.
    private void SortDescendingIfFew(int count)
    {
        if (count <= SortedCandidateLimit)
        {
            SortDescending(0, count);
        }
    }

    private void CheckRow(ReadOnlySpan<float> logits)
    {
        if (logits.Length != VocabularySize)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"A logits row has {logits.Length} entries but the sampler was made for a vocabulary of {VocabularySize}."),
                nameof(logits));
        }
    }

    private static AutoGlmException BadLogits(float value) => new(string.Create(
        CultureInfo.InvariantCulture,
        $"The model produced unusable logits (the largest is {value}): NaN, or negative infinity for every token. The model's weights or inputs are broken; check the model folder with the builder's validation."));
}
