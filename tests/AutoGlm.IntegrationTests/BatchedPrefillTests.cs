using AutoGlm.Generation;
using AutoGlm.ModelBuilder;
using AutoGlm.Models;
using AutoGlm.Runtime;

namespace AutoGlm.IntegrationTests;

/// <summary>
/// Batched prefill: prompts that start together run in one model step (right-padded, exact mask), and every
/// row's logits, KV and greedy tokens equal those of the prompt run alone.
/// </summary>
[Collection(TinyModelCollection.Name)]
public sealed class BatchedPrefillTests : IDisposable
{
    private static readonly GenerationOptions s_greedy = new() { Temperature = 0f, MaxNewTokens = 10, IgnoreEos = true };
    private readonly TinyModelFixture _fixture;
    private readonly string _root = Directory.CreateTempSubdirectory("autoglm-prefill-").FullName;

    public BatchedPrefillTests(TinyModelFixture fixture)
    {
        _fixture = fixture;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    // Through the scheduler: four prompts of 12-13 tokens queued together are prefilled as one batch, and each
    // request's greedy tokens equal its run alone.
    [Theory]
    [InlineData(ModelPrecision.Fp32)]
    [InlineData(ModelPrecision.Int4)]
    public async Task GenerateAsync_PromptsArrivingTogether_ArePrefilledInOneBatchAndMatchTheirSoloRuns(ModelPrecision precision)
    {
        string folder = await BuildAsync(precision);
        int[][] prompts = [Prompt(12, 1), Prompt(13, 2), Prompt(12, 3), Prompt(13, 4)];
        await using GlmModel solo = GlmModel.Load(folder, new GlmModelOptions { MaxBatchSize = 1, WarmUp = false });
        var expected = new List<int[]>();
        foreach (int[] prompt in prompts)
        {
            expected.Add(Ids(await solo.GenerateAsync(prompt, s_greedy)));
        }

        OnnxBatchDecoder? inner = null;
        GatedDecoder? gated = null;
        await using GlmModel model = GlmModel.LoadWithDecorator(folder, new GlmModelOptions { MaxBatchSize = 4, WarmUp = false }, d =>
        {
            inner = (OnnxBatchDecoder)d;
            return gated = new GatedDecoder(d);
        });
        Task<GenerationResult>[] runs = await SubmitTogetherAsync(model, gated!, prompts, [.. prompts.Select(_ => CancellationToken.None)]);
        GenerationResult[] results = await Task.WhenAll(runs);

        Assert.Equal(4, inner!.BatchedPromptRows);
        for (int i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(expected[i], Ids(results[i]));
        }

        Assert.Equal(0, model.KvTokensInUse);
        Assert.Equal(0, model.KvBytesResident);
    }

    // A batched prefill that fails in the model fails every request in it and frees their slots; the model serves on.
    [Fact]
    public async Task GenerateAsync_BatchedPrefillFails_FailsAllItsRequestsAndFreesTheirSlots()
    {
        int[][] prompts = [Prompt(12, 1), Prompt(13, 2), Prompt(12, 3)];
        OnnxBatchDecoder? inner = null;
        GatedDecoder? gated = null;
        await using GlmModel model = GlmModel.LoadWithDecorator(_fixture.ModelPath, new GlmModelOptions { MaxBatchSize = 4, WarmUp = false }, d =>
        {
            inner = (OnnxBatchDecoder)d;
            return gated = new GatedDecoder(d);
        });
        int vocabulary = model.Info.VocabularySize;
        bool failed = false;
        gated!.OnStep = (rows, tokens) =>
        {
            if (!failed && rows.Length == 3 && rows.All(r => r.PastLength == 0))
            {
                // An id past the vocabulary makes the embedding Gather of the batched run fail inside ONNX Runtime.
                failed = true;
                tokens[^1] = vocabulary + 5;
            }

            return tokens;
        };
        Task<GenerationResult>[] runs = await SubmitTogetherAsync(model, gated, prompts, [.. prompts.Select(_ => CancellationToken.None)]);

        foreach (Task<GenerationResult> run in runs)
        {
            AutoGlmNativeException error = await Assert.ThrowsAsync<AutoGlmNativeException>(() => run);
            Assert.Contains("Gather", error.Message, StringComparison.Ordinal);
        }

        Assert.True(failed);
        Assert.Equal(0, inner!.BatchedPromptRows);
        Assert.Equal(0, model.KvTokensInUse);
        Assert.Equal(0, model.KvBytesResident);
        await using GlmModel solo = GlmModel.Load(_fixture.ModelPath, new GlmModelOptions { MaxBatchSize = 1, WarmUp = false });
        Assert.Equal(Ids(await solo.GenerateAsync(prompts[0], s_greedy)), Ids(await model.GenerateAsync(prompts[0], s_greedy)));
    }

    // A request cancelled while its batched prefill runs leaves at the next step; the others keep their solo tokens.
    [Fact]
    public async Task GenerateAsync_RequestCancelledDuringBatchedPrefill_LeavesAndTheOthersMatchTheirSoloRuns()
    {
        int[][] prompts = [Prompt(12, 1), Prompt(13, 2), Prompt(12, 3)];
        await using GlmModel solo = GlmModel.Load(_fixture.ModelPath, new GlmModelOptions { MaxBatchSize = 1, WarmUp = false });
        var expected = new List<int[]>();
        foreach (int[] prompt in prompts)
        {
            expected.Add(Ids(await solo.GenerateAsync(prompt, s_greedy)));
        }

        OnnxBatchDecoder? inner = null;
        GatedDecoder? gated = null;
        await using GlmModel model = GlmModel.LoadWithDecorator(_fixture.ModelPath, new GlmModelOptions { MaxBatchSize = 4, WarmUp = false }, d =>
        {
            inner = (OnnxBatchDecoder)d;
            return gated = new GatedDecoder(d);
        });
        using var cancel = new CancellationTokenSource();
        gated!.OnStep = (rows, tokens) =>
        {
            if (rows.Length == 3 && rows.All(r => r.PastLength == 0))
            {
                cancel.Cancel();
            }

            return tokens;
        };
        Task<GenerationResult>[] runs = await SubmitTogetherAsync(model, gated, prompts, [CancellationToken.None, cancel.Token, CancellationToken.None]);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => runs[1]);
        Assert.Equal(expected[0], Ids(await runs[0]));
        Assert.Equal(expected[2], Ids(await runs[2]));
        Assert.Equal(3, inner!.BatchedPromptRows);
        Assert.Equal(0, model.KvTokensInUse);
        Assert.Equal(0, model.KvBytesResident);
    }

    // The fact the batched path rests on: ONNX Runtime's CPU GroupQueryAttention, given a right-padded batch of
    // prompts with an empty past (seqlens_k per row from the mask), gives each row the logits of its prompt alone.
    [Fact]
    public void GroupQueryAttention_RightPaddedPromptBatch_GivesEachRowItsSoloLogits()
    {
        GlmModelInfo info = ModelFolder.Read(_fixture.ModelPath);
        using OrtSession session = OrtSession.Create(Path.Combine(_fixture.ModelPath, "model.onnx"));
        int[][] prompts = [[5, 17, 300, 42, 9], [7, 8], [11, 12, 13, 14, 15, 16, 17, 18, 19]];
        int batch = prompts.Length;
        int width = prompts.Max(p => p.Length);
        long[] ids = new long[batch * width];
        long[] positions = new long[batch * width];
        long[] mask = new long[batch * width];
        for (int b = 0; b < batch; b++)
        {
            for (int j = 0; j < width; j++)
            {
                ids[(b * width) + j] = j < prompts[b].Length ? prompts[b][j] : 0;
                positions[(b * width) + j] = j;
                mask[(b * width) + j] = j < prompts[b].Length ? 1 : 0;
            }
        }

        var inputs = new Dictionary<string, HostTensor>
        {
            ["input_ids"] = HostTensor.Create(ids, batch, width),
            ["attention_mask"] = HostTensor.Create(mask, batch, width),
            ["position_ids"] = HostTensor.Create(positions, batch, width),
            ["num_logits_to_keep"] = HostTensor.Create(new long[] { width }, 1),
        };
        for (int layer = 0; layer < info.LayerCount; layer++)
        {
            inputs[$"past_key_values.{layer}.key"] = HostTensor.Create(Array.Empty<float>(), batch, info.KeyValueHeadCount, 0, info.HeadSize);
            inputs[$"past_key_values.{layer}.value"] = HostTensor.Create(Array.Empty<float>(), batch, info.KeyValueHeadCount, 0, info.HeadSize);
        }

        float[] logits = session.Run(inputs, ["logits"])["logits"].As<float>();
        int vocabulary = info.VocabularySize;
        for (int b = 0; b < batch; b++)
        {
            int last = prompts[b].Length - 1;
            float[] row = logits.AsSpan(((b * width) + last) * vocabulary, vocabulary).ToArray();
            AssertClose(OnnxBatchDecoderTests.PlainLogits(session, info, prompts[b]), row, 1e-5);
        }
    }

    // Lengths close enough that the decoder pads them into one batch (see OnnxBatchDecoder.PaddingIsCheap), slots
    // 0-2, beside a decode row in slot 3 (which takes the decode batch over slots 0-3, the prompts as fillers).
    [Fact]
    public void Step_PromptsStartingTogether_GiveTheLogitsAndKvOfEachPromptAlone()
    {
        GlmModelInfo info = ModelFolder.Read(_fixture.ModelPath);
        using OrtSession session = OrtSession.Create(Path.Combine(_fixture.ModelPath, "model.onnx"));
        int vocabulary = info.VocabularySize;
        int[][] prompts = [Prompt(30, 1), Prompt(33, 2), Prompt(32, 3)];
        int[] held = Prompt(6, 4);

        using var decoder = new OnnxBatchDecoder(session, info, 4, 128);
        for (int slot = 0; slot < 4; slot++)
        {
            decoder.AllocateSlot(slot, 100);
        }

        float[] logits = new float[4 * vocabulary];
        decoder.Step([new DecoderRow(3, 0, held.Length)], held, logits, CancellationToken.None);
        DecoderRow[] rows = [new DecoderRow(3, held.Length, 1), new DecoderRow(0, 0, 30), new DecoderRow(1, 0, 33), new DecoderRow(2, 0, 32)];
        decoder.Step(rows, [77, .. prompts[0], .. prompts[1], .. prompts[2]], logits, CancellationToken.None);

        Assert.Equal(3, decoder.BatchedPromptRows);
        AssertClose(OnnxBatchDecoderTests.PlainLogits(session, info, [.. held, 77]), logits[..vocabulary], 1e-4);
        for (int p = 0; p < prompts.Length; p++)
        {
            float[] row = logits.AsSpan((p + 1) * vocabulary, vocabulary).ToArray();
            AssertClose(OnnxBatchDecoderTests.PlainLogits(session, info, prompts[p]), row, 1e-4);
            AssertKvEqualsSolo(session, info, decoder, p, prompts[p]);
        }

        // The next decode step of every prompt (past = its prompt) equals the plain run of prompt + token.
        decoder.Step([new DecoderRow(0, 30, 1), new DecoderRow(1, 33, 1), new DecoderRow(2, 32, 1)], [5, 6, 7], logits, CancellationToken.None);
        for (int p = 0; p < prompts.Length; p++)
        {
            AssertClose(OnnxBatchDecoderTests.PlainLogits(session, info, [.. prompts[p], 5 + p]), logits.AsSpan(p * vocabulary, vocabulary).ToArray(), 1e-4);
        }
    }

    // Lengths far apart are not padded together (the pad would cost more than it saves); close lengths are, in
    // any slot order: over their storage rows when the slots are a contiguous range, else over a scratch block
    // copied into the slots. Every row gets its solo logits and KV either way.
    [Theory]
    [InlineData(new[] { 0, 1, 2 }, new[] { 40, 3, 17 }, 0)]
    [InlineData(new[] { 0, 2, 3 }, new[] { 20, 20, 21 }, 3)]
    [InlineData(new[] { 3, 1, 0 }, new[] { 12, 13, 12 }, 3)]
    [InlineData(new[] { 2, 0, 1 }, new[] { 12, 13, 12 }, 3)]
    [InlineData(new[] { 0, 1, 2, 3 }, new[] { 8, 40, 9, 41 }, 4)]
    public void Step_PromptsInAnySlotsOfAnyLengths_GiveTheLogitsAndKvOfEachPromptAlone(int[] slots, int[] lengths, int batchedRows)
    {
        GlmModelInfo info = ModelFolder.Read(_fixture.ModelPath);
        using OrtSession session = OrtSession.Create(Path.Combine(_fixture.ModelPath, "model.onnx"));
        int vocabulary = info.VocabularySize;
        int[][] prompts = [.. lengths.Select((n, i) => Prompt(n, i + 10))];
        using var decoder = new OnnxBatchDecoder(session, info, 4, 128);
        foreach (int slot in slots)
        {
            decoder.AllocateSlot(slot, 100);
        }

        float[] logits = new float[slots.Length * vocabulary];
        DecoderRow[] rows = [.. slots.Select((slot, i) => new DecoderRow(slot, 0, lengths[i]))];
        decoder.Step(rows, [.. prompts.SelectMany(p => p)], logits, CancellationToken.None);
        Assert.Equal(batchedRows, decoder.BatchedPromptRows);

        for (int p = 0; p < prompts.Length; p++)
        {
            AssertClose(OnnxBatchDecoderTests.PlainLogits(session, info, prompts[p]), logits.AsSpan(p * vocabulary, vocabulary).ToArray(), 1e-4);
            AssertKvEqualsSolo(session, info, decoder, slots[p], prompts[p]);
        }

        // Values too: one decode step of every row (past = its prompt) equals the plain run of prompt + token.
        decoder.Step([.. slots.Select((slot, i) => new DecoderRow(slot, lengths[i], 1))], [.. slots.Select((_, i) => 5 + i)], logits, CancellationToken.None);
        for (int p = 0; p < prompts.Length; p++)
        {
            AssertClose(OnnxBatchDecoderTests.PlainLogits(session, info, [.. prompts[p], 5 + p]), logits.AsSpan(p * vocabulary, vocabulary).ToArray(), 1e-4);
        }
    }

    // A one-token request holds the first step at the gate while the prompts queue up behind it; then all of them
    // are admitted in one scheduler iteration and prefilled in one step.
    private static async Task<Task<GenerationResult>[]> SubmitTogetherAsync(GlmModel model, GatedDecoder gated, int[][] prompts, CancellationToken[] tokens)
    {
        Task<GenerationResult> blocker = model.GenerateAsync([5, 6, 7], new GenerationOptions { Temperature = 0f, MaxNewTokens = 1, IgnoreEos = true });
        Assert.True(gated.FirstStepEntered.Wait(TimeSpan.FromSeconds(30)));
        Task<GenerationResult>[] runs = [.. prompts.Select((p, i) => model.GenerateAsync(p, s_greedy, tokens[i]))];
        SpinWait.SpinUntil(() => model.QueuedRequestCount == prompts.Length, TimeSpan.FromSeconds(30));
        Assert.Equal(prompts.Length, model.QueuedRequestCount);
        gated.Release.Set();
        await blocker;
        return runs;
    }

    private async Task<string> BuildAsync(ModelPrecision precision)
    {
        if (precision == ModelPrecision.Fp32)
        {
            return _fixture.ModelPath;
        }

        string checkpoint = Path.Combine(_root, "checkpoint");
        string folder = Path.Combine(_root, "model");
        await RandomCheckpoint.WriteAsync(new RandomCheckpointOptions { Preset = "tiny", Seed = 1 }, checkpoint);
        await GlmModelBuilder.BuildAsync(checkpoint, folder, new ModelBuildOptions { Precision = precision });
        return folder;
    }

    private static int[] Ids(GenerationResult result) => [.. result.Tokens.Select(t => t.Id)];

    private static void AssertKvEqualsSolo(OrtSession session, GlmModelInfo info, OnnxBatchDecoder decoder, int slot, int[] prompt)
    {
        using var solo = new OnnxBatchDecoder(session, info, 1, 128);
        solo.AllocateSlot(0, 100);
        solo.Step([new DecoderRow(0, 0, prompt.Length)], prompt, new float[info.VocabularySize], CancellationToken.None);
        for (int layer = 0; layer < info.LayerCount; layer++)
        {
            for (int head = 0; head < info.KeyValueHeadCount; head++)
            {
                AssertClose(solo.ReadKeys(layer, 0, head, prompt.Length), decoder.ReadKeys(layer, slot, head, prompt.Length), 1e-5);
            }
        }
    }

    private static int[] Prompt(int length, int seed) => [.. Enumerable.Range(0, length).Select(i => 3 + ((i * 37) + (seed * 101)) % 1000)];

    internal static void AssertClose(float[] expected, float[] actual, double tolerance) => OnnxBatchDecoderTests.AssertClose(expected, actual, tolerance);
}
