using System.Numerics.Tensors;
using AutoGlm.Models;
using AutoGlm.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace AutoGlm.Benchmarks;

/// <summary>
/// The baseline: a hand-written greedy loop straight on an ONNX Runtime session, one sequence, with the KV
/// cache managed by hand (one <c>[1, kv_heads, length, head_dim]</c> buffer per layer and kind, bound as both
/// past input and present output through one I/O binding, as docs/model-contract.md describes). No scheduler, no
/// slots, no sampler, no detokenisation — what AutoGlm's batch-1 decode is measured against.
/// </summary>
internal sealed class BareOrtLoop : IDisposable
{
    private readonly OrtSession _session;
    private readonly GlmModelInfo _info;
    private readonly int _vocabulary;
    private readonly OrtValue[] _kv;
    private readonly OrtValue _keep;
    private readonly long[] _keepShape;
    private readonly RunOptions _runOptions = new();

    // The decode step's tensors and binding, created once: shapes never change from step to step.
    private readonly long[] _decodeIds = new long[1];
    private readonly long[] _decodePositions = new long[1];
    private readonly long[] _decodeMask;
    private readonly float[] _logits;
    private readonly OrtValue _logitsValue;
    private readonly OrtValue[] _decodeOwned;
    private readonly OrtIoBinding _decodeBinding;

    /// <param name="session">A session on the model, opened with AutoGlm's session options.</param>
    /// <param name="info">The model's description.</param>
    /// <param name="length">Positions of the KV buffer (prompt + generated tokens must fit).</param>
    public BareOrtLoop(OrtSession session, GlmModelInfo info, int length)
    {
        _session = session;
        _info = info;
        _vocabulary = info.VocabularySize;
        _kv = new OrtValue[2 * info.LayerCount];
        long[] shape = [1, info.KeyValueHeadCount, length, info.HeadSize];
        var kvType = info.KvCacheIsFloat16 ? Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float16 : Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float;
        for (int i = 0; i < _kv.Length; i++)
        {
            _kv[i] = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, kvType, shape);
        }

        int keepIndex = session.IndexOfInput("num_logits_to_keep");
        _keepShape = keepIndex >= 0 && session.Inputs[keepIndex].Shape.Length == 1 ? [1] : [];
        _keep = OrtValue.CreateTensorValueFromMemory(new long[] { 1 }, _keepShape);
        _logits = new float[_vocabulary];
        _logitsValue = OrtValue.CreateTensorValueFromMemory(_logits, [1, 1, _vocabulary]);
        _decodeMask = new long[length];
        OrtValue ids = OrtValue.CreateTensorValueFromMemory(_decodeIds, [1, 1]);
        OrtValue mask = OrtValue.CreateTensorValueFromMemory(_decodeMask, [1, length]);
        OrtValue position = OrtValue.CreateTensorValueFromMemory(_decodePositions, [1, 1]);
        _decodeOwned = [ids, mask, position];
        _decodeBinding = Bind(ids, mask, position);
    }

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

        using OrtValue idsValue = OrtValue.CreateTensorValueFromMemory(ids, [1, count]);
        using OrtValue maskValue = OrtValue.CreateTensorValueFromMemory(mask, [1, count]);
        using OrtValue positionValue = OrtValue.CreateTensorValueFromMemory(positions, [1, count]);
        using OrtIoBinding binding = Bind(idsValue, maskValue, positionValue);
        _session.Run(binding, _runOptions);

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
        _session.Run(_decodeBinding, _runOptions);
        return TensorPrimitives.IndexOfMax<float>(_logits);
    }

    /// <summary>Forgets the cache after <paramref name="length"/> positions (their keys and values are overwritten by the next steps).</summary>
    public void Truncate(int length) => _decodeMask.AsSpan(length).Clear();

    public void Dispose()
    {
        _decodeBinding.Dispose();
        foreach (OrtValue value in _kv)
        {
            value.Dispose();
        }

        foreach (OrtValue value in _decodeOwned)
        {
            value.Dispose();
        }

        _logitsValue.Dispose();
        _keep.Dispose();
        _runOptions.Dispose();
    }

    private OrtIoBinding Bind(OrtValue ids, OrtValue mask, OrtValue positions)
    {
        OrtIoBinding binding = _session.CreateIoBinding();
        binding.BindInput("input_ids", ids);
        binding.BindInput("attention_mask", mask);
        if (_session.IndexOfInput("position_ids") >= 0)
        {
            binding.BindInput("position_ids", positions);
        }

        if (_session.IndexOfInput("num_logits_to_keep") >= 0)
        {
            binding.BindInput("num_logits_to_keep", _keep);
        }

        binding.BindOutput("logits", _logitsValue);
        for (int layer = 0; layer < _info.LayerCount; layer++)
        {
            binding.BindInput($"past_key_values.{layer}.key", _kv[2 * layer]);
            binding.BindInput($"past_key_values.{layer}.value", _kv[(2 * layer) + 1]);
            binding.BindOutput($"present.{layer}.key", _kv[2 * layer]);
            binding.BindOutput($"present.{layer}.value", _kv[(2 * layer) + 1]);
        }

        return binding;
    }
}
