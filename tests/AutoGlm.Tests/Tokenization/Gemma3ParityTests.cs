using System.Text.Json.Nodes;
using AutoGlm.Tokenization;

namespace AutoGlm.Tests.Tokenization;

/// <summary>Gemma-3's tokenizer.json (Replace normalizer, a no-op Split, 262k-token BPE with byte fallback, 6k added tokens) against @huggingface/tokenizers.</summary>
public sealed class Gemma3ParityTests
{
    private static readonly Lazy<(Tokenizer Tokenizer, JsonArray Encodings)> s_state = new(() =>
    {
        string folder = Path.Combine(NodeReference.PackageCache, "@lenml+tokenizer-gemma3@3.7.2", "package", "models");
        var request = new JsonObject
        {
            ["tokenizer"] = new JsonObject
            {
                ["json"] = Path.Combine(folder, "tokenizer.json"),
                ["config"] = Path.Combine(folder, "tokenizer_config.json"),
                ["texts"] = new JsonArray([.. SentencePieceCorpus.Texts.Select(t => (JsonNode)t)]),
            },
        };
        return (Tokenizer.Load(folder), NodeReference.Run(request)["encodings"]!.AsArray());
    });

    [NodeFact]
    public void EncodeAndDecode_Gemma3Corpus_MatchReference()
    {
        (Tokenizer tokenizer, JsonArray encodings) = s_state.Value;
        var failures = new List<string>();
        for (int i = 0; i < SentencePieceCorpus.Texts.Count; i++)
        {
            int[] expected = [.. encodings[i]!["ids"]!.AsArray().Select(n => (int)n!)];
            int[] actual = [.. tokenizer.Encode(SentencePieceCorpus.Texts[i])];
            if (!expected.SequenceEqual(actual))
            {
                failures.Add($"text #{i} {System.Text.Json.JsonSerializer.Serialize(SentencePieceCorpus.Texts[i])}\nexpected {string.Join(',', expected)}\nactual   {string.Join(',', actual)}");
            }
            else if ((string)encodings[i]!["decoded"]! != tokenizer.Decode(actual))
            {
                failures.Add($"text #{i} decodes to {System.Text.Json.JsonSerializer.Serialize(tokenizer.Decode(actual))}, reference {System.Text.Json.JsonSerializer.Serialize((string)encodings[i]!["decoded"]!)}");
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {SentencePieceCorpus.Texts.Count} differ:\n{string.Join('\n', failures.Take(5))}");
    }
}
