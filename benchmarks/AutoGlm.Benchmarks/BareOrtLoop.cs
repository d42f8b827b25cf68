using System.Numerics.Tensors;
using AutoGlm.Models;
using AutoGlm.Native;

namespace AutoGlm.Benchmarks;

/// <summary>
/// The baseline: a hand-written greedy loop straight on an ONNX Runtime session, one sequence, with the KV
/// cache managed by hand (one <c>[1, kv_heads, length, head_dim]</c> buffer per layer and kind, bound as both
/// past input and present output, as docs/model-contract.md describes). No scheduler, no slots, no sampler,
/// no detokenisation — what AutoGlm's batch-1 decode is measured against.
/// </summary>
internal sealed class BareOrtLoop : IDisposable
{
    private readonly OrtSession _session;
    private readonly int _vocabulary;
    private readonly int[] _inputIndices;
    private readonly int[] _outputIndices;
    private readonly OrtValue[] _kv;
    private readonly OrtValue _keep;

    // The decode step's tensors, created once: shapes never change from step to step.
    private readonly long[] _decodeIds = new long[1];
    private readonly long[] _decodePositions = new long[1];
    private readonly long[] _decodeMask;
    private readonly float[] _logits;
    private readonly OrtValue[] _decodeInputs;
    private readonly OrtValue?[] _outputs;
    private readonly OrtValue[] _decodeOwned;

    /// <param name="session">A session on the model, opened with AutoGlm's session options.</param>
    /// <param name="info">The model's description.</param>
    /// <param name="length">Positions of the KV buffer (prompt + generated tokens must fit).</param>
    public BareOrtLoop(OrtSession session, GlmModelInfo info, int length)
    {
        _session = session;
        _vocabulary = info.VocabularySize;
        var inputs = new List<int> { session.IndexOfInput("input_ids"), session.IndexOfInput("attention_mask") };
        int positions = session.IndexOfInput("position_ids");
        int keep = session.IndexOfInput("num_logits_to_keep");
        HasPositions = positions >= 0;
        HasKeep = keep >= 0;
        if (HasPositions)
        {
            inputs.Add(positions);
        }

        if (HasKeep)
        {
            inputs.Add(keep);
        }

        var outputs = new List<int> { session.IndexOfOutput("logits") };
        _kv = new OrtValue[2 * info.LayerCount];
        long[] shape = [1, info.KeyValueHeadCount, length, info.HeadSize];
        TensorElementType kvType = info.KvCacheIsFloat16 ? TensorElementType.Float16 : TensorElementType.Float;
        for (int layer = 0; layer < info.LayerCount; layer++)
        {
            inputs.Add(session.IndexOfInput($"past_key_values.{layer}.key"));
            inputs.Add(session.IndexOfInput($"past_key_values.{layer}.value"));
            outputs.Add(session.IndexOfOutput($"present.{layer}.key"));
            outputs.Add(session.IndexOfOutput($"present.{layer}.value"));
            _kv[2 * layer] = OrtValue.Allocate(kvType, shape);
            _kv[(2 * layer) + 1] = OrtValue.Allocate(kvType, shape);
        }

        _inputIndices = [.. inputs];
        _outputIndices = [.. outputs];
        _keep = OrtValue.CreateTensor<long>(new long[] { 1 }, []);
        _logits = new float[_vocabulary];
        _outputs = [OrtValue.CreateTensor<float>(_logits, [1, 1, _vocabulary]), .. _kv];
        _decodeMask = new long[length];
        OrtValue ids = OrtValue.CreateTensor<long>(_decodeIds, [1, 1]);
        OrtValue mask = OrtValue.CreateTensor<long>(_decodeMask, [1, length]);
        OrtValue position = OrtValue.CreateTensor<long>(_decodePositions, [1, 1]);
        _decodeOwned = [ids, mask, position];
        _decodeInputs = Bind(ids, mask, position);
    }

    private bool HasPositions { get; }

    private bool HasKeep { get; }

    /// <summary>Reads <paramref name="prompt"/> into an empty cache; returns the greedy next token.</summary>
    public int Prefill(ReadOnlySpan<int> prompt)
    {
        int count = prompt.Length;
        var ids = new long[count];
        var positions = new long[count];
        var mask = new long[count];
        for (int i = 0; i < count; i++)
        {
            ids[i] = prompt[i];
            positions[i] = i;
            mask[i] = 1;
        }

        using OrtValue idsValue = OrtValue.CreateTensor<long>(ids, [1, count]);
        using OrtValue maskValue = OrtValue.CreateTensor<long>(mask, [1, count]);
        using OrtValue positionValue = OrtValue.CreateTensor<long>(positions, [1, count]);
        _session.Run(null, _inputIndices, Bind(idsValue, maskValue, positionValue), _outputIndices, _outputs);

        // The decode mask starts with the prompt's positions.
        _decodeMask.AsSpan().Clear();
        _decodeMask.AsSpan(0, count).Fill(1);
        return TensorPrimitives.IndexOfMax<float>(_logits);
    }

    /// <summary>Feeds <paramref name="token"/> at position <paramref name="pastLength"/>; returns the greedy next token.</summary>
    public int Decode(int token, int pastLength)
    {
        _decodeIds[0] = token;
        _decodePositions[0] = pastLength;
        _decodeMask[pastLength] = 1;
        _session.Run(null, _inputIndices, _decodeInputs, _outputIndices, _outputs);
        return TensorPrimitives.IndexOfMax<float>(_logits);
    }

    /// <summary>Forgets the cache after <paramref name="length"/> positions (their keys and values are overwritten by the next steps).</summary>
    public void Truncate(int length) => _decodeMask.AsSpan(length).Clear();

    public void Dispose()
    {
        foreach (OrtValue value in _kv)
        {
            value.Dispose();
        }

        foreach (OrtValue value in _decodeOwned)
        {
            value.Dispose();
        }

        _outputs[0]!.Dispose();
        _keep.Dispose();
    }

    private OrtValue[] Bind(OrtValue ids, OrtValue mask, OrtValue positions)
    {
        var inputs = new List<OrtValue>(_inputIndices.Length) { ids, mask };
        if (HasPositions)
        {
            inputs.Add(positions);
        }

        if (HasKeep)
        {
            inputs.Add(_keep);
        }

        inputs.AddRange(_kv);
        return [.. inputs];
    }
}
