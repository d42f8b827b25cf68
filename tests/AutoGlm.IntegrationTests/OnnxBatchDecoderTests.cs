using AutoGlm.Generation;
using AutoGlm.Models;
using AutoGlm.Runtime;

namespace AutoGlm.IntegrationTests;

[Collection(TinyModelCollection.Name)]
public sealed class OnnxBatchDecoderTests
{
    private readonly TinyModelFixture _fixture;

    public OnnxBatchDecoderTests(TinyModelFixture fixture)
    {
        _fixture = fixture;
    }

    [Fact]
    public void Step_Prefill_MatchesPlainRunLogits()
    {
        GlmModelInfo info = ModelFolder.Read(_fixture.ModelPath);
        using OrtSession session = OrtSession.Create(Path.Combine(_fixture.ModelPath, "model.onnx"));
        using var decoder = new OnnxBatchDecoder(session, info, 2, 64);
        int[] prompt = [5, 17, 300, 42, 9];
        float[] expected = PlainLogits(session, info, prompt);

        decoder.AllocateSlot(0, 20);
        float[] logits = new float[info.VocabularySize];
        decoder.Step([new DecoderRow(0, 0, prompt.Length)], prompt, logits, CancellationToken.None);

        AssertClose(expected, logits);

        // One decode step after the prompt equals the plain run of prompt + token.
        float[] next = new float[info.VocabularySize];
        decoder.Step([new DecoderRow(0, prompt.Length, 1)], [77], next, CancellationToken.None);
        AssertClose(PlainLogits(session, info, [.. prompt, 77]), next);
    }

    [Fact]
    public void Step_SteadyStateDecodeOfTwoRows_AllocatesNoManagedMemory()
    {
        GlmModelInfo info = ModelFolder.Read(_fixture.ModelPath);
        using OrtSession session = OrtSession.Create(Path.Combine(_fixture.ModelPath, "model.onnx"));
        using var decoder = new OnnxBatchDecoder(session, info, 2, 128);
        decoder.AllocateSlot(0, 100);
        decoder.AllocateSlot(1, 100);
        float[] logits = new float[2 * info.VocabularySize];
        decoder.Step([new DecoderRow(0, 0, 3), new DecoderRow(1, 0, 5)], [1, 2, 3, 4, 5, 6, 7, 8], logits, CancellationToken.None);
        DecoderRow[] rows = [new DecoderRow(0, 3, 1), new DecoderRow(1, 5, 1)];
        int[] next = [9, 10];
        using var cts = new CancellationTokenSource();
        decoder.Step(rows, next, logits, cts.Token); // warm: caches this batch shape and the token registration

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int step = 1; step <= 40; step++)
        {
            rows[0] = new DecoderRow(0, 3 + step, 1);
            rows[1] = new DecoderRow(1, 5 + step, 1);
            decoder.Step(rows, next, logits, cts.Token);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Step_KvMemory_FollowsTokensHeldNotCapacityReserved()
    {
        GlmModelInfo info = ModelFolder.Read(_fixture.ModelPath);
        using OrtSession session = OrtSession.Create(Path.Combine(_fixture.ModelPath, "model.onnx"));
        using var decoder = new OnnxBatchDecoder(session, info, 2, info.ContextLength, lengthGranularity: 16);
        long bytesPerRowPosition = info.KvBytesPerToken;
        float[] logits = new float[info.VocabularySize];

        // Reserve the whole context, hold 5 tokens (+1 spare): one row of one 16-position block.
        decoder.AllocateSlot(0, info.ContextLength);
        int[] prompt = [5, 17, 300, 42, 9];
        decoder.Step([new DecoderRow(0, 0, prompt.Length)], prompt, logits, CancellationToken.None);
        Assert.Equal(1 * 16 * bytesPerRowPosition, decoder.KvBytesAllocated);

        // A second slot adds a row; 200 more tokens grow both rows to 208 positions, keeping what slot 0 holds.
        int[] longPrompt = Enumerable.Range(0, 200).Select(i => 3 + (i % 300)).ToArray();
        decoder.AllocateSlot(1, 240);
        Assert.Equal(2 * 16 * bytesPerRowPosition, decoder.KvBytesAllocated);
        decoder.Step([new DecoderRow(1, 0, longPrompt.Length)], longPrompt, logits, CancellationToken.None);
        Assert.Equal(2 * 208 * bytesPerRowPosition, decoder.KvBytesAllocated);
        AssertClose(PlainLogits(session, info, longPrompt), logits);
        decoder.Step([new DecoderRow(0, prompt.Length, 1)], [77], logits, CancellationToken.None);
        AssertClose(PlainLogits(session, info, [.. prompt, 77]), logits);

        // Idle, the rows are re-laid at the shortest width (16 here) and hold nothing.
        decoder.FreeSlot(0);
        decoder.FreeSlot(1);
        Assert.Equal(2 * 16 * bytesPerRowPosition, decoder.KvBytesAllocated);
        Assert.Equal(0, decoder.KvBytesResident);
    }

    internal static float[] PlainLogits(OrtSession session, GlmModelInfo info, int[] tokens)
    {
        int n = tokens.Length;
        var inputs = new Dictionary<string, HostTensor>
        {
            ["input_ids"] = HostTensor.Create(tokens.Select(t => (long)t).ToArray(), 1, n),
            ["attention_mask"] = HostTensor.Create(Enumerable.Repeat(1L, n).ToArray(), 1, n),
            ["position_ids"] = HostTensor.Create(Enumerable.Range(0, n).Select(i => (long)i).ToArray(), 1, n),
            ["num_logits_to_keep"] = HostTensor.Create(new long[] { 1 }, 1),
        };
        for (int layer = 0; layer < info.LayerCount; layer++)
        {
            inputs[$"past_key_values.{layer}.key"] = HostTensor.Create(Array.Empty<float>(), 1, info.KeyValueHeadCount, 0, info.HeadSize);
            inputs[$"past_key_values.{layer}.value"] = HostTensor.Create(Array.Empty<float>(), 1, info.KeyValueHeadCount, 0, info.HeadSize);
        }

        return session.Run(inputs, ["logits"])["logits"].As<float>();
    }

    internal static void AssertClose(float[] expected, float[] actual, double tolerance = 1e-4)
    {
        Assert.Equal(expected.Length, actual.Length);
        double maxError = 0;
        double scale = 1e-6;
        for (int i = 0; i < expected.Length; i++)
        {
            maxError = Math.Max(maxError, Math.Abs(expected[i] - actual[i]));
            scale = Math.Max(scale, Math.Abs(expected[i]));
        }

        Assert.True(maxError / scale < tolerance, $"max relative error {maxError / scale:E2} (max abs {maxError:E2}); first values expected {string.Join(",", expected.Take(4))} actual {string.Join(",", actual.Take(4))}");
    }
}
