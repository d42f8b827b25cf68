using System.Text.Json;
using AutoGlm.ModelBuilder.Checkpoints;
using AutoGlm.Runtime;

namespace AutoGlm.ModelBuilder;

/// <summary>
/// Writes <c>genai_config.json</c> in ONNX Runtime GenAI's schema for a built GLM decoder — only keys ONNX Runtime GenAI
/// 0.18 accepts, so its loader takes the folder unchanged — and AutoGlm's own metadata beside it in <c>autoglm_config.json</c>.
/// </summary>
internal static class GenAiConfigWriter
{
    public const string FileName = "genai_config.json";

    /// <summary>AutoGlm's own metadata (precision, KV type, architecture), kept out of ONNX Runtime GenAI's file, which rejects unknown keys.</summary>
    public const string AutoGlmFileName = "autoglm_config.json";

    /// <summary>
    /// ONNX Runtime GenAI's <c>model.type</c> for an architecture: it knows ChatGLM by name; GLM-Edge / GLM-4-0414
    /// (<c>glm</c>, <c>glm4</c>) are plain decoders for it, since the graph carries all of their math.
    /// </summary>
    public static string GenAiModelType(string architecture) => architecture == "chatglm" ? "chatglm" : "decoder";

    public static void Write(string path, GlmConfig config, int contextLength, TensorElementType kvType, ModelPrecision precision)
    {
        WriteGenAiConfig(path, config, contextLength);
        WriteAutoGlmConfig(Path.Combine(Path.GetDirectoryName(path)!, AutoGlmFileName), config, kvType, precision);
    }

    private static void WriteGenAiConfig(string path, GlmConfig config, int contextLength)
    {
        using FileStream stream = new(path, FileMode.CreateNew, FileAccess.Write);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteStartObject("model");
        if (config.BosTokenId is int bos)
        {
            w.WriteNumber("bos_token_id", bos);
        }

        w.WriteNumber("context_length", contextLength);
        w.WriteStartObject("decoder");
        w.WriteStartObject("session_options");
        w.WriteString("log_id", "onnxruntime-genai");
        w.WriteStartArray("provider_options");
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteString("filename", "model.onnx");
        w.WriteNumber("head_size", config.HeadDim);
        w.WriteNumber("hidden_size", config.HiddenSize);
        w.WriteStartObject("inputs");
        w.WriteString("input_ids", "input_ids");
        w.WriteString("attention_mask", "attention_mask");
        w.WriteString("position_ids", "position_ids");
        w.WriteString("past_key_names", "past_key_values.%d.key");
        w.WriteString("past_value_names", "past_key_values.%d.value");
        w.WriteEndObject();
        w.WriteStartObject("outputs");
        w.WriteString("logits", "logits");
        w.WriteString("present_key_names", "present.%d.key");
        w.WriteString("present_value_names", "present.%d.value");
        w.WriteEndObject();
        w.WriteNumber("num_attention_heads", config.NumHeads);
        w.WriteNumber("num_hidden_layers", config.NumLayers);
        w.WriteNumber("num_key_value_heads", config.NumKvHeads);
        w.WriteEndObject();
        w.WriteStartArray("eos_token_id");
        foreach (int id in config.EosTokenIds)
        {
            w.WriteNumberValue(id);
        }

        w.WriteEndArray();
        w.WriteNumber("pad_token_id", config.PadTokenId ?? (config.EosTokenIds.Count > 0 ? config.EosTokenIds[0] : 0));
        w.WriteString("type", GenAiModelType(config.ModelType));
        w.WriteNumber("vocab_size", config.VocabSize);
        w.WriteEndObject();
        w.WriteStartObject("search");
        w.WriteNumber("diversity_penalty", 0.0);
        w.WriteBoolean("do_sample", false);
        w.WriteBoolean("early_stopping", true);
        w.WriteNumber("length_penalty", 1.0);
        w.WriteNumber("max_length", contextLength);
        w.WriteNumber("min_length", 0);
        w.WriteNumber("no_repeat_ngram_size", 0);
        w.WriteNumber("num_beams", 1);
        w.WriteNumber("num_return_sequences", 1);
        w.WriteBoolean("past_present_share_buffer", true);
        w.WriteNumber("repetition_penalty", 1.0);
        w.WriteNumber("temperature", 1.0);
        w.WriteNumber("top_k", 1);
        w.WriteNumber("top_p", 1.0);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteAutoGlmConfig(string path, GlmConfig config, TensorElementType kvType, ModelPrecision precision)
    {
        using FileStream stream = new(path, FileMode.CreateNew, FileAccess.Write);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("architecture", config.ModelType);
        w.WriteString("precision", precision.ToString().ToLowerInvariant());
        w.WriteString("kv_cache_type", kvType == TensorElementType.Float16 ? "float16" : "float32");
        w.WriteString("padding_side", "right");
        w.WriteNumber("rotary_dim", config.RotaryDim);
        w.WriteNumber("rope_theta", config.RopeTheta);
        w.WriteNumber("rms_norm_eps", config.RmsNormEps);
        w.WriteEndObject();
    }
}
