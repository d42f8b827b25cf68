using System.Text.Json.Nodes;
using AutoGlm.Tokenization;

namespace AutoGlm.Tests.Tokenization;

/// <summary>
/// Llama-2's tokenizer.json rewritten in the older Metaspace form (no normalizer; a Metaspace pre-tokenizer with each
/// prepend scheme; a Metaspace or Replace decoder), against @huggingface/tokenizers on the SentencePiece corpus.
/// Only <c>split: false</c> is compared: the JavaScript reference does not split at ▁ (the Rust library does, and so does AutoGlm).
/// </summary>
public sealed class MetaspaceParityTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("autoglm-metaspace-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [NodeTheory]
    [InlineData("always", true)]
    [InlineData("first", true)]
    [InlineData("first", false)]
    [InlineData("never", false)]
    public void Encode_MetaspaceForm_MatchesReference(string scheme, bool metaspaceDecoder)
    {
        string folder = Llama2ReferenceFixture.Folder;
        JsonObject json = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "tokenizer.json")))!.AsObject();
        json["normalizer"] = null;
        json["pre_tokenizer"] = new JsonObject { ["type"] = "Metaspace", ["replacement"] = "\u2581", ["prepend_scheme"] = scheme, ["split"] = false };
        if (metaspaceDecoder)
        {
            json["decoder"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["decoders"] = new JsonArray(
                    new JsonObject { ["type"] = "ByteFallback" },
                    new JsonObject { ["type"] = "Fuse" },
                    new JsonObject { ["type"] = "Metaspace", ["replacement"] = "\u2581", ["prepend_scheme"] = scheme, ["split"] = false }),
            };
        }

        string path = Path.Combine(_folder, "tokenizer.json");
        File.WriteAllText(path, json.ToJsonString());
        Tokenizer tokenizer = Tokenizer.Load(path);
        JsonArray reference = NodeReference.Run(new JsonObject
        {
            ["tokenizer"] = new JsonObject
            {
                ["json"] = path,
                ["config"] = Path.Combine(folder, "tokenizer_config.json"),
                ["texts"] = new JsonArray([.. SentencePieceCorpus.Texts.Select(t => (JsonNode)t)]),
            },
        })["encodings"]!.AsArray();

        var failures = new List<string>();
        for (int i = 0; i < SentencePieceCorpus.Texts.Count; i++)
        {
            int[] expected = [.. reference[i]!["ids"]!.AsArray().Select(n => (int)n!)];
            int[] actual = [.. tokenizer.Encode(SentencePieceCorpus.Texts[i])];
            if (!expected.SequenceEqual(actual))
            {
                failures.Add($"text #{i} {System.Text.Json.JsonSerializer.Serialize(SentencePieceCorpus.Texts[i])}\nexpected {string.Join(',', expected)}\nactual   {string.Join(',', actual)}");
            }
            else if ((string)reference[i]!["decoded"]! != tokenizer.Decode(actual))
            {
                failures.Add($"text #{i} decodes to {System.Text.Json.JsonSerializer.Serialize(tokenizer.Decode(actual))}, reference {System.Text.Json.JsonSerializer.Serialize((string)reference[i]!["decoded"]!)}");
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {SentencePieceCorpus.Texts.Count} differ:\n{string.Join('\n', failures.Take(5))}");
    }
}
