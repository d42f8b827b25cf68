using System.Text;
using System.Text.Json.Nodes;
using AutoGlm.Models;
using AutoGlm.Tests.Tokenization;

namespace AutoGlm.Tests.Untrusted;

/// <summary>
/// A corpus of hostile model folders: every number of genai_config.json out of range or of the wrong type, files that are
/// not UTF-8 text, stop ids outside the vocabulary. Each must fail with a ModelLoadException naming the file, the field and
/// the value before anything is allocated.
/// </summary>
public sealed class ModelFolderCorpusTests : IDisposable
{
    private static readonly (string Field, bool InDecoder)[] s_numbers =
    [
        ("num_hidden_layers", true), ("num_attention_heads", true), ("num_key_value_heads", true), ("head_size", true),
        ("hidden_size", true), ("vocab_size", false), ("context_length", false),
    ];

    private static readonly string[] s_badNumbers = ["0", "-1", "1000000000", "2147483648", "1e12", "1.5", "\"8\"", "null", "true", "[]", "{}", "1e400", "-2147483649"];

    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"autoglm-folder-{Guid.NewGuid():N}");

    public ModelFolderCorpusTests()
    {
        Directory.CreateDirectory(_folder);
        File.WriteAllBytes(Path.Combine(_folder, "model.onnx"), [0]);
        File.WriteAllText(Path.Combine(_folder, "tokenizer.json"), TokenizerTestFiles.CreateTinyTokenizerJson().ToJsonString());
    }

    public static TheoryData<string, string> BadNumbers()
    {
        var data = new TheoryData<string, string>();
        foreach ((string field, _) in s_numbers)
        {
            foreach (string value in s_badNumbers)
            {
                data.Add(field, value);
            }
        }

        return data;
    }

    public static TheoryData<string, string, string> BadFiles => new()
    {
        // file, content (\\xNN is a raw byte), what the message must name
        { "genai_config.json", "{\"model\":{\"type\":\"gl\\xFFm\"}}", "not valid UTF-8" },
        { "genai_config.json", "{\"model\":{\"ty\\xC3pe\":1}}", "not valid UTF-8" },
        { "genai_config.json", "\\xEF\\xBB\\xBF{\"model\":\\x80}", "not valid UTF-8" },
        { "genai_config.json", "{\"model\":{\"type\":\"\\ud800\"}}", "$.model.type" },
        { "genai_config.json", "{\"\\udc00\":1}", "not valid text" },
        { "genai_config.json", "{\"model\":", "not valid JSON" },
        { "genai_config.json", "", "not valid JSON" },
        { "genai_config.json", "[]", "the object 'model' is missing" },
        { "genai_config.json", "{\"model\":{}}", "the object 'model.decoder' is missing" },
        { "genai_config.json", new string('[', 100) + new string(']', 100), "not valid JSON" },
        { "generation_config.json", "{\"eos_token_id\":\"\\xFE\"}", "not valid UTF-8" },
        { "generation_config.json", "{\"eos_token_id\":\"\\ud800\"}", "$.eos_token_id" },
        { "generation_config.json", "{\"eos_token_id\":999999}", "999999" },
        { "generation_config.json", "{\"eos_token_id\":-1}", "-1" },
        { "generation_config.json", "{\"eos_token_id\":[1, 2147483647]}", "2147483647" },
        { "generation_config.json", "{\"eos_token_id\":\"2\"}", "\"2\"" },
        { "generation_config.json", "{\"eos_token_id\":1.5}", "1.5" },
    };

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [MemberData(nameof(BadNumbers))]
    public void Read_NumberOutOfRange_NamesFileFieldAndValue(string field, string value)
    {
        JsonObject config = ValidConfig();
        JsonNode parent = s_numbers.Single(n => n.Field == field).InDecoder ? config["model"]!["decoder"]! : config["model"]!;
        parent[field] = JsonNode.Parse(value);
        string path = Write("genai_config.json", config.ToJsonString());

        var e = Assert.Throws<ModelLoadException>(() => ModelFolder.Read(_folder));

        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains(field, e.Message, StringComparison.Ordinal);
        Assert.Contains(value.Length > 40 ? value[..40] : value, e.Message, StringComparison.Ordinal);
        Assert.Contains("rebuild", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("num_hidden_layers", 1025)]
    [InlineData("num_attention_heads", 1025)]
    [InlineData("head_size", 1025)]
    [InlineData("hidden_size", 131073)]
    [InlineData("vocab_size", 4194305)]
    [InlineData("context_length", 16777217)]
    public void Read_NumberJustAboveTheLimit_SaysWhatTheRuntimeHolds(string field, int value)
    {
        JsonObject config = ValidConfig();
        JsonNode parent = s_numbers.Single(n => n.Field == field).InDecoder ? config["model"]!["decoder"]! : config["model"]!;
        parent[field] = value;
        Write("genai_config.json", config.ToJsonString());

        var e = Assert.Throws<ModelLoadException>(() => ModelFolder.Read(_folder));

        Assert.Contains($"'{(parent == config["model"] ? "model" : "model.decoder")}.{field}' is {value}, more than the {value - 1} AutoGlm can hold", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Read_ContextTooShort_IsRejected(int context)
    {
        JsonObject config = ValidConfig();
        config["model"]!["context_length"] = context;
        Write("genai_config.json", config.ToJsonString());

        var e = Assert.Throws<ModelLoadException>(() => ModelFolder.Read(_folder));

        Assert.Contains("context_length", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_HeadsNotMultipleOfKvHeads_NamesBoth()
    {
        JsonObject config = ValidConfig();
        config["model"]!["decoder"]!["num_key_value_heads"] = 3;
        Write("genai_config.json", config.ToJsonString());

        var e = Assert.Throws<ModelLoadException>(() => ModelFolder.Read(_folder));

        Assert.Contains("num_attention_heads (4) is not a multiple of num_key_value_heads (3)", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void Read_BadFile_NamesTheFileAndTheProblem(string file, string content, string named)
    {
        Write("genai_config.json", ValidConfig().ToJsonString());
        string path = Path.Combine(_folder, file);
        File.WriteAllBytes(path, Decode(content));

        var e = Assert.Throws<ModelLoadException>(() => ModelFolder.Read(_folder));

        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_ValidFolder_Reads()
    {
        Write("genai_config.json", ValidConfig().ToJsonString());

        GlmModelInfo info = ModelFolder.Read(_folder);

        Assert.Equal(2, info.LayerCount);
        Assert.Equal(512, info.VocabularySize);
    }

    /// <summary>"\xNN" becomes the raw byte NN; everything else is UTF-8.</summary>
    internal static byte[] Decode(string content)
    {
        var bytes = new List<byte>();
        for (int i = 0; i < content.Length; i++)
        {
            if (content[i] == '\\' && i + 3 < content.Length && content[i + 1] == 'x')
            {
                bytes.Add(Convert.ToByte(content.Substring(i + 2, 2), 16));
                i += 3;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(content[i].ToString()));
            }
        }

        return [.. bytes];
    }

    private static JsonObject ValidConfig() => new()
    {
        ["model"] = new JsonObject
        {
            ["type"] = "glm",
            ["vocab_size"] = 512,
            ["context_length"] = 128,
            ["eos_token_id"] = 1,
            ["decoder"] = new JsonObject
            {
                ["num_hidden_layers"] = 2,
                ["num_attention_heads"] = 4,
                ["num_key_value_heads"] = 2,
                ["head_size"] = 16,
                ["hidden_size"] = 64,
            },
        },
    };

    private string Write(string name, string content)
    {
        string path = Path.Combine(_folder, name);
        File.WriteAllText(path, content);
        return path;
    }
}
