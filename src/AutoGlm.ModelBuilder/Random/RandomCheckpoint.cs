using System.Text.Json;
using AutoGlm.ModelBuilder.Checkpoints;
using AutoGlm.ModelBuilder.Random;
using AutoGlm.ModelBuilder.Safetensors;

namespace AutoGlm.ModelBuilder;

/// <summary>
/// Writes a random-weight GLM checkpoint in Hugging Face form (<c>config.json</c>, <c>generation_config.json</c>,
/// <c>model.safetensors</c>, a trained tokenizer and a <c>tokenizer_config.json</c>), for tests and benchmarks: a
/// byte-level BPE <c>tokenizer.json</c> with GLM-4's special tokens and chat template, or for ChatGLM (except the
/// <c>glm-4-9b</c> preset, whose model is glm-4-9b-chat) a ChatGLM3-style SentencePiece <c>tokenizer.model</c> with
/// ChatGLM3's special tokens after it. The same options give byte-identical files.
/// </summary>
/// <remarks>Stateless and thread-safe.</remarks>
public static class RandomCheckpoint
{
    /// <summary>Generates the checkpoint into <paramref name="outputDirectory"/> (which must not exist or be empty).</summary>
    /// <param name="options">Preset, architecture, seed and overrides.</param>
    /// <param name="outputDirectory">Folder to create.</param>
    /// <param name="cancellationToken">Cancels generation; the partial output is deleted.</param>
    /// <returns>A task that completes when the folder is in place.</returns>
    /// <exception cref="ArgumentException">The preset is unknown or the shapes are inconsistent.</exception>
    /// <exception cref="IOException">The output folder exists and is not empty.</exception>
    public static Task WriteAsync(RandomCheckpointOptions options, string outputDirectory, CancellationToken cancellationToken = default)
        => WriteAsync(options, outputDirectory, null, cancellationToken);

    /// <summary>Generates the checkpoint into <paramref name="outputDirectory"/>, reporting progress.</summary>
    /// <param name="options">Preset, architecture, seed and overrides.</param>
    /// <param name="outputDirectory">Folder to create.</param>
    /// <param name="progress">Receives progress after each weight tensor (bytes are those written).</param>
    /// <param name="cancellationToken">Cancels generation; the partial output is deleted.</param>
    /// <returns>A task that completes when the folder is in place.</returns>
    /// <exception cref="ArgumentException">The preset is unknown or the shapes are inconsistent.</exception>
    /// <exception cref="IOException">The output folder exists and is not empty.</exception>
    public static Task WriteAsync(RandomCheckpointOptions options, string outputDirectory, IProgress<ModelBuildProgress>? progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        return Task.Run(() => Write(options, outputDirectory, cancellationToken, progress), cancellationToken);
    }

    internal static GlmConfig ResolveConfig(RandomCheckpointOptions options)
    {
        RandomCheckpointPreset preset = RandomCheckpointPreset.Find(options.Preset);
        int heads = options.Heads ?? preset.Heads;
        int hidden = options.HiddenSize ?? preset.HiddenSize;
        int headDim = options.HeadDim ?? (options.HiddenSize is not null || options.Heads is not null ? hidden / heads : preset.HeadDim);
        bool chat = options.Architecture == GlmArchitecture.ChatGlm;
        double factor = chat ? 0.5 : options.RotaryFactor ?? preset.RotaryFactor;
        bool tied = !chat && (options.TieWordEmbeddings ?? preset.TieWordEmbeddings);
        if (chat && options.TieWordEmbeddings == true)
        {
            throw new ArgumentException("ChatGLM checkpoints always have a separate output layer; tied embeddings are not available for --arch chatglm.");
        }

        int vocab = options.VocabSize ?? preset.VocabSize;
        if (UsesSentencePiece(options))
        {
            int minimum = SentencePieceModelTrainer.ReservedPieces + 1 + SentencePieceModelTrainer.SpecialTokens.Count;
            if (vocab < minimum)
            {
                throw new ArgumentException($"The vocabulary size {vocab} is too small: the SentencePiece tokenizer needs at least {minimum} ids.");
            }
        }
        else if (vocab < 256 + GlmSpecialTokens.Count)
        {
            throw new ArgumentException($"The vocabulary size {vocab} is too small: the byte-level tokenizer needs at least {256 + GlmSpecialTokens.Count} ids.");
        }

        if (!(options.InitializerRange > 0 && options.InitializerRange < 10))
        {
            throw new ArgumentException($"The initializer range {options.InitializerRange} must be a positive standard deviation below 10.");
        }

        _ = ParseDType(options.WeightDType);
        int kvHeads = options.KvHeads ?? preset.KvHeads;
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0)
        {
            throw new ArgumentException($"{heads} attention heads cannot be grouped over {kvHeads} key/value heads.");
        }

        int[] specials = GlmSpecialTokens.Ids(vocab);
        int[] eos = [specials[GlmSpecialTokens.EndOfText], specials[GlmSpecialTokens.User], specials[GlmSpecialTokens.Observation]];
        int pad = specials[GlmSpecialTokens.EndOfText];
        if (UsesSentencePiece(options))
        {
            // ChatGLM3: </s> (id 2), <|user|> and <|observation|> end a turn; <unk> (id 0) pads.
            int[] chatGlm3 = SentencePieceModelTrainer.SpecialIds(vocab);
            eos = [2, chatGlm3[6], chatGlm3[8]];
            pad = 0;
        }

        return new GlmConfig
        {
            Architecture = options.Architecture,
            VocabSize = vocab,
            HiddenSize = hidden,
            IntermediateSize = options.IntermediateSize ?? preset.IntermediateSize,
            NumLayers = options.Layers ?? preset.Layers,
            NumHeads = heads,
            NumKvHeads = kvHeads,
            HeadDim = headDim,
            RotaryDim = (int)Math.Round(headDim * factor),
            RopeTheta = chat ? 10000.0 * 500 : preset.RopeTheta,
            RmsNormEps = chat ? 1.5625e-07 : 1e-5,
            MaxPositions = options.MaxPositions ?? preset.MaxPositions,
            QkvBias = options.AttentionBias ?? preset.AttentionBias,
            TieWordEmbeddings = tied,
            EosTokenIds = eos,
            PadTokenId = pad,
        };
    }

    /// <summary>Whether the checkpoint gets ChatGLM3's SentencePiece tokenizer: ChatGLM, except the glm-4-9b preset (glm-4-9b-chat has GLM-4's tokenizer).</summary>
    internal static bool UsesSentencePiece(RandomCheckpointOptions options) =>
        options.Architecture == GlmArchitecture.ChatGlm && !options.Preset.Equals("glm-4-9b", StringComparison.OrdinalIgnoreCase);

    internal static void Write(RandomCheckpointOptions options, string outputDirectory, CancellationToken cancellationToken, IProgress<ModelBuildProgress>? progress = null)
    {
        string target = Path.GetFullPath(outputDirectory);
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
        {
            throw new IOException($"The output folder '{target}' already exists and is not empty. Choose a new folder or delete it first.");
        }

        GlmConfig config = ResolveConfig(options);
        bool edge = options.Preset.StartsWith("glm-edge", StringComparison.OrdinalIgnoreCase);
        string staging = StagingDirectory.Create(target);
        try
        {
            WriteConfig(Path.Combine(staging, "config.json"), config);
            WriteGenerationConfig(Path.Combine(staging, "generation_config.json"), config);
            if (UsesSentencePiece(options))
            {
                int pieceCount = config.VocabSize - SentencePieceModelTrainer.SpecialTokens.Count;
                var pieces = SentencePieceModelTrainer.Train(BuiltInCorpus.Text, pieceCount, removeExtraWhitespaces: false, cancellationToken);
                SentencePieceModelTrainer.WriteModel(Path.Combine(staging, "tokenizer.model"), pieces, removeExtraWhitespaces: false);
                SentencePieceModelTrainer.WriteTokenizerConfig(Path.Combine(staging, "tokenizer_config.json"));
            }
            else
            {
                var tokenizer = BpeTokenizerTrainer.Train(BuiltInCorpus.Text, config.VocabSize, cancellationToken);
                tokenizer.WriteTokenizerJson(Path.Combine(staging, "tokenizer.json"));
                tokenizer.WriteTokenizerConfig(Path.Combine(staging, "tokenizer_config.json"), chatPrefix: !edge);
            }
            WriteWeights(Path.Combine(staging, "model.safetensors"), config, options.Seed, options.InitializerRange, ParseDType(options.WeightDType), progress, cancellationToken);
            StagingDirectory.Commit(staging, target);
        }
        catch
        {
            StagingDirectory.TryDelete(staging);
            throw;
        }
    }

    internal static IReadOnlyList<(string Name, long[] Shape, RandomTensorKind Kind)> TensorList(GlmConfig c)
    {
        var names = new GlmWeightNames(c.Architecture);
        var list = new List<(string, long[], RandomTensorKind)> { (names.Embedding, [c.VocabSize, c.HiddenSize], RandomTensorKind.Matrix) };
        for (int i = 0; i < c.NumLayers; i++)
        {
            list.Add((names.InputNorm(i), [c.HiddenSize], RandomTensorKind.Norm));
            if (c.Architecture == GlmArchitecture.ChatGlm)
            {
                list.Add((names.FusedQkv(i, "weight"), [c.QkvSize, c.HiddenSize], RandomTensorKind.Matrix));
                if (c.QkvBias)
                {
                    list.Add((names.FusedQkv(i, "bias"), [c.QkvSize], RandomTensorKind.Bias));
                }
            }
            else
            {
                foreach ((char p, int size) in new[] { ('q', c.QSize), ('k', c.KvSize), ('v', c.KvSize) })
                {
                    list.Add((names.Projection(i, p, "weight"), [size, c.HiddenSize], RandomTensorKind.Matrix));
                    if (c.QkvBias)
                    {
                        list.Add((names.Projection(i, p, "bias"), [size], RandomTensorKind.Bias));
                    }
                }
            }

            list.Add((names.OutputProjection(i), [c.HiddenSize, c.QSize], RandomTensorKind.Matrix));
            if (c.Architecture == GlmArchitecture.Glm4)
            {
                list.Add((names.PostSelfAttentionNorm(i), [c.HiddenSize], RandomTensorKind.Norm));
            }

            list.Add((names.PostAttentionNorm(i), [c.HiddenSize], RandomTensorKind.Norm));
            list.Add((names.GateUp(i), [2L * c.IntermediateSize, c.HiddenSize], RandomTensorKind.Matrix));
            list.Add((names.Down(i), [c.HiddenSize, c.IntermediateSize], RandomTensorKind.Matrix));
            if (c.Architecture == GlmArchitecture.Glm4)
            {
                list.Add((names.PostMlpNorm(i), [c.HiddenSize], RandomTensorKind.Norm));
            }
        }

        list.Add((names.FinalNorm, [c.HiddenSize], RandomTensorKind.Norm));
        if (!c.TieWordEmbeddings)
        {
            list.Add((names.LmHead, [c.VocabSize, c.HiddenSize], RandomTensorKind.Matrix));
        }

        return list;
    }

    private static SafetensorsDType ParseDType(string text) => text.ToUpperInvariant() switch
    {
        "F32" => SafetensorsDType.F32,
        "F16" => SafetensorsDType.F16,
        "BF16" => SafetensorsDType.BF16,
        _ => throw new ArgumentException($"Unknown weight dtype '{text}'. Use F32, F16 or BF16."),
    };

    private static void WriteWeights(string path, GlmConfig config, ulong seed, double std, SafetensorsDType dtype, IProgress<ModelBuildProgress>? progress, CancellationToken cancellationToken)
    {
        IReadOnlyList<(string Name, long[] Shape, RandomTensorKind Kind)> tensors = TensorList(config);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long totalBytes = tensors.Sum(t => t.Shape.Aggregate(1L, (a, b) => a * b)) * SafetensorsWriter.ElementSize(dtype);
        long writtenBytes = 0;
        int tensorsDone = 0;
        using var writer = new SafetensorsWriter(path, tensors.Select(t => (t.Name, dtype, t.Shape)).ToList(), new Dictionary<string, string> { ["format"] = "pt" });
        float[] chunk = new float[1 << 16];
        foreach ((string name, long[] shape, RandomTensorKind kind) in tensors)
        {
            cancellationToken.ThrowIfCancellationRequested();
            SplitMix64 random = SplitMix64.ForName(seed, name);
            long count = shape.Aggregate(1L, (a, b) => a * b);
            for (long done = 0; done < count; done += chunk.Length)
            {
                int n = (int)Math.Min(chunk.Length, count - done);
                for (int i = 0; i < n; i++)
                {
                    double z = random.NextNormal();
                    chunk[i] = kind switch
                    {
                        // Norm weights near one (not exactly one) so a mis-wired norm shows up in parity tests.
                        RandomTensorKind.Norm => (float)(1.0 + (0.1 * z)),
                        RandomTensorKind.Bias => (float)(0.1 * z),
                        _ => (float)(std * z),
                    };
                }

                writer.Append(chunk.AsSpan(0, n));
                writtenBytes += (long)n * SafetensorsWriter.ElementSize(dtype);
            }

            progress?.Report(new ModelBuildProgress(++tensorsDone, tensors.Count, writtenBytes, totalBytes, clock.Elapsed, name));
        }

        writer.Complete();
    }

    private static void WriteConfig(string path, GlmConfig c)
    {
        using FileStream stream = new(path, FileMode.CreateNew, FileAccess.Write);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        if (c.Architecture == GlmArchitecture.ChatGlm)
        {
            w.WriteStartArray("architectures");
            w.WriteStringValue("ChatGLMModel");
            w.WriteEndArray();
            w.WriteString("model_type", "chatglm");
            w.WriteNumber("num_layers", c.NumLayers);
            w.WriteNumber("hidden_size", c.HiddenSize);
            w.WriteNumber("ffn_hidden_size", c.IntermediateSize);
            w.WriteNumber("kv_channels", c.HeadDim);
            w.WriteNumber("num_attention_heads", c.NumHeads);
            w.WriteBoolean("multi_query_attention", true);
            w.WriteNumber("multi_query_group_num", c.NumKvHeads);
            w.WriteNumber("padded_vocab_size", c.VocabSize);
            w.WriteNumber("seq_length", c.MaxPositions);
            w.WriteNumber("layernorm_epsilon", c.RmsNormEps);
            w.WriteNumber("rope_ratio", c.RopeTheta / 10000.0);
            w.WriteBoolean("add_qkv_bias", c.QkvBias);
            w.WriteBoolean("add_bias_linear", false);
            w.WriteBoolean("rmsnorm", true);
            w.WriteBoolean("post_layer_norm", true);
            w.WriteBoolean("original_rope", true);
            w.WriteBoolean("apply_residual_connection_post_layernorm", false);
            w.WriteBoolean("tie_word_embeddings", false);
        }
        else
        {
            w.WriteStartArray("architectures");
            w.WriteStringValue(c.Architecture == GlmArchitecture.Glm4 ? "Glm4ForCausalLM" : "GlmForCausalLM");
            w.WriteEndArray();
            w.WriteString("model_type", c.ModelType);
            w.WriteNumber("vocab_size", c.VocabSize);
            w.WriteNumber("hidden_size", c.HiddenSize);
            w.WriteNumber("intermediate_size", c.IntermediateSize);
            w.WriteNumber("num_hidden_layers", c.NumLayers);
            w.WriteNumber("num_attention_heads", c.NumHeads);
            w.WriteNumber("num_key_value_heads", c.NumKvHeads);
            w.WriteNumber("head_dim", c.HeadDim);
            w.WriteNumber("partial_rotary_factor", (double)c.RotaryDim / c.HeadDim);
            w.WriteString("hidden_act", "silu");
            w.WriteNumber("max_position_embeddings", c.MaxPositions);
            w.WriteNumber("rms_norm_eps", c.RmsNormEps);
            w.WriteNumber("rope_theta", c.RopeTheta);
            w.WriteBoolean("attention_bias", c.QkvBias);
            w.WriteBoolean("tie_word_embeddings", c.TieWordEmbeddings);
            w.WriteNumber("initializer_range", 0.02);
        }

        w.WriteStartArray("eos_token_id");
        foreach (int id in c.EosTokenIds)
        {
            w.WriteNumberValue(id);
        }

        w.WriteEndArray();
        w.WriteNumber("pad_token_id", c.PadTokenId ?? 0);
        w.WriteString("torch_dtype", "float32");
        w.WriteString("transformers_version", "4.46.0");
        w.WriteEndObject();
    }

    private static void WriteGenerationConfig(string path, GlmConfig c)
    {
        using FileStream stream = new(path, FileMode.CreateNew, FileAccess.Write);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteBoolean("do_sample", true);
        w.WriteStartArray("eos_token_id");
        foreach (int id in c.EosTokenIds)
        {
            w.WriteNumberValue(id);
        }

        w.WriteEndArray();
        w.WriteNumber("pad_token_id", c.PadTokenId ?? 0);
        w.WriteNumber("temperature", 0.8);
        w.WriteNumber("top_p", 0.8);
        w.WriteNumber("max_length", c.MaxPositions);
        w.WriteEndObject();
    }
}
