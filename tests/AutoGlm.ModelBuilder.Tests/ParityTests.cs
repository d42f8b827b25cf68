using AutoGlm.ModelBuilder.Quantization;

namespace AutoGlm.ModelBuilder.Tests;

/// <summary>The built ONNX graph, run by ONNX Runtime, against the float64 reference forward pass.</summary>
public sealed class ParityTests
{
    private static readonly long[] s_prompt = [5, 300, 17, 900, 42, 7, 511];

    public static TheoryData<GlmArchitecture, double, bool, bool> Fp32Variants => new()
    {
        { GlmArchitecture.Glm, 0.5, false, true },
        { GlmArchitecture.Glm, 1.0, true, false },
        { GlmArchitecture.Glm4, 0.5, false, true },
        { GlmArchitecture.Glm4, 1.0, true, false },
        { GlmArchitecture.ChatGlm, 0.5, false, true },
        { GlmArchitecture.ChatGlm, 0.5, false, false },
    };

    [Theory]
    [MemberData(nameof(Fp32Variants))]
    public void Fp32_PromptThenDecodeSteps_MatchesReference(GlmArchitecture arch, double factor, bool tied, bool bias)
    {
        var spec = new ModelSpec(arch, factor, tied, bias);
        double worst = RunPromptAndDecode(spec, new ReferenceGlmModel(TestModels.Checkpoint(spec)));
        Assert.True(worst < 1e-4, $"max relative error {worst:E2} ≥ 1e-4");
    }

    [Fact]
    public void Fp32_ChatGlmWithUnusualRopeRatioAndEpsilon_MatchesReference()
    {
        // rope_ratio 0.02 (base 200) and layernorm_epsilon 0.5 change the logits visibly; the reference reads them itself.
        var spec = new ModelSpec(GlmArchitecture.ChatGlm, UnusualChatGlmConstants: true);
        double worst = RunPromptAndDecode(spec, new ReferenceGlmModel(TestModels.Checkpoint(spec)));
        Assert.True(worst < 1e-4, $"max relative error {worst:E2} ≥ 1e-4");
    }

    [Theory]
    [InlineData(GlmArchitecture.Glm)]
    [InlineData(GlmArchitecture.ChatGlm)]
    public void Fp32_BatchOfTwoDifferentLengths_EachRowMatchesReference(GlmArchitecture arch)
    {
        var spec = new ModelSpec(arch);
        var reference = new ReferenceGlmModel(TestModels.Checkpoint(spec));
        using var runner = new OrtDecoderRunner(TestModels.Model(spec));
        long[][] prompts = [[5, 300, 17], [900, 42, 7, 511, 2, 3, 4, 8]];
        ReferenceGlmModel.Sequence[] sequences = [reference.NewSequence(), reference.NewSequence()];
        OrtDecoderRunner.Batch batch = runner.NewBatch(2);
        (float[] logits, int positions) = runner.Step(batch, prompts);
        int vocab = reference.VocabSize;
        double worst = 0;
        long[] next = new long[2];
        for (int b = 0; b < 2; b++)
        {
            double[][] expected = sequences[b].Feed(prompts[b]);
            for (int s = 0; s < prompts[b].Length; s++)
            {
                worst = Math.Max(worst, LogitComparison.RelativeError(logits.AsSpan(((b * positions) + s) * vocab, vocab), expected[s]));
            }

            next[b] = LogitComparison.ArgMax(expected[^1]);
        }

        for (int step = 0; step < 3; step++)
        {
            (logits, positions) = runner.Step(batch, [[next[0]], [next[1]]]);
            Assert.Equal(1, positions);
            for (int b = 0; b < 2; b++)
            {
                double[] expected = sequences[b].Step(next[b]);
                worst = Math.Max(worst, LogitComparison.RelativeError(logits.AsSpan(b * vocab, vocab), expected));
                next[b] = LogitComparison.ArgMax(expected);
            }
        }

        Assert.Equal([6, 11], batch.Lengths);
        Assert.True(worst < 1e-4, $"max relative error {worst:E2} ≥ 1e-4");
    }

    [Theory]
    [InlineData("BF16")]
    [InlineData("F16")]
    public void Fp32_FromHalfPrecisionCheckpoint_MatchesReference(string dtype)
    {
        var spec = new ModelSpec(GlmArchitecture.Glm4, WeightDType: dtype);
        double worst = RunPromptAndDecode(spec, new ReferenceGlmModel(TestModels.Checkpoint(spec)));
        Assert.True(worst < 1e-4, $"max relative error {worst:E2} ≥ 1e-4");
    }

    [Fact]
    public void Fp32_PromptInTwoChunks_MatchesReference()
    {
        var spec = new ModelSpec(GlmArchitecture.Glm);
        var reference = new ReferenceGlmModel(TestModels.Checkpoint(spec));
        using var runner = new OrtDecoderRunner(TestModels.Model(spec));
        ReferenceGlmModel.Sequence sequence = reference.NewSequence();
        OrtDecoderRunner.Batch batch = runner.NewBatch(1);
        int vocab = reference.VocabSize;
        double worst = 0;
        foreach (long[] chunk in new[] { s_prompt[..4], s_prompt[4..] })
        {
            (float[] logits, int positions) = runner.Step(batch, [chunk]);
            Assert.Equal(chunk.Length, positions);
            double[][] expected = sequence.Feed(chunk);
            for (int s = 0; s < chunk.Length; s++)
            {
                worst = Math.Max(worst, LogitComparison.RelativeError(logits.AsSpan(s * vocab, vocab), expected[s]));
            }
        }

        Assert.True(worst < 1e-4, $"max relative error {worst:E2} ≥ 1e-4");
    }

    [Fact]
    public void NumLogitsToKeep_One_ReturnsOnlyTheLastPositionsLogits()
    {
        var spec = new ModelSpec(GlmArchitecture.Glm);
        using var runner = new OrtDecoderRunner(TestModels.Model(spec));
        (float[] all, int allPositions) = runner.Step(runner.NewBatch(1), [s_prompt]);
        (float[] last, int lastPositions) = runner.Step(runner.NewBatch(1), [s_prompt], keep: 1);
        Assert.Equal(s_prompt.Length, allPositions);
        Assert.Equal(1, lastPositions);
        int vocab = last.Length;
        Assert.Equal(all.AsSpan((s_prompt.Length - 1) * vocab, vocab).ToArray(), last);
    }

    [Fact]
    public void Fp16_PromptThenDecodeSteps_MatchesReferenceWithin1e2()
    {
        var spec = new ModelSpec(GlmArchitecture.Glm, Precision: ModelPrecision.Fp16);
        double worst = RunPromptAndDecode(spec, new ReferenceGlmModel(TestModels.Checkpoint(spec)));
        Assert.True(worst < 1e-2, $"max relative error {worst:E2} ≥ 1e-2");
    }

    [Theory]
    [InlineData(GlmArchitecture.Glm, false)]
    [InlineData(GlmArchitecture.Glm, true)]
    [InlineData(GlmArchitecture.ChatGlm, false)]
    public void Int4_PromptThenDecodeSteps_MatchesDequantizedReference(GlmArchitecture arch, bool tied)
    {
        var spec = new ModelSpec(arch, Tied: tied, Precision: ModelPrecision.Int4);
        var reference = new ReferenceGlmModel(TestModels.Checkpoint(spec), QuantizeDequantize);
        double worst = RunPromptAndDecode(spec, reference);
        Assert.True(worst < 1e-3, $"max relative error {worst:E2} ≥ 1e-3");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void Int4AtAccuracyLevel_PromptThenDecodeSteps_StaysWithinTheInt4Bound(int accuracyLevel)
    {
        // Level 4 computes in int8 (activations quantised per block): further from the dequantised weights than level 0,
        // but the difference must stay small next to what int4 weights themselves cost, and greedy tokens must not change.
        var spec = new ModelSpec(GlmArchitecture.Glm, Precision: ModelPrecision.Int4, Int4AccuracyLevel: accuracyLevel);
        var reference = new ReferenceGlmModel(TestModels.Checkpoint(spec), QuantizeDequantize);
        double worst = RunPromptAndDecode(spec, reference, out int argMaxMismatches);
        Assert.True(worst < Int4AccuracyBound(accuracyLevel), $"max relative error {worst:E2} ≥ {Int4AccuracyBound(accuracyLevel):E0}");
        Assert.Equal(0, argMaxMismatches);
    }

    [Fact]
    public void Int4AccuracyLevel_OutsideOnnxRuntimesLevels_IsRejectedNamingTheLevels()
    {
        string output = Path.Combine(Path.GetTempPath(), "autoglm-acc-" + Guid.NewGuid().ToString("N"));
        var spec = new ModelSpec(GlmArchitecture.Glm, Precision: ModelPrecision.Int4);
        ArgumentException error = Assert.Throws<ArgumentException>(() => GlmModelBuilder.Build(TestModels.Checkpoint(spec), output, new ModelBuildOptions { Precision = ModelPrecision.Int4, Int4AccuracyLevel = 5 }, null, CancellationToken.None));
        Assert.Equal("The int4 accuracy level 5 is not one of ONNX Runtime's MatMulNBits levels: 0 (unset), 1 (fp32), 2 (fp16), 3 (bf16) or 4 (int8).", error.Message);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void Int4WithQuantizedEmbedding_MatchesDequantizedReference()
    {
        var spec = new ModelSpec(GlmArchitecture.Glm, Precision: ModelPrecision.Int4, Int4Embedding: true);
        var reference = new ReferenceGlmModel(TestModels.Checkpoint(spec), QuantizeDequantize, QuantizeDequantize);
        double worst = RunPromptAndDecode(spec, reference);
        Assert.True(worst < 1e-3, $"max relative error {worst:E2} ≥ 1e-3");
    }

    private static double[] QuantizeDequantize(double[] weights, int rows, int cols)
    {
        const int BlockSize = 32;
        int blocks = Int4BlockQuantizer.BlocksPerRow(cols, BlockSize);
        var packed = new byte[blocks * BlockSize / 2];
        var scales = new float[blocks];
        var row = new float[cols];
        var result = new double[weights.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                row[c] = (float)weights[(r * cols) + c];
            }

            Int4BlockQuantizer.QuantizeRow(row, BlockSize, packed, scales);
            Int4BlockQuantizer.DequantizeRow(packed, scales, BlockSize, row);
            for (int c = 0; c < cols; c++)
            {
                result[(r * cols) + c] = row[c];
            }
        }

        return result;
    }

    // Level 0/1 compute in fp32 like the reference: the int4 bound of the other tests. Level 4 adds int8 activation rounding.
    private static double Int4AccuracyBound(int accuracyLevel) => accuracyLevel == 4 ? 5e-2 : 1e-3;

    private static double RunPromptAndDecode(ModelSpec spec, ReferenceGlmModel reference) => RunPromptAndDecode(spec, reference, out _);

    /// <summary>Prompt of 7 tokens in one run, then 4 greedy decode steps; returns the worst relative error and how many positions' argmax differ from the reference's.</summary>
    private static double RunPromptAndDecode(ModelSpec spec, ReferenceGlmModel reference, out int argMaxMismatches)
    {
        argMaxMismatches = 0;
        using var runner = new OrtDecoderRunner(TestModels.Model(spec));
        ReferenceGlmModel.Sequence sequence = reference.NewSequence();
        OrtDecoderRunner.Batch batch = runner.NewBatch(1);
        int vocab = reference.VocabSize;
        (float[] logits, int positions) = runner.Step(batch, [s_prompt]);
        Assert.Equal(s_prompt.Length, positions);
        double[][] expected = sequence.Feed(s_prompt);
        double worst = 0;
        for (int s = 0; s < s_prompt.Length; s++)
        {
            worst = Math.Max(worst, LogitComparison.RelativeError(logits.AsSpan(s * vocab, vocab), expected[s]));
            argMaxMismatches += LogitComparison.ArgMax(logits.AsSpan(s * vocab, vocab)) == LogitComparison.ArgMax(expected[s]) ? 0 : 1;
        }

        long next = LogitComparison.ArgMax(expected[^1]);
        for (int step = 0; step < 4; step++)
        {
            (logits, _) = runner.Step(batch, [[next]]);
            double[] e = sequence.Step(next);
            worst = Math.Max(worst, LogitComparison.RelativeError(logits, e));
            argMaxMismatches += LogitComparison.ArgMax(logits) == LogitComparison.ArgMax(e) ? 0 : 1;
            next = LogitComparison.ArgMax(e);
        }

        return worst;
    }
}
