using System.Text.Json.Nodes;
using AutoGlm.Tokenization;

namespace AutoGlm.Tests.Tokenization;

/// <summary>Loads the Llama-3 tokenizer and the reference outputs once for the parity tests.</summary>
/// <remarks>The state is static: several test classes share one load of the 9 MB file and one node run.</remarks>
public sealed class Llama3ReferenceFixture
{
    private static readonly Lazy<(Tokenizer Tokenizer, JsonArray Encodings)> s_state = new(Create);

    internal Tokenizer Tokenizer => s_state.Value.Tokenizer;

    internal JsonArray Encodings => s_state.Value.Encodings;

    private static (Tokenizer, JsonArray) Create()
    {
        string folder = NodeReference.Llama3Folder;
        Tokenizer tokenizer = NodeReference.Llama3Tokenizer;
        var request = new JsonObject
        {
            ["tokenizer"] = new JsonObject
            {
                ["json"] = Path.Combine(folder, "tokenizer.json"),
                ["config"] = Path.Combine(folder, "tokenizer_config.json"),
                ["texts"] = new JsonArray([.. ParityCorpus.Texts.Select(t => (JsonNode)t)]),
            },
        };
        return (tokenizer, NodeReference.Run(request)["encodings"]!.AsArray());
    }
}

public sealed class Llama3ParityTests(Llama3ReferenceFixture fixture) : IClassFixture<Llama3ReferenceFixture>
{
    [NodeFact]
    public void Encode_Llama3Corpus_MatchesReferenceIds()
    {
        for (int i = 0; i < ParityCorpus.Texts.Count; i++)
        {
            int[] expected = [.. fixture.Encodings[i]!["ids"]!.AsArray().Select(n => (int)n!)];
            int[] actual = [.. fixture.Tokenizer.Encode(ParityCorpus.Texts[i])];
            Assert.True(expected.SequenceEqual(actual), $"text #{i} {Show(ParityCorpus.Texts[i])}\nexpected {string.Join(',', expected)}\nactual   {string.Join(',', actual)}");
        }
    }

    [NodeFact]
    public void Decode_Llama3Corpus_MatchesReferenceAndRoundTrips()
    {
        for (int i = 0; i < ParityCorpus.Texts.Count; i++)
        {
            int[] ids = [.. fixture.Tokenizer.Encode(ParityCorpus.Texts[i])];
            string decoded = fixture.Tokenizer.Decode(ids);
            Assert.Equal((string)fixture.Encodings[i]!["decoded"]!, decoded);
            Assert.Equal(ParityCorpus.Texts[i], decoded);
        }
    }

    [NodeFact]
    public void Encode_SpanAndListOverloads_GiveTheSameIds()
    {
        foreach (string text in ParityCorpus.Texts)
        {
            int[] expected = [.. fixture.Tokenizer.Encode(text)];
            var list = new List<int> { -1 };
            int appended = fixture.Tokenizer.Encode(text.AsSpan(), list);
            var span = new int[expected.Length + 3];
            int written = fixture.Tokenizer.Encode(text.AsSpan(), span.AsSpan());
            Assert.Equal(expected.Length, appended);
            Assert.Equal([-1, .. expected], list);
            Assert.Equal(expected, span[..written]);
            Assert.Equal(expected.Length, fixture.Tokenizer.CountTokens(text));
        }
    }

    private static string Show(string text) => System.Text.Json.JsonSerializer.Serialize(text);
}
