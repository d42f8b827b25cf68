using AutoGlm.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace AutoGlm.ModelBuilder.Tests;

/// <summary>The in-place KV contract: one buffer per layer bound as both past and present, rows of different lengths.</summary>
public sealed class SharedKvBufferTests
{
    [Theory]
    [InlineData(GlmArchitecture.Glm, false)]
    [InlineData(GlmArchitecture.Glm4, false)]
    [InlineData(GlmArchitecture.Glm, true)]
    public void SharedBuffer_BatchOfTwoDifferentLengths_MatchesReferenceAndWritesInPlace(GlmArchitecture arch, bool maskAsWideAsBuffer)
    {
        const int MaxLength = 16;
        var spec = new ModelSpec(arch);
        var reference = new ReferenceGlmModel(TestModels.Checkpoint(spec));
        using var runner = new OrtDecoderRunner(TestModels.Model(spec));
        OrtSession session = runner.Session;
        int layers = runner.Layers;
        int vocab = reference.VocabSize;
        long[] kvShape = [2, runner.KvHeads, MaxLength, runner.HeadDim];
        float[][] buffers = Enumerable.Range(0, 2 * layers).Select(_ => new float[2 * runner.KvHeads * MaxLength * runner.HeadDim]).ToArray();
        OrtValue[] kvValues = buffers.Select(b => OrtValue.CreateTensorValueFromMemory(b, kvShape)).ToArray();
        try
        {
            long[][] prompts = [[5, 300, 17], [900, 42, 7, 511, 2, 3, 4, 8]];
            ReferenceGlmModel.Sequence[] sequences = [reference.NewSequence(), reference.NewSequence()];
            int[] lengths = [0, 0];
            double worst = 0;
            long[][] step = prompts;
            for (int iteration = 0; iteration < 4; iteration++)
            {
                int s = step.Max(t => t.Length);
                int[] newLengths = [lengths[0] + step[0].Length, lengths[1] + step[1].Length];
                // A first prompt is recognised by GQA only when the mask is exactly as wide as the prompt; decode steps may use the buffer width.
                int total = maskAsWideAsBuffer && iteration > 0 ? MaxLength : newLengths.Max();
                long[] ids = new long[2 * s], positions = new long[2 * s], mask = new long[2 * total];
                for (int b = 0; b < 2; b++)
                {
                    for (int i = 0; i < s; i++)
                    {
                        ids[(b * s) + i] = i < step[b].Length ? step[b][i] : 0;
                        positions[(b * s) + i] = lengths[b] + i;
                    }

                    for (int i = 0; i < newLengths[b]; i++)
                    {
                        mask[(b * total) + i] = 1;
                    }
                }

                var inputNames = new List<string> { "input_ids", "attention_mask", "position_ids", "num_logits_to_keep" };
                var inputs = new List<OrtValue>
                {
                    OrtValue.CreateTensorValueFromMemory(ids, [2, s]),
                    OrtValue.CreateTensorValueFromMemory(mask, [2, total]),
                    OrtValue.CreateTensorValueFromMemory(positions, [2, s]),
                    OrtValue.CreateTensorValueFromMemory(new long[] { 0 }, [1]),
                };
                var outputNames = new List<string> { "logits" };
                float[] logits = new float[2 * s * vocab];
                using OrtValue logitsValue = OrtValue.CreateTensorValueFromMemory(logits, [2, s, vocab]);
                var outputs = new List<OrtValue> { logitsValue };
                for (int i = 0; i < layers; i++)
                {
                    inputNames.Add($"past_key_values.{i}.key");
                    inputNames.Add($"past_key_values.{i}.value");
                    inputs.Add(kvValues[2 * i]);
                    inputs.Add(kvValues[(2 * i) + 1]);
                    outputNames.Add($"present.{i}.key");
                    outputNames.Add($"present.{i}.value");
                    outputs.Add(kvValues[2 * i]);
                    outputs.Add(kvValues[(2 * i) + 1]);
                }

                using (OrtIoBinding binding = session.CreateIoBinding())
                using (var runOptions = new RunOptions())
                {
                    for (int i = 0; i < inputNames.Count; i++)
                    {
                        binding.BindInput(inputNames[i], inputs[i]);
                    }

                    for (int i = 0; i < outputNames.Count; i++)
                    {
                        binding.BindOutput(outputNames[i], outputs[i]);
                    }

                    session.Run(binding, runOptions);
                }

                foreach (OrtValue input in inputs.Take(4))
                {
                    input.Dispose();
                }

                Assert.Equal(kvShape, kvValues[0].GetTensorTypeAndShape().Shape);
                long[] next = new long[2];
                for (int b = 0; b < 2; b++)
                {
                    double[][] expected = sequences[b].Feed(step[b]);
                    for (int i = 0; i < step[b].Length; i++)
                    {
                        worst = Math.Max(worst, LogitComparison.RelativeError(logits.AsSpan(((b * s) + i) * vocab, vocab), expected[i]));
                    }

                    next[b] = LogitComparison.ArgMax(expected[^1]);
                }

                lengths = newLengths;
                step = [[next[0]], [next[1]]];
            }

            Assert.True(worst < 1e-4, $"max relative error {worst:E2} ≥ 1e-4");

            // The shared buffer itself holds the cache: the prefill wrote positions 0..7 of both rows (row 0's 3..7 as
            // padding, later overwritten by its decode steps), row 1's decode steps wrote 8..10, nothing wrote beyond.
            int rowStride = runner.KvHeads * MaxLength * runner.HeadDim;
            Assert.NotEqual(0f, buffers[0][(5 * runner.HeadDim) + 1]);
            Assert.Equal(0f, buffers[0][8 * runner.HeadDim]);
            Assert.NotEqual(0f, buffers[0][rowStride + (10 * runner.HeadDim) + 1]);
            Assert.Equal(0f, buffers[0][rowStride + (11 * runner.HeadDim)]);
        }
        finally
        {
            foreach (OrtValue v in kvValues)
            {
                v.Dispose();
            }
        }
    }
}
