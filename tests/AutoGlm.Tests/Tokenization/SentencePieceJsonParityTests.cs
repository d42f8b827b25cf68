using System.Text.Json.Nodes;
using AutoGlm.Tokenization;

namespace AutoGlm.Tests.Tokenization;

/// <summary>Loads Llama-2's SentencePiece-style tokenizer.json and the reference outputs once.</summary>
public sealed class Llama2ReferenceFixture
{
    private static readonly Lazy<(Tokenizer Tokenizer, JsonArray Encodings)> s_state = new(Create);

    internal Tokenizer Tokenizer => s_state.Value.Tokenizer;

    internal JsonArray Encodings => s_state.Value.Encodings;

    internal static string Folder => Path.Combine(NodeReference.PackageCache, "@lenml+tokenizer-llama2@3.7.2", "package", "models");

    private static (Tokenizer, JsonArray) Create()
    {
        var request = new JsonObject
        {
            ["tokenizer"] = new JsonObject
            {
                ["json"] = Path.Combine(Folder, "tokenizer.json"),
                ["config"] = Path.Combine(Folder, "tokenizer_config.json"),
                ["texts"] = new JsonArray([.. SentencePieceCorpus.Texts.Select(t => (JsonNode)t)]),
            },
        };
        return (Tokenizer.Load(Folder), NodeReference.Run(request)["encodings"]!.AsArray());
    }
}

/// <summary>Llama-2's tokenizer.json (Prepend/Replace normalizer, BPE over characters with byte fallback) against @huggingface/tokenizers.</summary>
public sealed class SentencePieceJsonParityTests(Llama2ReferenceFixture fixture) : IClassFixture<Llama2ReferenceFixture>
{
    [NodeFact]
    public void Encode_Llama2Corpus_MatchesReferenceIds()
    {
        var failures = new List<string>();
        for (int i = 0; i < SentencePieceCorpus.Texts.Count; i++)
        {
            int[] expected = [.. fixture.Encodings[i]!["ids"]!.AsArray().Select(n => (int)n!)];
            int[] actual = [.. fixture.Tokenizer.Encode(SentencePieceCorpus.Texts[i])];
            if (!expected.SequenceEqual(actual))
            {
                failures.Add($"text #{i} {Show(SentencePieceCorpus.Texts[i])}\nexpected {string.Join(',', expected)}\nactual   {string.Join(',', actual)}");
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {SentencePieceCorpus.Texts.Count} differ:\n{string.Join('\n', failures.Take(5))}");
    }

    [NodeFact]
    public void Encode_Llama2CorpusReachesByteFallback()
    {
        // The corpus must exercise the fallback, or the parity above would prove less than it claims.
        int byteToken = fixture.Tokenizer.TokenToId("<0xF0>")!.Value;
        Assert.Contains(SentencePieceCorpus.Texts, t => fixture.Tokenizer.Encode(t).Contains(byteToken));
    }

    [NodeFact]
    public void Decode_Llama2Corpus_MatchesReferenceAndRoundTrips()
    {
        for (int i = 0; i < SentencePieceCorpus.Texts.Count; i++)
        {
            string text = SentencePieceCorpus.Texts[i];
            int[] ids = [.. fixture.Tokenizer.Encode(text)];
            string decoded = fixture.Tokenizer.Decode(ids);
            Assert.Equal((string)fixture.Encodings[i]!["decoded"]!, decoded);

            // Added tokens written in the text get their own prepended ▁ (the reference decodes "<s>Hi" as "<s> Hi"),
            // and a ▁ written in the text decodes as a space.
            if (!text.Contains("<s>", StringComparison.Ordinal) && !text.Contains("</s>", StringComparison.Ordinal) && !text.Contains("<unk>", StringComparison.Ordinal) && !text.Contains('\u2581'))
            {
                Assert.Equal(text, decoded);
            }
        }
    }

    [NodeFact]
    public void IncrementalDecoder_Llama2Corpus_ConcatenatesToDecode()
    {
        for (int i = 0; i < SentencePieceCorpus.Texts.Count; i++)
        {
            IReadOnlyList<int> ids = fixture.Tokenizer.Encode(SentencePieceCorpus.Texts[i]);
            IncrementalDecoder decoder = fixture.Tokenizer.CreateIncrementalDecoder();
            var text = new System.Text.StringBuilder();
            foreach (int id in ids)
            {
                text.Append(decoder.Append(id));
            }

            text.Append(decoder.Flush());
            Assert.Equal(fixture.Tokenizer.Decode([.. ids]), text.ToString());
        }
    }

    private static string Show(string text) => System.Text.Json.JsonSerializer.Serialize(text.Length > 80 ? text[..80] : text);
}
