using System.Text.Json;

namespace AutoGlm.Models;

/// <summary>
/// Reads and checks a model folder (DESIGN.md decision 3) before anything is loaded: every required file
/// present, every field the runtime needs present and sane. Errors name the file and the field.
/// </summary>
internal static class ModelFolder
{
    public const string GenAiConfigFile = "genai_config.json";
    public const string AutoGlmConfigFile = "autoglm_config.json";
    public const string GenerationConfigFile = "generation_config.json";
    public const string ModelFile = "model.onnx";
    public const string WeightsFile = "model.onnx.data";

    /// <summary>Reads <paramref name="folder"/>.</summary>
    /// <exception cref="ModelLoadException">A file is missing or a field is missing or wrong.</exception>
    public static GlmModelInfo Read(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        string full = Path.GetFullPath(folder);
        if (File.Exists(full))
        {
            throw new ModelLoadException($"'{full}' is a file; pass the model folder that holds {ModelFile}, {GenAiConfigFile} and the tokenizer files.");
        }

        if (!Directory.Exists(full))
        {
            throw new ModelLoadException($"The model folder '{full}' does not exist. Build one with 'autoglm build --from CHECKPOINT --out {folder}' (or 'autoglm random' for a test model).");
        }

        Require(full, ModelFile);
        Require(full, GenAiConfigFile);
        if (!File.Exists(Path.Combine(full, "tokenizer.json")) && !File.Exists(Path.Combine(full, "tokenizer.model")))
        {
            throw new ModelLoadException($"The model folder '{full}' has no tokenizer: neither tokenizer.json nor tokenizer.model is there. Copy the checkpoint's tokenizer files into it.");
        }

        string genAiPath = Path.Combine(full, GenAiConfigFile);
        using JsonDocument genAi = Parse(genAiPath);
        JsonElement model = Object(genAi.RootElement, "model", genAiPath, "model");
        JsonElement decoder = Object(model, "decoder", genAiPath, "model.decoder");
        int layers = PositiveInt(decoder, "num_hidden_layers", genAiPath, "model.decoder.num_hidden_layers", ModelLimits.MaxLayers);
        int heads = PositiveInt(decoder, "num_attention_heads", genAiPath, "model.decoder.num_attention_heads", ModelLimits.MaxHeads);
        int kvHeads = PositiveInt(decoder, "num_key_value_heads", genAiPath, "model.decoder.num_key_value_heads", ModelLimits.MaxHeads);
        int headSize = PositiveInt(decoder, "head_size", genAiPath, "model.decoder.head_size", ModelLimits.MaxHeadSize);
        int hidden = PositiveInt(decoder, "hidden_size", genAiPath, "model.decoder.hidden_size", ModelLimits.MaxHiddenSize);
        int vocab = PositiveInt(model, "vocab_size", genAiPath, "model.vocab_size", ModelLimits.MaxVocabularySize);
        int context = PositiveInt(model, "context_length", genAiPath, "model.context_length", ModelLimits.MaxContextLength);
        if (heads % kvHeads != 0)
        {
            throw new ModelLoadException($"{genAiPath}: model.decoder.num_attention_heads ({heads}) is not a multiple of num_key_value_heads ({kvHeads}). The file is damaged or describes another architecture; rebuild the folder with 'autoglm build'.");
        }

        if (context < 2)
        {
            throw new ModelLoadException($"{genAiPath}: model.context_length is {context}, which leaves no room for a prompt and a generated token; it must be at least 2. Rebuild the folder with 'autoglm build'.");
        }

        IReadOnlyList<int> eos = model.TryGetProperty("eos_token_id", out JsonElement eosElement) ? Ids(eosElement, genAiPath, "model.eos_token_id", vocab) : [];

        // AutoGlm's own metadata lives in autoglm_config.json (ONNX Runtime GenAI rejects unknown keys in its file);
        // folders built before that kept it in genai_config.json's "autoglm" section.
        string metadataPath = Path.Combine(full, AutoGlmConfigFile);
        using JsonDocument? metadataFile = File.Exists(metadataPath) ? Parse(metadataPath) : null;
        JsonElement metadata = default;
        string metadataField = string.Empty;
        if (metadataFile is not null && metadataFile.RootElement.ValueKind == JsonValueKind.Object)
        {
            metadata = metadataFile.RootElement;
        }
        else if (genAi.RootElement.TryGetProperty("autoglm", out JsonElement legacy) && legacy.ValueKind == JsonValueKind.Object)
        {
            metadata = legacy;
            metadataPath = genAiPath;
            metadataField = "autoglm.";
        }

        string genAiType = model.TryGetProperty("type", out JsonElement type) && type.ValueKind == JsonValueKind.String ? type.GetString()! : "decoder";
        string modelType = genAiType is "glm" or "glm4" or "chatglm" ? genAiType : "glm";
        string precision = "fp32";
        bool kvFloat16 = false;
        if (metadata.ValueKind == JsonValueKind.Object)
        {
            if (metadata.TryGetProperty("architecture", out JsonElement arch) && arch.ValueKind == JsonValueKind.String)
            {
                modelType = arch.GetString() switch
                {
                    "glm" or "glm4" or "chatglm" => arch.GetString()!,
                    var other => throw new ModelLoadException($"{metadataPath}: {metadataField}architecture is '{other}'; expected 'glm', 'glm4' or 'chatglm'. Rebuild the folder with 'autoglm build'."),
                };
            }

            if (metadata.TryGetProperty("precision", out JsonElement p) && p.ValueKind == JsonValueKind.String)
            {
                precision = p.GetString()!;
            }

            if (metadata.TryGetProperty("kv_cache_type", out JsonElement kv) && kv.ValueKind == JsonValueKind.String)
            {
                kvFloat16 = kv.GetString() switch
                {
                    "float16" => true,
                    "float32" => false,
                    var other => throw new ModelLoadException($"{metadataPath}: {metadataField}kv_cache_type is '{other}'; expected 'float16' or 'float32'."),
                };
            }
        }

        string generationPath = Path.Combine(full, GenerationConfigFile);
        if (File.Exists(generationPath))
        {
            using JsonDocument generation = Parse(generationPath);
            if (generation.RootElement.TryGetProperty("eos_token_id", out JsonElement genEos))
            {
                eos = Ids(genEos, generationPath, "eos_token_id", vocab);
            }
        }

        return new GlmModelInfo
        {
            FolderPath = full,
            ModelType = modelType,
            LayerCount = layers,
            AttentionHeadCount = heads,
            KeyValueHeadCount = kvHeads,
            HeadSize = headSize,
            HiddenSize = hidden,
            VocabularySize = vocab,
            ContextLength = context,
            EosTokenIds = eos,
            Precision = precision,
            KvCacheIsFloat16 = kvFloat16,
        };
    }

    private static void Require(string folder, string file)
    {
        if (!File.Exists(Path.Combine(folder, file)))
        {
            throw new ModelLoadException($"The model folder '{folder}' has no {file}. Rebuild it with 'autoglm build'.");
        }
    }

    private static JsonDocument Parse(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ModelLoadException($"Cannot read {path}: {ex.Message}", ex);
        }

        // Strings are decoded lazily: bad UTF-8 or a lone surrogate escape would surface later as an InvalidOperationException naming no file.
        int bad = Tokenization.JsonText.FindInvalidUtf8(bytes);
        if (bad >= 0)
        {
            throw new ModelLoadException($"{path} is not valid UTF-8 (the first bad byte is at offset {bad}); the file is damaged or was saved in another encoding. Save it as UTF-8 or rebuild the folder with 'autoglm build'.");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException ex)
        {
            throw new ModelLoadException($"{path} is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}): {ex.Message}", ex);
        }

        if (Tokenization.JsonText.FindInvalidString(document.RootElement) is { } invalid)
        {
            document.Dispose();
            throw new ModelLoadException($"{path}: the string at '{invalid.Path}' is not valid text ({invalid.Problem}); JSON strings must not hold lone surrogate escapes such as \\ud800. Fix the file or rebuild the folder with 'autoglm build'.");
        }

        return document;
    }

    private static JsonElement Object(JsonElement parent, string name, string path, string field)
    {
        if (parent.ValueKind != JsonValueKind.Object || !parent.TryGetProperty(name, out JsonElement value) || value.ValueKind != JsonValueKind.Object)
        {
            throw new ModelLoadException($"{path}: the object '{field}' is missing.");
        }

        return value;
    }

    private static int PositiveInt(JsonElement parent, string name, string path, string field, int max)
    {
        if (!parent.TryGetProperty(name, out JsonElement value))
        {
            throw new ModelLoadException($"{path}: the field '{field}' is missing.");
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int number) || number <= 0)
        {
            string raw = value.GetRawText();
            throw new ModelLoadException($"{path}: the field '{field}' must be a positive integer of at most {max}, not {(raw.Length > 40 ? raw[..40] + "…" : raw)}. The file is damaged or hand-edited; rebuild the folder with 'autoglm build'.");
        }

        if (number > max)
        {
            throw new ModelLoadException($"{path}: the field '{field}' is {number}, more than the {max} AutoGlm can hold. The file is damaged or describes a model this runtime cannot run; rebuild the folder with 'autoglm build'.");
        }

        return number;
    }

    private static int[] Ids(JsonElement element, string path, string field, int vocab)
    {
        var ids = new List<int>();
        if (element.ValueKind == JsonValueKind.Number)
        {
            ids.Add(Id(element, path, field, vocab));
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement item in element.EnumerateArray())
            {
                ids.Add(Id(item, path, field, vocab));
            }
        }
        else if (element.ValueKind != JsonValueKind.Null)
        {
            throw new ModelLoadException($"{path}: '{field}' must be a token id or a list of them, not {element.GetRawText()}.");
        }

        return ids.ToArray();
    }

    private static int Id(JsonElement element, string path, string field, int vocab)
    {
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt32(out int id) || id < 0 || id >= vocab)
        {
            throw new ModelLoadException($"{path}: '{field}' holds {element.GetRawText()}, which is not a token id below the vocabulary size {vocab}.");
        }

        return id;
    }
}
