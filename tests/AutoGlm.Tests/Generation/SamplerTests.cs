using System.Numerics.Tensors;
using AutoGlm.Generation;

namespace AutoGlm.Tests.Generation;

public sealed class SamplerTests
{
    private static SamplingState State(GenerationOptions options, int vocabulary, int[]? prompt = null, long seed = 1) =>
        new(options, vocabulary, prompt ?? [], maxNewTokens: 64, seed);

    private static float[] Probabilities(Sampler sampler)
    {
        float[] weights = sampler.CandidateWeights.ToArray();
        float sum = weights.Sum();
        return weights.Select(w => w / sum).ToArray();
    }

    private static float[] Softmax(params double[] logits)
    {
        double max = logits.Max();
        double[] e = logits.Select(l => Math.Exp(l - max)).ToArray();
        double sum = e.Sum();
        return e.Select(x => (float)(x / sum)).ToArray();
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-6, $"item {i}: expected {expected[i]}, got {actual[i]}");
        }
    }

    [Fact]
    public void SplitMix64_KnownSeed_MatchesReferenceSequence()
    {
        var random = new SplitMix64(1234567);
        ulong[] expected = [6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431, 16408922859458223821];
        foreach (ulong value in expected)
        {
            Assert.Equal(value, random.NextUInt64());
        }
    }

    [Fact]
    public void Sample_Greedy_ReturnsIndexOfLargestLogit()
    {
        var sampler = new Sampler(4);
        using SamplingState state = State(GenerationOptions.Greedy, 4);
        Assert.Equal(1, sampler.Sample([0.1f, 2.5f, -1f, 2.4f], state));
    }

    [Fact]
    public void Sample_GreedyWithRepetitionPenalty_PicksTheUnpenalisedRunnerUp()
    {
        var sampler = new Sampler(4);
        using SamplingState state = State(GenerationOptions.Greedy with { RepetitionPenalty = 1.5f }, 4, prompt: [1]);
        Assert.Equal(3, sampler.Sample([0.1f, 2.5f, -1f, 2.4f], state));
    }

    [Fact]
    public void ApplyPenalties_Repetition_DividesPositiveAndMultipliesNegativeLogitsOfSeenTokens()
    {
        using SamplingState state = State(new GenerationOptions { RepetitionPenalty = 2f }, 4, prompt: [0, 1]);
        state.Observe(0);
        float[] logits = [2f, -1f, 0.5f, 3f];
        Sampler.ApplyPenalties(logits, state);
        Assert.Equal([1f, -2f, 0.5f, 3f], logits);
    }

    [Fact]
    public void ApplyPenalties_FrequencyAndPresence_SubtractOutputCountsOnly()
    {
        using SamplingState state = State(new GenerationOptions { FrequencyPenalty = 0.5f, PresencePenalty = 0.25f }, 4, prompt: [3]);
        state.Observe(2);
        state.Observe(2);
        state.Observe(2);
        state.Observe(1);
        float[] logits = [1f, 1f, 1f, 1f];
        Sampler.ApplyPenalties(logits, state);
        // token 1: 1 - 0.5*1 - 0.25; token 2: 1 - 0.5*3 - 0.25; token 3 is only in the prompt.
        Assert.Equal([1f, 0.25f, -0.75f, 1f], logits);
        Assert.Equal(3, state.OutputCount(2));
        Assert.Equal(0, state.OutputCount(3));
    }

    [Fact]
    public void ApplyPenalties_RepetitionThenFrequency_AppliesInThatOrder()
    {
        using SamplingState state = State(new GenerationOptions { RepetitionPenalty = 2f, FrequencyPenalty = 1f }, 2);
        state.Observe(0);
        float[] logits = [4f, 4f];
        Sampler.ApplyPenalties(logits, state);
        Assert.Equal([1f, 4f], logits);
    }

    [Fact]
    public void PrepareCandidates_Temperature_GivesSoftmaxOfScaledLogits()
    {
        var sampler = new Sampler(3);
        using SamplingState state = State(new GenerationOptions { Temperature = 0.5f }, 3);
        Assert.Equal(3, sampler.PrepareCandidates([1f, 2f, 3f], state));
        Assert.Equal([0, 1, 2], sampler.CandidateIds.ToArray());
        AssertClose(Softmax(2, 4, 6), Probabilities(sampler));
    }

    [Fact]
    public void PrepareCandidates_TopK_KeepsTheKMostLikelyRenormalised()
    {
        var sampler = new Sampler(5);
        using SamplingState state = State(new GenerationOptions { TopK = 2 }, 5);
        Assert.Equal(2, sampler.PrepareCandidates([1f, 4f, 3f, 2f, 0f], state));
        Assert.Equal([1, 2], sampler.CandidateIds.ToArray());
        AssertClose(Softmax(4, 3), Probabilities(sampler));
    }

    // Probabilities by id: 0 → 0.15, 1 → 0.5, 2 → 0.05, 3 → 0.3.
    private static float[] NucleusLogits() => [MathF.Log(0.15f), MathF.Log(0.5f), MathF.Log(0.05f), MathF.Log(0.3f)];

    [Theory]
    [InlineData(0.75f, new[] { 1, 3 })]
    [InlineData(0.85f, new[] { 1, 3, 0 })]
    [InlineData(0.4f, new[] { 1 })]
    [InlineData(1f, new[] { 0, 1, 2, 3 })]
    public void PrepareCandidates_TopP_KeepsTokensWhileMassBeforeThemIsBelowP(float topP, int[] expected)
    {
        var sampler = new Sampler(4);
        using SamplingState state = State(new GenerationOptions { TopP = topP }, 4);
        sampler.PrepareCandidates(NucleusLogits(), state);
        Assert.Equal(expected, sampler.CandidateIds.ToArray());
    }

    [Theory]
    [InlineData(0.2f, new[] { 0, 1, 3 })]
    [InlineData(0.7f, new[] { 1 })]
    [InlineData(0f, new[] { 0, 1, 2, 3 })]
    public void PrepareCandidates_MinP_DropsTokensBelowFractionOfTheTopProbability(float minP, int[] expected)
    {
        var sampler = new Sampler(4);
        using SamplingState state = State(new GenerationOptions { MinP = minP }, 4);
        sampler.PrepareCandidates(NucleusLogits(), state);
        Assert.Equal(expected, sampler.CandidateIds.ToArray());
    }

    [Fact]
    public void PrepareCandidates_MinPAfterTopK_UsesTheSortedSurvivors()
    {
        var sampler = new Sampler(4);
        using SamplingState state = State(new GenerationOptions { TopK = 3, MinP = 0.4f }, 4);
        sampler.PrepareCandidates(NucleusLogits(), state);
        Assert.Equal([1, 3], sampler.CandidateIds.ToArray());
    }

    [Theory]
    [InlineData(0.5f, 0, new[] { 0, 1 })]
    [InlineData(0.5f, 2, new[] { 0 })]
    public void PrepareCandidates_TopPAfterTopK_RenormalisesOverTheTopK(float topP, int topK, int[] expected)
    {
        // Probabilities 0.4, 0.3, 0.2, 0.1: over the whole vocabulary the first token holds 0.4 < 0.5, so a
        // second is needed; over the top 2 it holds 4/7 >= 0.5, so it is enough alone.
        var sampler = new Sampler(4);
        using SamplingState state = State(new GenerationOptions { TopP = topP, TopK = topK }, 4);
        sampler.PrepareCandidates([MathF.Log(0.4f), MathF.Log(0.3f), MathF.Log(0.2f), MathF.Log(0.1f)], state);
        Assert.Equal(expected, sampler.CandidateIds.ToArray());
    }

    [Theory]
    [InlineData(0, 0.9f, 0f, 1.0f)]
    [InlineData(0, 0.99f, 0f, 1.0f)]
    [InlineData(0, 0.5f, 0f, 0.7f)]
    [InlineData(40, 1f, 0f, 1.0f)]
    [InlineData(3000, 0.95f, 0f, 1.3f)]
    [InlineData(0, 0.9f, 0.001f, 1.0f)]
    public void PrepareCandidates_LargeVocabulary_MatchesFullSortReference(int topK, float topP, float minP, float temperature)
    {
        const int vocabulary = 20000;
        var random = new Random(42);
        float[] logits = new float[vocabulary];
        for (int i = 0; i < vocabulary; i++)
        {
            // A long flat tail (so the first gather pass cannot be enough for top-p) with a few peaks.
            logits[i] = (float)(random.NextDouble() * 4) + (i % 997 == 0 ? 12f : 0f);
        }

        int[] expected = ReferenceCandidates(logits, topK, topP, minP, temperature);
        var sampler = new Sampler(vocabulary);
        using SamplingState state = State(new GenerationOptions { TopK = topK, TopP = topP, MinP = minP, Temperature = temperature }, vocabulary);
        sampler.PrepareCandidates((float[])logits.Clone(), state);
        int[] actual = sampler.CandidateIds.ToArray();
        Array.Sort(actual);
        Assert.Equal(expected, actual);
    }

    private static int[] ReferenceCandidates(float[] logits, int topK, float topP, float minP, float temperature)
    {
        double[] scaled = logits.Select(l => (double)l / temperature).ToArray();
        double max = scaled.Max();
        var order = Enumerable.Range(0, logits.Length).OrderByDescending(i => scaled[i]).ToList();
        if (topK > 0)
        {
            order = order.Take(topK).ToList();
        }

        double sum = order.Sum(i => Math.Exp(scaled[i] - max));
        var kept = new List<int>();
        double before = 0;
        foreach (int i in order)
        {
            if (kept.Count > 0 && before >= topP * sum)
            {
                break;
            }

            kept.Add(i);
            before += Math.Exp(scaled[i] - max);
        }

        double top = Math.Exp(scaled[kept[0]] - max);
        return kept.Where(i => Math.Exp(scaled[i] - max) >= minP * top).Order().ToArray();
    }

    // GLM-4's vocabulary: flat logits (the worst case for truncation: the nucleus holds tens of thousands of
    // tokens) and peaked ones, with top-p alone and with min-p, each against a full sort of the very weights
    // the sampler computes.
    [Theory]
    [InlineData(1, false, 0.9f, 0f, 0.8f)]
    [InlineData(2, false, 0.95f, 0.05f, 0.8f)]
    [InlineData(3, false, 0.5f, 0f, 1f)]
    [InlineData(4, false, 0.99f, 0.001f, 1.2f)]
    [InlineData(5, true, 0.9f, 0f, 0.7f)]
    [InlineData(6, true, 0.95f, 0.05f, 1f)]
    [InlineData(7, true, 0.3f, 0.5f, 1f)]
    public void PrepareCandidates_TopPWithoutTopKAtGlm4Vocabulary_KeepsExactlyTheFullSortNucleus(int seed, bool peaked, float topP, float minP, float temperature)
    {
        const int vocabulary = 151552;
        var random = new Random(seed);
        float[] logits = new float[vocabulary];
        for (int i = 0; i < vocabulary; i++)
        {
            logits[i] = peaked
                ? (float)(random.NextDouble() * 6) + (random.Next(500) == 0 ? 14f : 0f)
                : (float)((random.NextDouble() * 20) - 10);
        }

        float[] weights = SamplerWeights(logits, temperature);
        int[] expected = FullSortNucleus(weights, topP, minP);
        var sampler = new Sampler(vocabulary);
        using SamplingState state = State(new GenerationOptions { TopP = topP, MinP = minP, Temperature = temperature }, vocabulary);

        int count = sampler.PrepareCandidates(logits, state);

        int[] actual = sampler.CandidateIds.ToArray();
        Assert.Equal(expected.Length, count);
        Array.Sort(actual);
        Assert.Equal(expected, actual);
        Assert.Equal(actual.Select(i => weights[i]).Order(), sampler.CandidateWeights.ToArray().Order());
    }

    // The sampler's weights, computed with the same vector operations it uses.
    private static float[] SamplerWeights(float[] logits, float temperature)
    {
        float[] weights = new float[logits.Length];
        TensorPrimitives.Subtract(logits, TensorPrimitives.Max(logits), weights);
        if (temperature != 1f)
        {
            TensorPrimitives.Divide(weights, temperature, weights);
        }

        TensorPrimitives.Max(weights, -80f, weights);
        TensorPrimitives.Exp(weights, weights);
        return weights;
    }

    // Hugging Face's top-p then min-p on a full descending sort: keep while the mass before is below top-p of
    // the total (the total summed as the sampler sums it), then drop what weighs less than min-p of the top.
    private static int[] FullSortNucleus(float[] weights, float topP, float minP)
    {
        double limit = (double)topP * TensorPrimitives.Sum(weights);
        float[] keys = [.. weights.Select(w => -w)];
        int[] order = [.. Enumerable.Range(0, weights.Length)];
        Array.Sort(keys, order);
        var kept = new List<int>();
        double before = 0;
        foreach (int i in order)
        {
            if (kept.Count > 0 && before >= limit)
            {
                break;
            }

            kept.Add(i);
            before += weights[i];
        }

        return kept.Where(i => weights[i] >= minP * weights[order[0]]).Order().ToArray();
    }

    [Fact]
    public void PrepareCandidates_SmallNucleus_IsListedMostLikelyFirst()
    {
        var sampler = new Sampler(4);
        using SamplingState state = State(new GenerationOptions { TopP = 0.99f }, 4);

        sampler.PrepareCandidates(NucleusLogits(), state);

        Assert.Equal([1, 3, 0, 2], sampler.CandidateIds.ToArray());
    }

    [Fact]
    public void Sample_SameSeed_GivesTheSameDraws()
    {
        int[] first = Draws(seed: 7);
        Assert.Equal(first, Draws(seed: 7));
        Assert.NotEqual(first, Draws(seed: 8));
    }

    private static int[] Draws(long seed)
    {
        var sampler = new Sampler(4);
        using SamplingState state = State(new GenerationOptions { Temperature = 1f }, 4, seed: seed);
        return Enumerable.Range(0, 200).Select(_ => sampler.Sample(NucleusLogits(), state)).ToArray();
    }

    [Fact]
    public void Sample_ManyDraws_FollowTheDistribution()
    {
        var sampler = new Sampler(4);
        using SamplingState state = State(new GenerationOptions(), 4, seed: 2024);
        int[] counts = new int[4];
        const int draws = 40000;
        for (int i = 0; i < draws; i++)
        {
            counts[sampler.Sample(NucleusLogits(), state)]++;
        }

        double[] expected = [0.15, 0.5, 0.05, 0.3];
        for (int i = 0; i < 4; i++)
        {
            Assert.True(Math.Abs(((double)counts[i] / draws) - expected[i]) < 0.01, $"token {i}: {counts[i]} of {draws}");
        }
    }

    [Theory]
    [InlineData(0f, 0)]
    [InlineData(0.2f, 0)]
    [InlineData(0f, 3)]
    [InlineData(0f, -1)]
    public void Sample_ManyDrawsAfterTruncation_FollowTheRenormalisedDistribution(float minP, int topK)
    {
        // topK -1 stands for top-p 0.85 (keeps 0.5, 0.3 and 0.15); min-p 0.2 drops token 2 (0.05 < 0.1);
        // top-k 3 drops token 2 as well.
        var options = new GenerationOptions { MinP = minP, TopK = Math.Max(topK, 0), TopP = topK < 0 ? 0.85f : 1f };
        var sampler = new Sampler(4);
        using SamplingState state = State(options, 4, seed: 99);
        int[] counts = new int[4];
        const int draws = 40000;
        for (int i = 0; i < draws; i++)
        {
            counts[sampler.Sample(NucleusLogits(), state)]++;
        }

        double[] expected = minP > 0 || topK != 0 ? [0.15 / 0.95, 0.5 / 0.95, 0, 0.3 / 0.95] : [0.15, 0.5, 0.05, 0.3];
        for (int i = 0; i < 4; i++)
        {
            Assert.True(Math.Abs(((double)counts[i] / draws) - expected[i]) < 0.01, $"token {i}: {counts[i]} of {draws}");
        }

        if (expected[2] == 0)
        {
            Assert.Equal(0, counts[2]);
        }
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(0.5f)]
    public void Sample_LikelyTokensInDifferentBlocksOfALargeVocabulary_DrawsEachInProportion(float minP)
    {
        // Weights 1, 2 and 1 at ids 5, 1500 and 2090 (three different 1024-token blocks); all others ~0.
        const int vocabulary = 2100;
        float[] logits = Enumerable.Repeat(-100f, vocabulary).ToArray();
        logits[5] = 0f;
        logits[1500] = MathF.Log(2f);
        logits[2090] = 0f;
        var sampler = new Sampler(vocabulary);
        using SamplingState state = State(new GenerationOptions { MinP = minP }, vocabulary, seed: 5);
        var counts = new Dictionary<int, int>();
        float[] row = new float[vocabulary];
        const int draws = 2000;
        for (int i = 0; i < draws; i++)
        {
            logits.CopyTo(row, 0);
            int id = sampler.Sample(row, state);
            counts[id] = counts.GetValueOrDefault(id) + 1;
        }

        Assert.Equal([5, 1500, 2090], counts.Keys.Order());
        Assert.True(Math.Abs((counts[5] / (double)draws) - 0.25) < 0.04, $"id 5: {counts[5]}");
        Assert.True(Math.Abs((counts[1500] / (double)draws) - 0.5) < 0.04, $"id 1500: {counts[1500]}");
    }

    [Fact]
    public void Sample_SteadyState_AllocatesNothing()
    {
        const int vocabulary = 4096;
        var sampler = new Sampler(vocabulary);
        var options = new GenerationOptions { TopK = 50, TopP = 0.9f, MinP = 0.01f, Temperature = 0.8f, RepetitionPenalty = 1.1f, FrequencyPenalty = 0.2f, PresencePenalty = 0.1f };
        using SamplingState state = new(options, vocabulary, [1, 2, 3], maxNewTokens: 2000, seed: 3);
        float[] source = Enumerable.Range(0, vocabulary).Select(i => (float)Math.Sin(i * 0.37) * 5).ToArray();
        float[] row = new float[vocabulary];
        for (int i = 0; i < 10; i++)
        {
            source.CopyTo(row, 0);
            state.Observe(sampler.Sample(row, state));
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            source.CopyTo(row, 0);
            state.Observe(sampler.Sample(row, state));
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Sample_NaNLogit_ThrowsAutoGlmException()
    {
        var sampler = new Sampler(3);
        using SamplingState state = State(new GenerationOptions(), 3);
        var error = Assert.Throws<AutoGlmException>(() => sampler.Sample([0f, float.NaN, 1f], state));
        Assert.StartsWith("The model produced unusable logits (the largest is NaN)", error.Message);
    }

    [Fact]
    public void Sample_RowOfWrongLength_ThrowsArgumentException()
    {
        var sampler = new Sampler(3);
        using SamplingState state = State(new GenerationOptions(), 3);
        var error = Assert.Throws<ArgumentException>(() => sampler.Sample([0f, 1f], state));
        Assert.StartsWith("A logits row has 2 entries but the sampler was made for a vocabulary of 3.", error.Message);
    }
}
