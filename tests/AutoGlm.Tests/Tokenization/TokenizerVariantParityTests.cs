using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AutoGlm.Tokenization;

namespace AutoGlm.Tests.Tokenization;

/// <summary>
/// Variants of the Llama-3 tokenizer.json that switch on the other components GLM and Qwen files use: BPE without
/// ignore_merges, the Qwen2 split pattern with an NFC normalizer, and GPT-2's ByteLevel regex. Written once to a
/// temporary folder and encoded once by the reference.
/// </summary>
public sealed partial class TokenizerVariantFixture : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"autoglm-variants-{Guid.NewGuid():N}");
    private readonly Lazy<IReadOnlyList<Variant>> _variants;

    public TokenizerVariantFixture() => _variants = new(Create);

    internal IReadOnlyList<Variant> Variants => _variants.Value;

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [GeneratedRegex(@"""pre_tokenizer"": \{.*?\n  \},\n", RegexOptions.Singleline)]
    private static partial Regex PreTokenizerSection();

    private List<Variant> Create()
    {
        string original = File.ReadAllText(Path.Combine(NodeReference.Llama3Folder, "tokenizer.json"));
        string config = Path.Combine(NodeReference.Llama3Folder, "tokenizer_config.json");
        var edits = new (string Name, Func<string, string> Edit)[]
        {
            ("merges only", text => Replace(text, "\"ignore_merges\": true", "\"ignore_merges\": false")),
            ("Qwen2 digits + NFC", text => Replace(Replace(text, @"\\p{N}{1,3}", @"\\p{N}"), "\"normalizer\": null", "\"normalizer\": {\"type\": \"NFC\"}")),
            ("GPT-2 ByteLevel regex", text => PreTokenizerSection().Replace(text, "\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": true},\n", 1)),
        };

        Directory.CreateDirectory(_folder);
        var variants = new List<Variant>();
        var request = new JsonArray();
        foreach ((string name, Func<string, string> edit) in edits)
        {
            string path = Path.Combine(_folder, $"{variants.Count}.json");
            File.WriteAllText(path, edit(original));
            variants.Add(new Variant(name, path, Tokenizer.Load(path), []));
            request.Add(new JsonObject
            {
                ["json"] = path,
                ["config"] = config,
                ["texts"] = new JsonArray([.. ParityCorpus.Texts.Select(t => (JsonNode)t)]),
            });
        }

        JsonArray results = NodeReference.Run(new JsonObject { ["tokenizers"] = request })["tokenizers"]!.AsArray();
        for (int i = 0; i < variants.Count; i++)
        {
            variants[i] = variants[i] with { Expected = [.. results[i]!.AsArray().Select(e => e!["ids"]!.AsArray().Select(n => (int)n!).ToArray())] };
        }

        return variants;
    }

    private static string Replace(string text, string from, string to) =>
        text.Contains(from, StringComparison.Ordinal) ? text.Replace(from, to, StringComparison.Ordinal) : throw new InvalidOperationException($"'{from}' is not in the Llama-3 tokenizer.json");

    internal sealed record Variant(string Name, string Path, Tokenizer Tokenizer, int[][] Expected);
}

public sealed class TokenizerVariantParityTests(TokenizerVariantFixture fixture) : IClassFixture<TokenizerVariantFixture>
{
    [NodeFact]
    public void Encode_EveryVariant_MatchesReferenceIds()
    {
        Assert.Equal(3, fixture.Variants.Count);
        foreach (TokenizerVariantFixture.Variant variant in fixture.Variants)
        {
            for (int i = 0; i < ParityCorpus.Texts.Count; i++)
            {
                int[] actual = [.. variant.Tokenizer.Encode(ParityCorpus.Texts[i])];
                Assert.True(variant.Expected[i].SequenceEqual(actual), $"{variant.Name}, text #{i} {System.Text.Json.JsonSerializer.Serialize(ParityCorpus.Texts[i])}\nexpected {string.Join(',', variant.Expected[i])}\nactual   {string.Join(',', actual)}");
            }
        }
    }

    [NodeFact]
    public void Encode_RegexSplitterOnBasicPlaneText_MatchesHandWrittenSplitters()
    {
        // .NET regex sees UTF-16 units, so only text without surrogate pairs is expected to agree.
        string[] texts = [.. ParityCorpus.Texts.Where(t => !t.Any(char.IsSurrogate))];
        Assert.True(texts.Length > 40);
        foreach ((string path, Tokenizer handWritten) in (ReadOnlySpan<(string, Tokenizer)>)[(Path.Combine(NodeReference.Llama3Folder, "tokenizer.json"), NodeReference.Llama3Tokenizer), (fixture.Variants[2].Path, fixture.Variants[2].Tokenizer)])
        {
            Tokenizer regex = TokenizerJsonReader.Load(path, handWrittenPatterns: false, cachePieces: false);
            foreach (string text in texts)
            {
                Assert.Equal(handWritten.Encode(text), regex.Encode(text));
            }
        }
    }
}
