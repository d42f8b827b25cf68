using System.Globalization;
using System.Text.Json;

namespace AutoGlm.ModelBuilder.Random;

/// <summary>A trained byte-level BPE vocabulary with GLM special tokens, written as Hugging Face <c>tokenizer.json</c> and <c>tokenizer_config.json</c>.</summary>
internal sealed class TrainedBpeTokenizer
{
    public TrainedBpeTokenizer(IReadOnlyList<string> vocab, IReadOnlyList<(string Left, string Right)> merges, IReadOnlyList<string> specialTokens, IReadOnlyList<int> specialIds, string splitPattern)
    {
        Vocab = vocab;
        Merges = merges;
        SpecialTokens = specialTokens;
        SpecialIds = specialIds;
        SplitPattern = splitPattern;
    }

    /// <summary>Token strings (byte-level alphabet) by id.</summary>
    public IReadOnlyList<string> Vocab { get; }

    public IReadOnlyList<(string Left, string Right)> Merges { get; }

    public IReadOnlyList<string> SpecialTokens { get; }

    public IReadOnlyList<int> SpecialIds { get; }

    public string SplitPattern { get; }

    public void WriteTokenizerJson(string path)
    {
        using FileStream stream = new(path, FileMode.CreateNew, FileAccess.Write);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        w.WriteStartObject();
        w.WriteString("version", "1.0");
        w.WriteNull("truncation");
        w.WriteNull("padding");
        w.WriteStartArray("added_tokens");
        for (int i = 0; i < SpecialTokens.Count; i++)
        {
            w.WriteStartObject();
            w.WriteNumber("id", SpecialIds[i]);
            w.WriteString("content", SpecialTokens[i]);
            w.WriteBoolean("single_word", false);
            w.WriteBoolean("lstrip", false);
            w.WriteBoolean("rstrip", false);
            w.WriteBoolean("normalized", false);
            w.WriteBoolean("special", true);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteNull("normalizer");
        w.WriteStartObject("pre_tokenizer");
        w.WriteString("type", "Sequence");
        w.WriteStartArray("pretokenizers");
        w.WriteStartObject();
        w.WriteString("type", "Split");
        w.WriteStartObject("pattern");
        w.WriteString("Regex", SplitPattern);
        w.WriteEndObject();
        w.WriteString("behavior", "Isolated");
        w.WriteBoolean("invert", false);
        w.WriteEndObject();
        w.WriteStartObject();
        w.WriteString("type", "ByteLevel");
        w.WriteBoolean("add_prefix_space", false);
        w.WriteBoolean("trim_offsets", true);
        w.WriteBoolean("use_regex", false);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteNull("post_processor");
        w.WriteStartObject("decoder");
        w.WriteString("type", "ByteLevel");
        w.WriteBoolean("add_prefix_space", true);
        w.WriteBoolean("trim_offsets", true);
        w.WriteBoolean("use_regex", true);
        w.WriteEndObject();
        w.WriteStartObject("model");
        w.WriteString("type", "BPE");
        w.WriteNull("dropout");
        w.WriteNull("unk_token");
        w.WriteNull("continuing_subword_prefix");
        w.WriteNull("end_of_word_suffix");
        w.WriteBoolean("fuse_unk", false);
        w.WriteBoolean("byte_fallback", false);
        w.WriteBoolean("ignore_merges", false);
        w.WriteStartObject("vocab");
        for (int id = 0; id < Vocab.Count; id++)
        {
            w.WriteNumber(Vocab[id], id);
        }

        w.WriteEndObject();
        w.WriteStartArray("merges");
        foreach ((string left, string right) in Merges)
        {
            w.WriteStringValue(left + " " + right);
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <param name="path">Where to write.</param>
    /// <param name="chatPrefix">Whether prompts start with <c>[gMASK]&lt;sop&gt;</c> (GLM-4, ChatGLM; not GLM-Edge).</param>
    public void WriteTokenizerConfig(string path, bool chatPrefix)
    {
        using FileStream stream = new(path, FileMode.CreateNew, FileAccess.Write);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        w.WriteStartObject();
        w.WriteStartObject("added_tokens_decoder");
        for (int i = 0; i < SpecialTokens.Count; i++)
        {
            w.WriteStartObject(SpecialIds[i].ToString(CultureInfo.InvariantCulture));
            w.WriteString("content", SpecialTokens[i]);
            w.WriteBoolean("lstrip", false);
            w.WriteBoolean("normalized", false);
            w.WriteBoolean("rstrip", false);
            w.WriteBoolean("single_word", false);
            w.WriteBoolean("special", true);
            w.WriteEndObject();
        }

        w.WriteEndObject();
        w.WriteStartArray("additional_special_tokens");
        foreach (string token in SpecialTokens.Skip(1))
        {
            w.WriteStringValue(token);
        }

        w.WriteEndArray();
        string prefix = chatPrefix ? "[gMASK]<sop>" : string.Empty;
        w.WriteString("chat_template", prefix + "{% for message in messages %}<|{{ message['role'] }}|>\n{{ message['content'] }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}");
        w.WriteBoolean("clean_up_tokenization_spaces", false);
        w.WriteString("eos_token", "<|endoftext|>");
        w.WriteString("pad_token", "<|endoftext|>");
        w.WriteNumber("model_max_length", 128000);
        w.WriteString("padding_side", "left");
        w.WriteString("tokenizer_class", "PreTrainedTokenizerFast");
        w.WriteEndObject();
    }
}
