using System.Text.Json;

namespace AutoGlm.ModelBuilder.Checkpoints;

/// <summary>Reads a Hugging Face <c>config.json</c> of a GLM checkpoint (<c>glm</c>, <c>glm4</c> or <c>chatglm</c>) into a <see cref="GlmConfig"/>.</summary>
internal static class GlmConfigReader
{
    public const string SupportedModelTypes = "glm (GlmForCausalLM), glm4 (Glm4ForCausalLM), chatglm (ChatGLMModel)";

    public static GlmConfig Read(string configPath)
    {
        if (!File.Exists(configPath))
        {
            throw new ModelLoadException($"The checkpoint has no config file '{configPath}'. A Hugging Face checkpoint folder needs config.json next to its safetensors files.");
        }

        byte[] bytes = File.ReadAllBytes(configPath);
        int bad = AutoGlm.Tokenization.JsonText.FindInvalidUtf8(bytes);
        if (bad >= 0)
        {
            throw new ModelLoadException($"Config file '{configPath}' is not valid UTF-8 (the first bad byte is at offset {bad}); the file is damaged or was saved in another encoding. Download it again or save it as UTF-8.");
        }

        try
        {
            using JsonDocument doc = JsonDocument.Parse(bytes);
            if (AutoGlm.Tokenization.JsonText.FindInvalidString(doc.RootElement) is { } invalid)
            {
                throw new ModelLoadException($"Config file '{configPath}': the string at '{invalid.Path}' is not valid text ({invalid.Problem}). Download the file again.");
            }

            return Parse(doc.RootElement, configPath);
        }
        catch (JsonException ex)
        {
            throw new ModelLoadException($"Config file '{configPath}' is not valid JSON: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException)
        {
            // A field of the wrong JSON type (a number where a string belongs) or a number too large for its type.
            throw new ModelLoadException($"Config file '{configPath}' has a field of the wrong type or out of range: {ex.Message}. Check the file against the checkpoint's published config.json.", ex);
        }
    }

    public static GlmConfig Parse(JsonElement root, string configPath)
    {
        string modelType = root.TryGetProperty("model_type", out JsonElement mt) ? mt.GetString() ?? string.Empty : string.Empty;
        return modelType switch
        {
            "glm" => ParseGlm(root, configPath, GlmArchitecture.Glm),
            "glm4" => ParseGlm(root, configPath, GlmArchitecture.Glm4),
            "chatglm" => ParseChatGlm(root, configPath),
            _ => throw new ModelLoadException($"Config file '{configPath}' has model_type '{modelType}', which the builder cannot convert. Supported: {SupportedModelTypes}."),
        };
    }

    private static GlmConfig ParseGlm(JsonElement root, string path, GlmArchitecture architecture)
    {
        int hidden = RequiredInt(root, "hidden_size", path);
        int heads = RequiredInt(root, "num_attention_heads", path);
        int headDim = OptionalInt(root, "head_dim") ?? (hidden / heads);
        JsonElement rope = root.TryGetProperty("rope_parameters", out JsonElement rp) && rp.ValueKind == JsonValueKind.Object ? rp : root;
        double factor = OptionalDouble(rope, "partial_rotary_factor") ?? OptionalDouble(root, "partial_rotary_factor") ?? 0.5;
        double theta = OptionalDouble(rope, "rope_theta") ?? OptionalDouble(root, "rope_theta") ?? 10000.0;
        int vocab = RequiredInt(root, "vocab_size", path);
        return Validate(new GlmConfig
        {
            Architecture = architecture,
            VocabSize = vocab,
            HiddenSize = hidden,
            IntermediateSize = RequiredInt(root, "intermediate_size", path),
            NumLayers = RequiredInt(root, "num_hidden_layers", path),
            NumHeads = heads,
            NumKvHeads = OptionalInt(root, "num_key_value_heads") ?? heads,
            HeadDim = headDim,
            RotaryDim = (int)Math.Round(headDim * factor),
            RopeTheta = theta,
            RmsNormEps = OptionalDouble(root, "rms_norm_eps") ?? 1e-5,
            MaxPositions = OptionalInt(root, "max_position_embeddings") ?? 8192,
            QkvBias = OptionalBool(root, "attention_bias") ?? false,
            TieWordEmbeddings = OptionalBool(root, "tie_word_embeddings") ?? false,
            EosTokenIds = IntList(root, "eos_token_id"),
            BosTokenId = OptionalInt(root, "bos_token_id"),
            PadTokenId = OptionalInt(root, "pad_token_id"),
        }, path);
    }

    private static GlmConfig ParseChatGlm(JsonElement root, string path)
    {
        int hidden = RequiredInt(root, "hidden_size", path);
        int heads = RequiredInt(root, "num_attention_heads", path);
        int headDim = OptionalInt(root, "kv_channels") ?? (hidden / heads);
        bool multiQuery = OptionalBool(root, "multi_query_attention") ?? true;
        int kvHeads = multiQuery ? OptionalInt(root, "multi_query_group_num") ?? heads : heads;
        double ropeRatio = OptionalDouble(root, "rope_ratio") ?? 1.0;
        return Validate(new GlmConfig
        {
            Architecture = GlmArchitecture.ChatGlm,
            VocabSize = OptionalInt(root, "padded_vocab_size") ?? RequiredInt(root, "vocab_size", path),
            HiddenSize = hidden,
            IntermediateSize = RequiredInt(root, "ffn_hidden_size", path),
            NumLayers = RequiredInt(root, "num_layers", path),
            NumHeads = heads,
            NumKvHeads = kvHeads,
            HeadDim = headDim,
            RotaryDim = headDim / 2,
            RopeTheta = 10000.0 * ropeRatio,
            RmsNormEps = OptionalDouble(root, "layernorm_epsilon") ?? 1e-5,
            MaxPositions = OptionalInt(root, "seq_length") ?? 8192,
            QkvBias = OptionalBool(root, "add_qkv_bias") ?? false,
            TieWordEmbeddings = false,
            EosTokenIds = IntList(root, "eos_token_id"),
            BosTokenId = OptionalInt(root, "bos_token_id"),
            PadTokenId = OptionalInt(root, "pad_token_id"),
        }, path);
    }

    private static GlmConfig Validate(GlmConfig c, string path)
    {
        if (c.NumHeads <= 0 || c.NumKvHeads <= 0 || c.NumHeads % c.NumKvHeads != 0)
        {
            throw new ModelLoadException($"Config file '{path}': {c.NumHeads} attention heads cannot be grouped over {c.NumKvHeads} key/value heads; num_attention_heads must be a positive multiple of the key/value head count.");
        }

        if (c.RotaryDim % 2 != 0 || c.RotaryDim <= 0 || c.RotaryDim > c.HeadDim)
        {
            throw new ModelLoadException($"Config file '{path}': the rotary dimension {c.RotaryDim} (head_dim {c.HeadDim} × partial_rotary_factor) must be even, positive and at most head_dim.");
        }

        if (c.HiddenSize <= 0 || c.IntermediateSize <= 0 || c.NumLayers <= 0 || c.VocabSize <= 0 || c.HeadDim <= 0)
        {
            throw new ModelLoadException($"Config file '{path}': hidden size, intermediate size, layer count, vocabulary size and head dimension must be positive.");
        }

        foreach ((string field, int value, int max) in new (string, int, int)[]
        {
            ("num_hidden_layers", c.NumLayers, AutoGlm.Models.ModelLimits.MaxLayers),
            ("num_attention_heads", c.NumHeads, AutoGlm.Models.ModelLimits.MaxHeads),
            ("head_dim", c.HeadDim, AutoGlm.Models.ModelLimits.MaxHeadSize),
            ("hidden_size", c.HiddenSize, AutoGlm.Models.ModelLimits.MaxHiddenSize),
            ("intermediate_size", c.IntermediateSize, AutoGlm.Models.ModelLimits.MaxHiddenSize * 8),
            ("vocab_size", c.VocabSize, AutoGlm.Models.ModelLimits.MaxVocabularySize),
        })
        {
            if (value > max)
            {
                throw new ModelLoadException($"Config file '{path}': {field} is {value}, more than the {max} AutoGlm can build or run. The file is damaged or describes a model this runtime cannot hold.");
            }
        }

        return c;
    }

    private static int RequiredInt(JsonElement root, string name, string path)
        => OptionalInt(root, name) ?? throw new ModelLoadException($"Config file '{path}' has no '{name}'; it is needed to convert the model.");

    private static int? OptionalInt(JsonElement root, string name)
        => root.TryGetProperty(name, out JsonElement e) && e.ValueKind == JsonValueKind.Number ? e.GetInt32() : null;

    private static double? OptionalDouble(JsonElement root, string name)
        => root.TryGetProperty(name, out JsonElement e) && e.ValueKind == JsonValueKind.Number ? e.GetDouble() : null;

    private static bool? OptionalBool(JsonElement root, string name)
        => root.TryGetProperty(name, out JsonElement e) && e.ValueKind is JsonValueKind.True or JsonValueKind.False ? e.GetBoolean() : null;

    private static int[] IntList(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out JsonElement e))
        {
            return [];
        }

        return e.ValueKind switch
        {
            JsonValueKind.Number => [e.GetInt32()],
            JsonValueKind.Array => e.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.Number).Select(x => x.GetInt32()).ToArray(),
            _ => [],
        };
    }
}
