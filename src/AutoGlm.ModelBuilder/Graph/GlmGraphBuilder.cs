using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using AutoGlm.ModelBuilder.Checkpoints;
using AutoGlm.ModelBuilder.Onnx;
using AutoGlm.ModelBuilder.Quantization;
using AutoGlm.ModelBuilder.Safetensors;
using AutoGlm.Runtime;

namespace AutoGlm.ModelBuilder.Graph;

/// <summary>
/// Turns a GLM checkpoint into an ONNX decoder graph with the AutoGlm I/O contract (docs/model-contract.md):
/// packed QKV projection → <c>com.microsoft.GroupQueryAttention</c> (interleaved partial rotary, in-place
/// KV update over a right-padded cache) → SwiGLU MLP, weights streamed tensor by tensor into
/// <c>model.onnx.data</c>.
/// </summary>
/// <remarks>Not thread-safe; one instance builds one model.</remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The data writer lives only inside Build, which disposes it.")]
internal sealed class GlmGraphBuilder
{
    public const string ModelFileName = "model.onnx";
    public const string DataFileName = "model.onnx.data";

    // Elements (float32) of one block of source rows: bounds the converter's working set per tensor.
    private const int TileElements = 1 << 21;

    private readonly GlmConfig _config;
    private readonly SafetensorsCheckpoint _checkpoint;
    private readonly ModelBuildOptions _options;
    private readonly IProgress<ModelBuildProgress>? _progress;
    private readonly CancellationToken _cancellationToken;
    private readonly GlmWeightNames _names;
    private readonly OnnxModel _model = new();
    private readonly HashSet<string> _consumed = new(StringComparer.Ordinal);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly TensorElementType _activationType;
    private ExternalDataWriter? _data;
    private int _tensorsDone;
    private int _tensorsTotal;
    private long _bytesRead;
    private long _bytesTotal;

    public GlmGraphBuilder(GlmConfig config, SafetensorsCheckpoint checkpoint, ModelBuildOptions options, IProgress<ModelBuildProgress>? progress, CancellationToken cancellationToken)
    {
        _config = config;
        _checkpoint = checkpoint;
        _options = options;
        _progress = progress;
        _cancellationToken = cancellationToken;
        _names = new GlmWeightNames(config.Architecture);
        _activationType = options.Precision == ModelPrecision.Fp16 ? TensorElementType.Float16 : TensorElementType.Float;
    }

    /// <summary>The sequence length the rotary tables cover (and the runtime's maximum KV length).</summary>
    public int MaxSequenceLength => _options.MaxSequenceLength ?? _config.MaxPositions;

    /// <summary>Element type of past/present KV tensors.</summary>
    public TensorElementType KvType => _activationType;

    private bool IsInt4 => _options.Precision == ModelPrecision.Int4;

    private TensorElementType WeightType => _options.Precision == ModelPrecision.Fp16 ? TensorElementType.Float16 : TensorElementType.Float;

    /// <summary>Writes <c>model.onnx</c> and <c>model.onnx.data</c> into <paramref name="directory"/>.</summary>
    public void Build(string directory)
    {
        CheckSupported();
        _bytesTotal = _checkpoint.TotalBytes;
        _tensorsTotal = CountTensors();
        using (_data = new ExternalDataWriter(Path.Combine(directory, DataFileName)))
        {
            BuildGraph();
            _data.Flush();
        }

        _model.Metadata["autoglm.model_type"] = _config.ModelType;
        _model.Metadata["autoglm.precision"] = _options.Precision.ToString().ToLowerInvariant();
        _model.Metadata["autoglm.max_sequence_length"] = MaxSequenceLength.ToString(CultureInfo.InvariantCulture);
        File.WriteAllBytes(Path.Combine(directory, ModelFileName), _model.Encode());
    }

    private void CheckSupported()
    {
        int half = _config.RotaryDim / 2;
        if (_config.HeadDim % 16 != 0 || half % 8 != 0 || half > _config.HeadDim / 2)
        {
            throw new ModelLoadException($"The model's attention shape is not supported by ONNX Runtime's GroupQueryAttention: head_dim {_config.HeadDim} must be a multiple of 16 and the rotary dimension {_config.RotaryDim} a multiple of 16 (partial_rotary_factor 0.5 needs head_dim ≥ 32).");
        }

        if (IsInt4 && (_options.Int4BlockSize < 16 || (_options.Int4BlockSize & (_options.Int4BlockSize - 1)) != 0))
        {
            throw new ArgumentException($"The int4 block size {_options.Int4BlockSize} must be a power of two of at least 16.");
        }

        if (IsInt4 && _options.Int4AccuracyLevel is < 0 or > 4)
        {
            throw new ArgumentException($"The int4 accuracy level {_options.Int4AccuracyLevel} is not one of ONNX Runtime's MatMulNBits levels: 0 (unset), 1 (fp32), 2 (fp16), 3 (bf16) or 4 (int8).");
        }

        if (MaxSequenceLength <= 0)
        {
            throw new ArgumentException($"The maximum sequence length {MaxSequenceLength} must be positive.");
        }
    }

    private int CountTensors()
    {
        int perMatMul = IsInt4 ? 2 : 1;
        int perLayer = 2 + (3 * perMatMul) + perMatMul + (_config.QkvBias ? 1 : 0) + (_config.Architecture == GlmArchitecture.Glm4 ? 2 : 0);
        int lmHead = IsInt4 && _options.QuantizeLmHead ? 2 : 1;
        int embedding = IsInt4 && _options.QuantizeEmbedding ? 2 : 1;
        return (_config.NumLayers * perLayer) + embedding + 1 + lmHead + 2;
    }

    private void BuildGraph()
    {
        GlmConfig c = _config;
        _model.Inputs.Add(new OnnxValueInfo("input_ids", TensorElementType.Int64, ["batch_size", "sequence_length"]));
        _model.Inputs.Add(new OnnxValueInfo("attention_mask", TensorElementType.Int64, ["batch_size", "total_sequence_length"]));
        _model.Inputs.Add(new OnnxValueInfo("position_ids", TensorElementType.Int64, ["batch_size", "sequence_length"]));
        for (int i = 0; i < c.NumLayers; i++)
        {
            _model.Inputs.Add(new OnnxValueInfo($"past_key_values.{i}.key", _activationType, ["batch_size", c.NumKvHeads, "past_sequence_length", c.HeadDim]));
            _model.Inputs.Add(new OnnxValueInfo($"past_key_values.{i}.value", _activationType, ["batch_size", c.NumKvHeads, "past_sequence_length", c.HeadDim]));
        }

        // Shape [1], as ONNX Runtime GenAI feeds it (a scalar made its Slice fail: "Starts must be a 1-D array").
        _model.Inputs.Add(new OnnxValueInfo("num_logits_to_keep", TensorElementType.Int64, [1]));
        _model.Outputs.Add(new OnnxValueInfo("logits", TensorElementType.Float, ["batch_size", "logits_sequence_length", c.VocabSize]));
        for (int i = 0; i < c.NumLayers; i++)
        {
            _model.Outputs.Add(new OnnxValueInfo($"present.{i}.key", _activationType, ["batch_size", c.NumKvHeads, "present_sequence_length", c.HeadDim]));
            _model.Outputs.Add(new OnnxValueInfo($"present.{i}.value", _activationType, ["batch_size", c.NumKvHeads, "present_sequence_length", c.HeadDim]));
        }

        // GroupQueryAttention reads lengths, not a mask: row b holds ReduceSum(mask[b]) tokens after this step.
        string maskSum = Node("ReduceSum", ["attention_mask", Constant("/model/mask/axes", [1L])], "/model/mask/ReduceSum", [OnnxAttribute.Of("keepdims", 0L)]);
        string lastIndex = Node("Sub", [maskSum, Constant("/model/mask/one", 1L)], "/model/mask/Sub");
        string seqlensK = Node("Cast", [lastIndex], "/model/mask/seqlens_k", [OnnxAttribute.Of("to", (long)TensorElementType.Int32)]);
        string maskShape = Node("Shape", ["attention_mask"], "/model/mask/Shape");
        string totalLength64 = Node("Gather", [maskShape, Constant("/model/mask/total_index", 1L)], "/model/mask/Gather", [OnnxAttribute.Of("axis", 0L)]);
        string totalLength = Node("Cast", [totalLength64], "/model/mask/total_sequence_length", [OnnxAttribute.Of("to", (long)TensorElementType.Int32)]);
        (string cosCache, string sinCache) = WriteRotaryTables();

        string hidden = Embedding();
        for (int layer = 0; layer < c.NumLayers; layer++)
        {
            hidden = Layer(layer, hidden, seqlensK, totalLength, cosCache, sinCache);
        }

        string finalNorm = RmsNorm(hidden, WriteVector("model.norm.weight", _names.FinalNorm, c.HiddenSize), "/model/norm");

        // Keep the last num_logits_to_keep positions (0 keeps all) before the vocabulary projection.
        string starts = Node("Neg", ["num_logits_to_keep"], "/model/keep/Neg");
        string kept = Node("Slice", [finalNorm, starts, Constant("/model/keep/ends", [long.MaxValue]), Constant("/model/keep/axes", [1L])], "/model/keep/Slice");
        string lmHeadSource = c.TieWordEmbeddings ? _names.Embedding : _names.LmHead;
        LinearWeight lmHead = WriteLinear("lm_head", [lmHeadSource], c.HiddenSize, quantize: !IsInt4 || _options.QuantizeLmHead);
        string logits = Linear(kept, lmHead, "/lm_head");
        if (_activationType != TensorElementType.Float)
        {
            Node("Cast", [logits], "/lm_head/Cast", [OnnxAttribute.Of("to", (long)TensorElementType.Float)], output: "logits");
        }
        else
        {
            Node("Identity", [logits], "/lm_head/Identity", output: "logits");
        }
    }

    private string Embedding()
    {
        GlmConfig c = _config;
        SafetensorsTensorInfo source = _checkpoint.Get(_names.Embedding, c.VocabSize, c.HiddenSize);
        if (IsInt4 && _options.QuantizeEmbedding)
        {
            if (c.HiddenSize % _options.Int4BlockSize != 0)
            {
                throw new ArgumentException($"A 4-bit embedding needs the hidden size {c.HiddenSize} to be a multiple of the block size {_options.Int4BlockSize}.");
            }

            (string packed, string scales) = WriteQuantized("model.embed_tokens", [source], c.HiddenSize, gatherLayout: true);
            return Node(
                "GatherBlockQuantized",
                [packed, "input_ids", scales],
                "/model/embed_tokens/GatherBlockQuantized",
                [OnnxAttribute.Of("gather_axis", 0L), OnnxAttribute.Of("quantize_axis", 1L), OnnxAttribute.Of("block_size", (long)_options.Int4BlockSize), OnnxAttribute.Of("bits", 4L)],
                domain: "com.microsoft");
        }

        string weight = WriteRows("model.embed_tokens.weight", source);
        return Node("Gather", [weight, "input_ids"], "/model/embed_tokens/Gather", [OnnxAttribute.Of("axis", 0L)]);
    }

    private string Layer(int layer, string hidden, string seqlensK, string totalLength, string cosCache, string sinCache)
    {
        GlmConfig c = _config;
        string p = $"/model/layers.{layer}";
        string ln1 = RmsNorm(hidden, WriteVector($"model.layers.{layer}.input_layernorm.weight", _names.InputNorm(layer), c.HiddenSize), p + "/input_layernorm");

        LinearWeight qkvWeight;
        string? qkvBias = null;
        if (c.Architecture == GlmArchitecture.ChatGlm)
        {
            qkvWeight = WriteLinear($"model.layers.{layer}.attn.qkv_proj", [_checkpoint.Get(_names.FusedQkv(layer, "weight"), c.QkvSize, c.HiddenSize).Name], c.HiddenSize);
            if (c.QkvBias)
            {
                qkvBias = WriteConcatVector($"model.layers.{layer}.attn.qkv_proj.bias", [(_names.FusedQkv(layer, "bias"), c.QkvSize)]);
            }
        }
        else
        {
            _checkpoint.Get(_names.Projection(layer, 'q', "weight"), c.QSize, c.HiddenSize);
            _checkpoint.Get(_names.Projection(layer, 'k', "weight"), c.KvSize, c.HiddenSize);
            _checkpoint.Get(_names.Projection(layer, 'v', "weight"), c.KvSize, c.HiddenSize);
            qkvWeight = WriteLinear(
                $"model.layers.{layer}.attn.qkv_proj",
                [_names.Projection(layer, 'q', "weight"), _names.Projection(layer, 'k', "weight"), _names.Projection(layer, 'v', "weight")],
                c.HiddenSize);
            if (c.QkvBias)
            {
                qkvBias = WriteConcatVector(
                    $"model.layers.{layer}.attn.qkv_proj.bias",
                    [(_names.Projection(layer, 'q', "bias"), c.QSize), (_names.Projection(layer, 'k', "bias"), c.KvSize), (_names.Projection(layer, 'v', "bias"), c.KvSize)]);
            }
        }

        string qkv = Linear(ln1, qkvWeight, p + "/attn/qkv_proj");
        if (qkvBias is not null)
        {
            qkv = Node("Add", [qkv, qkvBias], p + "/attn/qkv_proj/BiasAdd");
        }

        string[] attention = NodeMulti(
            "GroupQueryAttention",
            [qkv, string.Empty, string.Empty, $"past_key_values.{layer}.key", $"past_key_values.{layer}.value", seqlensK, totalLength, cosCache, sinCache],
            p + "/attn/GroupQueryAttention",
            [p + "/attn/GroupQueryAttention/output_0", $"present.{layer}.key", $"present.{layer}.value"],
            [
                OnnxAttribute.Of("num_heads", (long)c.NumHeads),
                OnnxAttribute.Of("kv_num_heads", (long)c.NumKvHeads),
                OnnxAttribute.Of("scale", (float)(1.0 / Math.Sqrt(c.HeadDim))),
                OnnxAttribute.Of("do_rotary", 1L),
                OnnxAttribute.Of("rotary_interleaved", 1L),
                OnnxAttribute.Of("local_window_size", -1L),
            ],
            domain: "com.microsoft");

        string oSource = _checkpoint.Get(_names.OutputProjection(layer), c.HiddenSize, c.QSize).Name;
        string attnOut = Linear(attention[0], WriteLinear($"model.layers.{layer}.attn.o_proj", [oSource], c.QSize), p + "/attn/o_proj");
        if (c.Architecture == GlmArchitecture.Glm4)
        {
            attnOut = RmsNorm(attnOut, WriteVector($"model.layers.{layer}.post_self_attn_layernorm.weight", _names.PostSelfAttentionNorm(layer), c.HiddenSize), p + "/post_self_attn_layernorm");
        }

        hidden = Node("Add", [hidden, attnOut], p + "/attn/residual");
        string ln2 = RmsNorm(hidden, WriteVector($"model.layers.{layer}.post_attention_layernorm.weight", _names.PostAttentionNorm(layer), c.HiddenSize), p + "/post_attention_layernorm");
        string gateUpSource = _checkpoint.Get(_names.GateUp(layer), 2L * c.IntermediateSize, c.HiddenSize).Name;
        string gateUp = Linear(ln2, WriteLinear($"model.layers.{layer}.mlp.gate_up_proj", [gateUpSource], c.HiddenSize), p + "/mlp/gate_up_proj");
        string[] halves = NodeMulti(
            "Split",
            [gateUp, Constant(p + "/mlp/split_sizes", [c.IntermediateSize, (long)c.IntermediateSize])],
            p + "/mlp/Split",
            [p + "/mlp/gate", p + "/mlp/up"],
            [OnnxAttribute.Of("axis", -1L)]);
        string sigmoid = Node("Sigmoid", [halves[0]], p + "/mlp/Sigmoid");
        string silu = Node("Mul", [halves[0], sigmoid], p + "/mlp/silu");
        string product = Node("Mul", [silu, halves[1]], p + "/mlp/Mul");
        string downSource = _checkpoint.Get(_names.Down(layer), c.HiddenSize, c.IntermediateSize).Name;
        string mlpOut = Linear(product, WriteLinear($"model.layers.{layer}.mlp.down_proj", [downSource], c.IntermediateSize), p + "/mlp/down_proj");
        if (c.Architecture == GlmArchitecture.Glm4)
        {
            mlpOut = RmsNorm(mlpOut, WriteVector($"model.layers.{layer}.post_mlp_layernorm.weight", _names.PostMlpNorm(layer), c.HiddenSize), p + "/post_mlp_layernorm");
        }

        return Node("Add", [hidden, mlpOut], p + "/mlp/residual");
    }

    private string RmsNorm(string input, string weight, string name)
        => Node(
            "SimplifiedLayerNormalization",
            [input, weight],
            name + "/SimplifiedLayerNormalization",
            [OnnxAttribute.Of("axis", -1L), OnnxAttribute.Of("epsilon", (float)_config.RmsNormEps), OnnxAttribute.Of("stash_type", 1L)]);

    private string Linear(string input, LinearWeight weight, string name)
    {
        if (weight.Scales is null)
        {
            return Node("MatMul", [input, weight.Weight], name + "/MatMul");
        }

        return Node(
            "MatMulNBits",
            [input, weight.Weight, weight.Scales],
            name + "/MatMulNBits",
            [
                OnnxAttribute.Of("K", (long)weight.K),
                OnnxAttribute.Of("N", (long)weight.N),
                OnnxAttribute.Of("bits", 4L),
                OnnxAttribute.Of("block_size", (long)_options.Int4BlockSize),
                OnnxAttribute.Of("accuracy_level", (long)_options.Int4AccuracyLevel),
            ],
            domain: "com.microsoft");
    }

    private (string Cos, string Sin) WriteRotaryTables()
    {
        int half = _config.RotaryDim / 2;
        int positions = MaxSequenceLength;
        var cos = new float[(long)positions * half];
        var sin = new float[(long)positions * half];
        for (int i = 0; i < half; i++)
        {
            double inverseFrequency = Math.Pow(_config.RopeTheta, -2.0 * i / _config.RotaryDim);
            for (int pos = 0; pos < positions; pos++)
            {
                double angle = pos * inverseFrequency;
                cos[((long)pos * half) + i] = (float)Math.Cos(angle);
                sin[((long)pos * half) + i] = (float)Math.Sin(angle);
            }
        }

        string cosName = WriteComputed("model.rotary.cos_cache", [positions, half], cos);
        string sinName = WriteComputed("model.rotary.sin_cache", [positions, half], sin);
        return (cosName, sinName);
    }

    // ---- weights ----

    private sealed record LinearWeight(string Weight, string? Scales, int K, int N);

    /// <summary>A vector initializer (norm weight) in the activation type.</summary>
    private string WriteVector(string name, string source, int length)
        => WriteConcatVector(name, [(source, length)]);

    private string WriteConcatVector(string name, IReadOnlyList<(string Source, int Length)> sources)
    {
        var values = new List<float>();
        foreach ((string source, int length) in sources)
        {
            values.AddRange(_checkpoint.ReadFloats(source, length));
            Consume(_checkpoint.Get(source));
        }

        return WriteComputed(name, [values.Count], values.ToArray());
    }

    private string WriteComputed(string name, long[] shape, float[] values)
    {
        _cancellationToken.ThrowIfCancellationRequested();
        TensorElementType type = _activationType;
        _data!.BeginTensor(name, type, shape);
        WriteConverted(values, type);
        Finish(name);
        return name;
    }

    /// <summary>A tensor copied row for row (the embedding table).</summary>
    private string WriteRows(string name, SafetensorsTensorInfo source)
    {
        _cancellationToken.ThrowIfCancellationRequested();
        TensorElementType type = WeightType;
        _data!.BeginTensor(name, type, source.Shape);
        using (SafetensorsTensorReader reader = _checkpoint.OpenReader(source))
        {
            float[] buffer = ArrayPool<float>.Shared.Rent(TileElements);
            try
            {
                long total = source.ElementCount;
                for (long start = 0; start < total; start += TileElements)
                {
                    _cancellationToken.ThrowIfCancellationRequested();
                    int n = (int)Math.Min(TileElements, total - start);
                    reader.Read(start, buffer.AsSpan(0, n));
                    WriteConverted(buffer.AsSpan(0, n), type);
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(buffer);
            }
        }

        Consume(source);
        Finish(name);
        return name;
    }

    /// <summary>
    /// The weight of y = x Wᵀ where W is the row-concatenation of <paramref name="sources"/> (each [rows, k]):
    /// transposed to [k, N] for MatMul, or quantised row by row for MatMulNBits.
    /// </summary>
    private LinearWeight WriteLinear(string name, IReadOnlyList<string> sources, int k, bool quantize = true)
    {
        SafetensorsTensorInfo[] infos = sources.Select(s => _checkpoint.Get(s)).ToArray();
        foreach (SafetensorsTensorInfo info in infos)
        {
            if (info.Shape.Length != 2 || info.Shape[1] != k)
            {
                throw new ModelLoadException($"Tensor '{info.Name}' in '{info.FilePath}' has shape {info.ShapeText}, but a projection with {k} inputs was expected. The checkpoint and its config.json do not match.");
            }
        }

        int n = checked((int)infos.Sum(i => i.Shape[0]));
        if (IsInt4 && quantize)
        {
            (string packed, string scales) = WriteQuantized(name, infos, k);
            return new LinearWeight(packed, scales, k, n);
        }

        string weightName = name + ".weight";
        WriteTransposed(weightName, infos, k, n);
        return new LinearWeight(weightName, null, k, n);
    }

    /// <summary>
    /// Writes Wᵀ ([k, n]) of the row-concatenated sources: reads a block of source rows sequentially (each
    /// checkpoint byte once), then writes each of its columns to its place in the output row it belongs to.
    /// </summary>
    private void WriteTransposed(string name, SafetensorsTensorInfo[] sources, int k, int n)
    {
        _cancellationToken.ThrowIfCancellationRequested();
        TensorElementType type = WeightType;
        int elementSize = TensorElementTypes.SizeOf(type);
        _data!.BeginTensor(name, type, [k, n]);
        int rowsPerBlock = Math.Max(1, TileElements / k);
        float[] block = ArrayPool<float>.Shared.Rent(rowsPerBlock * k);
        float[] column = ArrayPool<float>.Shared.Rent(rowsPerBlock);
        Half[] halves = ArrayPool<Half>.Shared.Rent(rowsPerBlock);
        try
        {
            int rowBase = 0;
            foreach (SafetensorsTensorInfo source in sources)
            {
                int rows = (int)source.Shape[0];
                using (SafetensorsTensorReader reader = _checkpoint.OpenReader(source))
                {
                    for (int r0 = 0; r0 < rows; r0 += rowsPerBlock)
                    {
                        _cancellationToken.ThrowIfCancellationRequested();
                        int count = Math.Min(rowsPerBlock, rows - r0);
                        reader.Read((long)r0 * k, block.AsSpan(0, count * k));
                        for (int kk = 0; kk < k; kk++)
                        {
                            for (int r = 0; r < count; r++)
                            {
                                column[r] = block[(r * k) + kk];
                            }

                            long offset = (((long)kk * n) + rowBase + r0) * elementSize;
                            if (type == TensorElementType.Float)
                            {
                                _data.WriteAt(offset, MemoryMarshal.AsBytes(column.AsSpan(0, count)));
                            }
                            else
                            {
                                for (int r = 0; r < count; r++)
                                {
                                    halves[r] = (Half)column[r];
                                }

                                _data.WriteAt(offset, MemoryMarshal.AsBytes(halves.AsSpan(0, count)));
                            }
                        }

                        Report(name);
                    }
                }

                rowBase += rows;
                Consume(source);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(block);
            ArrayPool<float>.Shared.Return(column);
            ArrayPool<Half>.Shared.Return(halves);
        }

        Finish(name);
    }

    /// <summary>
    /// Rows quantised in blocks along K. MatMulNBits layout: codes [N, blocks, blockSize/2], scales [N × blocks];
    /// GatherBlockQuantized layout (<paramref name="gatherLayout"/>): codes [N, K/2], scales [N, blocks].
    /// </summary>
    private (string Packed, string Scales) WriteQuantized(string name, IReadOnlyList<SafetensorsTensorInfo> sources, int k, bool gatherLayout = false)
    {
        int blockSize = _options.Int4BlockSize;
        int blocks = Int4BlockQuantizer.BlocksPerRow(k, blockSize);
        int n = checked((int)sources.Sum(s => s.Shape[0]));
        var allScales = new float[(long)n * blocks];
        string packedName = name + ".weight_q4";
        _data!.BeginTensor(packedName, TensorElementType.UInt8, gatherLayout ? [n, blocks * blockSize / 2] : [n, blocks, blockSize / 2]);
        float[] row = new float[k];
        byte[] packed = new byte[blocks * blockSize / 2];
        int rowIndex = 0;
        foreach (SafetensorsTensorInfo source in sources)
        {
            using SafetensorsTensorReader reader = _checkpoint.OpenReader(source);
            for (long r = 0; r < source.Shape[0]; r++)
            {
                if ((r & 255) == 0)
                {
                    _cancellationToken.ThrowIfCancellationRequested();
                }

                reader.Read(r * k, row);
                Int4BlockQuantizer.QuantizeRow(row, blockSize, packed, allScales.AsSpan(rowIndex * blocks, blocks));
                _data.Write(packed);
                rowIndex++;
            }

            Consume(source);
        }

        Finish(packedName);
        string scalesName = name + ".weight_scales";
        _data.BeginTensor(scalesName, _activationType, gatherLayout ? [n, blocks] : [(long)n * blocks]);
        WriteConverted(allScales, _activationType);
        Finish(scalesName);
        return (packedName, scalesName);
    }

    private void WriteConverted(ReadOnlySpan<float> values, TensorElementType type)
    {
        if (type == TensorElementType.Float)
        {
            _data!.Write(values);
            return;
        }

        const int Chunk = 1 << 16;
        Half[] buffer = ArrayPool<Half>.Shared.Rent(Math.Min(Chunk, values.Length));
        try
        {
            for (int start = 0; start < values.Length; start += Chunk)
            {
                int n = Math.Min(Chunk, values.Length - start);
                for (int i = 0; i < n; i++)
                {
                    buffer[i] = (Half)values[start + i];
                }

                _data!.Write(buffer.AsSpan(0, n));
            }
        }
        finally
        {
            ArrayPool<Half>.Shared.Return(buffer);
        }
    }

    private void Consume(SafetensorsTensorInfo source)
    {
        if (_consumed.Add(source.Name))
        {
            _bytesRead += source.ByteLength;
        }
    }

    private void Finish(string name)
    {
        _model.Initializers.Add(_data!.EndTensor());
        _tensorsDone++;
        Report(name);
    }

    private void Report(string current)
        => _progress?.Report(new ModelBuildProgress(_tensorsDone, _tensorsTotal, _bytesRead, _bytesTotal, _clock.Elapsed, current));

    // ---- nodes ----

    private string Node(string opType, IReadOnlyList<string> inputs, string name, IReadOnlyList<OnnxAttribute>? attributes = null, string domain = "", string? output = null)
        => NodeMulti(opType, inputs, name, [output ?? name + "/output_0"], attributes ?? [], domain)[0];

    private string[] NodeMulti(string opType, IReadOnlyList<string> inputs, string name, string[] outputs, IReadOnlyList<OnnxAttribute> attributes, string domain = "")
    {
        _model.Nodes.Add(new OnnxNode(opType, name, inputs, outputs, attributes, domain));
        return outputs;
    }

    private string Constant(string name, long scalar)
        => Node("Constant", [], name, [OnnxAttribute.Of("value", new OnnxTensor(name + "/value", TensorElementType.Int64, [], BitConverter.GetBytes(scalar)))]);

    private string Constant(string name, long[] values)
    {
        byte[] raw = new byte[values.Length * 8];
        Buffer.BlockCopy(values, 0, raw, 0, raw.Length);
        return Node("Constant", [], name, [OnnxAttribute.Of("value", new OnnxTensor(name + "/value", TensorElementType.Int64, [values.Length], raw))]);
    }
}
