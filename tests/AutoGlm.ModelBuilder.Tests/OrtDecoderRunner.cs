using AutoGlm.Runtime;

namespace AutoGlm.ModelBuilder.Tests;

/// <summary>Drives a built decoder through ONNX Runtime the way docs/model-contract.md says a runtime must.</summary>
internal sealed class OrtDecoderRunner : IDisposable
{
    private readonly OrtSession _session;

    public OrtDecoderRunner(string modelDirectory)
    {
        _session = OrtSession.Create(Path.Combine(modelDirectory, "model.onnx"), new OrtSessionSettings { IntraOpThreads = 1 });
        OrtNodeInfo past = _session.Inputs.First(i => i.Name == "past_key_values.0.key");
        KvHeads = (int)past.Shape[1];
        HeadDim = (int)past.Shape[3];
        KvType = past.ElementType;
        Layers = _session.Inputs.Count(i => i.Name.StartsWith("past_key_values.", StringComparison.Ordinal)) / 2;
    }

    public OrtSession Session => _session;

    public int Layers { get; }

    public int KvHeads { get; }

    public int HeadDim { get; }

    public TensorElementType KvType { get; }

    /// <summary>Batch state of the non-shared mode: each step's present becomes the next past.</summary>
    public sealed class Batch
    {
        public required int[] Lengths { get; init; }

        public required HostTensor[] Past { get; set; }
    }

    public Batch NewBatch(int rows) => new()
    {
        Lengths = new int[rows],
        Past = Enumerable.Range(0, 2 * Layers).Select(_ => EmptyKv(rows)).ToArray(),
    };

    private HostTensor EmptyKv(int rows) => KvType == TensorElementType.Float16
        ? HostTensor.Create(Array.Empty<Half>(), rows, KvHeads, 0, HeadDim)
        : HostTensor.Create(Array.Empty<float>(), rows, KvHeads, 0, HeadDim);

    /// <summary>
    /// Feeds each row its new tokens (rows may differ in count only on the first step; shorter rows are right-padded),
    /// returns logits [rows, S', vocab] as a flat array with S'.
    /// </summary>
    public (float[] Logits, int Positions) Step(Batch batch, long[][] newTokens, long keep = 0)
    {
        int rows = newTokens.Length;
        int s = newTokens.Max(t => t.Length);
        var newLengths = batch.Lengths.Select((l, b) => l + newTokens[b].Length).ToArray();
        int total = newLengths.Max();
        var ids = new long[rows * s];
        var positions = new long[rows * s];
        var mask = new long[rows * total];
        for (int b = 0; b < rows; b++)
        {
            for (int i = 0; i < s; i++)
            {
                ids[(b * s) + i] = i < newTokens[b].Length ? newTokens[b][i] : 0;
                positions[(b * s) + i] = batch.Lengths[b] + i;
            }

            for (int i = 0; i < newLengths[b]; i++)
            {
                mask[(b * total) + i] = 1;
            }
        }

        var inputs = new Dictionary<string, HostTensor>
        {
            ["input_ids"] = HostTensor.Create(ids, rows, s),
            ["attention_mask"] = HostTensor.Create(mask, rows, total),
            ["position_ids"] = HostTensor.Create(positions, rows, s),
            ["num_logits_to_keep"] = HostTensor.Create(new[] { keep }, 1),
        };
        for (int i = 0; i < Layers; i++)
        {
            inputs[$"past_key_values.{i}.key"] = batch.Past[2 * i];
            inputs[$"past_key_values.{i}.value"] = batch.Past[(2 * i) + 1];
        }

        IReadOnlyDictionary<string, HostTensor> outputs = _session.Run(inputs);
        for (int i = 0; i < Layers; i++)
        {
            batch.Past[2 * i] = outputs[$"present.{i}.key"];
            batch.Past[(2 * i) + 1] = outputs[$"present.{i}.value"];
        }

        newLengths.CopyTo(batch.Lengths, 0);
        HostTensor logits = outputs["logits"];
        return (logits.As<float>(), (int)logits.Shape[1]);
    }

    public void Dispose() => _session.Dispose();
}
