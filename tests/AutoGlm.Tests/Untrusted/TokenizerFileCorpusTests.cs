using System.Diagnostics;
using System.Text.Json.Nodes;
using AutoGlm.Tests.Tokenization;
using AutoGlm.Tokenization;

namespace AutoGlm.Tests.Untrusted;

/// <summary>
/// A corpus of hostile tokenizer files: out-of-range, duplicate and malformed ids, empty vocabularies, text that is not
/// UTF-8, catastrophic split patterns. Each fails with a TokenizerException naming the file and the field or value.
/// </summary>
public sealed class TokenizerFileCorpusTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"autoglm-tokfile-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    /// <summary>An edit of the tiny tokenizer.json and what the message must name.</summary>
    public static TheoryData<string, string> JsonEdits()
    {
        var data = new TheoryData<string, string>();
        foreach (string id in (string[])["-1", "2147483647", "4194304", "1.5", "\"7\"", "null", "true", "1e400", "9999999999"])
        {
            data.Add($"vocab a={id}", id == "null" ? "model.vocab[\"a\"]" : id is "4194304" or "2147483647" ? id : "model.vocab[\"a\"]");
            data.Add($"added id={id}", id is "4194304" or "2147483647" ? id : "added_tokens[0]");
        }

        data.Add("vocab duplicate id", "the id 97 to two tokens");
        data.Add("vocab empty", "empty vocabulary");
        data.Add("vocab not object", "model.vocab");
        data.Add("added duplicate id", "the id 300 to two added tokens");
        data.Add("added empty content", "empty content");
        data.Add("added no content", "added_tokens[0]");
        data.Add("added not array", "added_tokens");
        data.Add("pattern uncompilable", "cannot compile");
        data.Add("pattern too long", "of 5000 characters");
        data.Add("pattern not string", "pre_tokenizer.pretokenizers[0].pattern");
        data.Add("merges not array", "model.merges");
        data.Add("merge unknown token", "model.merges[0]");
        data.Add("merge one token", "model.merges[0]");
        data.Add("model missing", "model");
        data.Add("model unigram", "Unigram");
        data.Add("normalizer unknown", "normalizer.type");
        data.Add("decoder unknown", "decoder.type");
        data.Add("behavior unknown", "behavior");
        data.Add("no byte level", "no ByteLevel pre-tokenizer");
        data.Add("dropout", "model.dropout");
        data.Add("model is an array", "model");
        return data;
    }

    public static TheoryData<string, string> BadBytes => new()
    {
        // file, content with \xNN raw bytes
        { "tokenizer.json", "{\"model\":{\"type\":\"BP\\xFFE\"}}" },
        { "tokenizer.json", "{\"model\":{\"vocab\":{\"\\xC3\":1}}}" },
        { "tokenizer.json", "\\xFE\\xFF{}" },
        { "tokenizer.json", "{\"model\":{\"type\":\"\\ud800\"}}" },
        { "tokenizer.json", "{\"model\":{\"vocab\":{\"\\udfff\":1}}}" },
        { "tokenizer.json", "{\"added_tokens\":[{\"id\":1,\"content\":\"\\ud83d\"}]}" },
        { "tokenizer.json", "" },
        { "tokenizer.json", "{" },
        { "tokenizer_config.json", "{\"chat_template\":\"\\xC0\\xAF\"}" },
        { "tokenizer_config.json", "{\"chat_template\":\"\\ud800\"}" },
        { "tokenizer_config.json", "{\"eos_token\":\"\\udc00\"}" },
        { "tokenizer_config.json", "{\"added_tokens_decoder\":{\"1\":{\"content\":\"\\xED\\xA0\\x80\"}}}" },
    };

    [Theory]
    [MemberData(nameof(JsonEdits))]
    public void Load_HostileTokenizerJson_NamesFileAndField(string edit, string named)
    {
        JsonObject json = TokenizerTestFiles.CreateTinyTokenizerJson();
        Apply(json, edit);
        string path = TokenizerTestFiles.Write(_folder, "tokenizer.json", json.ToJsonString());

        var e = Assert.Throws<TokenizerException>(() => Tokenizer.Load(path));

        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(BadBytes))]
    public void Load_FileNotUtf8Text_NamesTheFile(string file, string content)
    {
        TokenizerTestFiles.Write(_folder, "tokenizer.json", TokenizerTestFiles.CreateTinyTokenizerJson().ToJsonString());
        string path = Path.Combine(_folder, file);
        File.WriteAllBytes(path, ModelFolderCorpusTests.Decode(content));

        var e = Assert.Throws<TokenizerException>(() => file == "tokenizer.json" ? Tokenizer.Load(_folder) : (object?)TokenizerConfigFile.Load(path));

        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("(a+)+$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab")]
    [InlineData("(a|aa)+$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab")]
    [InlineData("(\\w+\\s?)+$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!")]
    public void Encode_CatastrophicSplitPattern_FailsFastNamingThePattern(string pattern, string text)
    {
        JsonObject json = TokenizerTestFiles.CreateTinyTokenizerJson();
        json["pre_tokenizer"]!["pretokenizers"]![0]!["pattern"] = new JsonObject { ["Regex"] = pattern };
        string path = TokenizerTestFiles.Write(_folder, "tokenizer.json", json.ToJsonString());
        Tokenizer tokenizer = Tokenizer.Load(path);
        var watch = Stopwatch.StartNew();

        var e = Assert.Throws<TokenizerException>(() => tokenizer.Encode(text));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("backtracks catastrophically", e.Message, StringComparison.Ordinal);
        Assert.Contains(pattern, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a 2147483647", "2147483647")]
    [InlineData("a 4194304", "4194304")]
    [InlineData("a -1", "line 1")]
    [InlineData("a x", "line 1")]
    [InlineData("!!!! 1", "line 1")]
    [InlineData("", "no ranks")]
    public void Load_HostileTiktokenFile_NamesFileAndValue(string line, string named)
    {
        string path = TokenizerTestFiles.Write(_folder, "tokenizer.model", line);

        var e = Assert.Throws<TokenizerException>(() => Tokenizer.Load(path));

        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    private static void Apply(JsonObject json, string edit)
    {
        JsonObject model = json["model"]!.AsObject();
        JsonObject vocab = model["vocab"]!.AsObject();
        JsonArray added = json["added_tokens"]!.AsArray();
        JsonArray pre = json["pre_tokenizer"]!["pretokenizers"]!.AsArray();
        if (edit.StartsWith("vocab a=", StringComparison.Ordinal))
        {
            vocab["a"] = JsonNode.Parse(edit["vocab a=".Length..]);
            return;
        }

        if (edit.StartsWith("added id=", StringComparison.Ordinal))
        {
            added[0]!["id"] = JsonNode.Parse(edit["added id=".Length..]);
            return;
        }

        switch (edit)
        {
            case "vocab duplicate id": vocab["zz"] = 97; break;
            case "vocab empty": model["vocab"] = new JsonObject(); model["merges"] = new JsonArray(); break;
            case "vocab not object": model["vocab"] = new JsonArray(); break;
            case "added duplicate id": added[1]!["id"] = 300; break;
            case "added empty content": added[0]!["content"] = ""; break;
            case "added no content": added[0]!.AsObject().Remove("content"); break;
            case "added not array": json["added_tokens"] = new JsonObject(); break;
            case "pattern uncompilable": pre[0]!["pattern"] = new JsonObject { ["Regex"] = "(unclosed" }; break;
            case "pattern too long": pre[0]!["pattern"] = new JsonObject { ["Regex"] = new string('a', 5000) }; break;
            case "pattern not string": pre[0]!["pattern"] = new JsonObject { ["Regex"] = 5 }; break;
            case "merges not array": model["merges"] = new JsonObject(); break;
            case "merge unknown token": model["merges"]!.AsArray().Insert(0, "qqq rrr"); break;
            case "merge one token": model["merges"]!.AsArray().Insert(0, "abc"); break;
            case "model missing": json.Remove("model"); break;
            case "model unigram": model["type"] = "Unigram"; break;
            case "normalizer unknown": json["normalizer"] = new JsonObject { ["type"] = "Precompiled" }; break;
            case "decoder unknown": json["decoder"] = new JsonObject { ["type"] = "WordPiece" }; break;
            case "behavior unknown": pre[0]!["behavior"] = "MergedWithNext"; break;
            case "no byte level": pre.RemoveAt(1); break;
            case "dropout": model["dropout"] = 0.1; break;
            case "model is an array": json["model"] = new JsonArray(); break;
            default: throw new ArgumentException(edit);
        }
    }
}
