using System.Text.Json.Nodes;

namespace AutoGlm.Tests.Tokenization;

/// <summary>Small tokenizer.json files written by the tests.</summary>
internal static class TokenizerTestFiles
{
    /// <summary>A byte-level BPE tokenizer.json with the 256 byte tokens, a few merges and GLM special tokens.</summary>
    public static JsonObject CreateTinyTokenizerJson()
    {
        var vocab = new JsonObject();
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            vocab[(printable ? (char)b : (char)next++).ToString()] = b;
        }

        // "Ġ" is the byte-level form of a space.
        string[] merged = ["he", "ll", "hell", "hello", "Ġw", "Ġwo"];
        string[][] merges = [["h", "e"], ["l", "l"], ["he", "ll"], ["hell", "o"], ["Ġ", "w"], ["Ġw", "o"]];
        for (int i = 0; i < merged.Length; i++)
        {
            vocab[merged[i]] = 256 + i;
        }

        return new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(
                AddedToken(300, "[gMASK]", special: true),
                AddedToken(301, "<sop>", special: true),
                AddedToken(302, "<|user|>", special: true),
                AddedToken(303, "<|assistant|>", special: true),
                AddedToken(304, "<think>", special: false)),
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject
                    {
                        ["type"] = "Split",
                        ["pattern"] = new JsonObject { ["Regex"] = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+" },
                        ["behavior"] = "Isolated",
                        ["invert"] = false,
                    },
                    new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = false }),
            },
            ["post_processor"] = null,
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel" },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["ignore_merges"] = false,
                ["vocab"] = vocab,
                ["merges"] = new JsonArray([.. merges.Select(m => (JsonNode)new JsonArray(m[0], m[1]))]),
            },
        };
    }

    public static string Write(string folder, string name, string content)
    {
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, name);
        File.WriteAllText(path, content);
        return path;
    }

    private static JsonObject AddedToken(int id, string content, bool special) => new()
    {
        ["id"] = id,
        ["content"] = content,
        ["single_word"] = false,
        ["lstrip"] = false,
        ["rstrip"] = false,
        ["normalized"] = false,
        ["special"] = special,
    };
}
