using System.Text.Json.Nodes;
using AutoGlm.Tokenization;

namespace AutoGlm.Tests.Tokenization;

/// <summary>
/// Byte-fallback runs that are not valid UTF-8 (what a model may generate) decode as each reference does:
/// @huggingface/tokenizers gives one U+FFFD per invalid sequence of a run (its TextDecoder), SentencePiece one per
/// invalid byte. Streaming decoding gives the same text.
/// </summary>
public sealed class ByteFallbackDecodeTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("autoglm-bytes-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>Sequences of byte values (0..255 as &lt;0xNN&gt;) and, as -1 and -2, two word tokens.</summary>
    private static readonly int[][] s_sequences =
    [
        [0xE4, 0xB8],
        [0xE4, 0xB8, 0xAD],
        [0xE4, 0xB8, -1],
        [0x41, 0xF0],
        [-1, 0x80, -2],
        [0xF0, 0x9F, 0x98, 0x80, 0x80],
        [0x20, 0xE4, 0xB8, 0xAD, 0xFF, 0x41],
        [0xC3, -2, 0xA9],
        [0xED, 0xA0, 0x80],
    ];

    [NodeFact]
    public void Decode_InvalidByteRuns_MatchHuggingFaceTokenizers()
    {
        string folder = Llama2ReferenceFixture.Folder;
        Tokenizer tokenizer = Tokenizer.Load(folder);
        int[][] sequences = [.. s_sequences.Select(s => Ids(tokenizer, s))];
        JsonArray reference = NodeReference.Run(new JsonObject
        {
            ["tokenizer"] = new JsonObject
            {
                ["json"] = Path.Combine(folder, "tokenizer.json"),
                ["config"] = Path.Combine(folder, "tokenizer_config.json"),
                ["texts"] = new JsonArray(),
                ["decodes"] = new JsonArray([.. sequences.Select(s => (JsonNode)new JsonArray([.. s.Select(id => (JsonNode)id)]))]),
            },
        })["encodings"]!.AsArray();

        AssertDecodes(tokenizer, sequences, reference);
    }

    [NodeFact]
    public void Decode_InvalidByteRuns_MatchSentencePiece()
    {
        string model = SentencePieceModelParityTests.ExtractPackagedLlamaModel(_folder);
        Tokenizer tokenizer = Tokenizer.Load(model);
        int[][] sequences = [.. s_sequences.Select(s => Ids(tokenizer, s))];
        JsonArray reference = NodeReference.Run(new JsonObject
        {
            ["sentencepiece"] = new JsonArray(new JsonObject
            {
                ["model"] = model,
                ["texts"] = new JsonArray(),
                ["decodes"] = new JsonArray([.. sequences.Select(s => (JsonNode)new JsonArray([.. s.Select(id => (JsonNode)id)]))]),
            }),
        })["sentencepiece"]![0]!.AsArray();

        AssertDecodes(tokenizer, sequences, reference);
    }

    private static void AssertDecodes(Tokenizer tokenizer, int[][] sequences, JsonArray reference)
    {
        Assert.Equal(sequences.Length, reference.Count);
        for (int i = 0; i < sequences.Length; i++)
        {
            string expected = (string)reference[i]!["decoded"]!;
            Assert.True(expected == tokenizer.Decode(sequences[i]), $"sequence #{i} [{string.Join(',', sequences[i])}]: expected {System.Text.Json.JsonSerializer.Serialize(expected)}, got {System.Text.Json.JsonSerializer.Serialize(tokenizer.Decode(sequences[i]))}");

            IncrementalDecoder decoder = tokenizer.CreateIncrementalDecoder();
            var streamed = new System.Text.StringBuilder();
            foreach (int id in sequences[i])
            {
                streamed.Append(decoder.Append(id));
            }

            streamed.Append(decoder.Flush());
            Assert.Equal(expected, streamed.ToString());
        }
    }

    private static int[] Ids(Tokenizer tokenizer, int[] sequence) =>
        [.. sequence.Select(b => b switch
        {
            -1 => tokenizer.TokenToId("\u2581x")!.Value,
            -2 => tokenizer.TokenToId("\u2581b")!.Value,
            _ => tokenizer.TokenToId($"<0x{b:X2}>")!.Value,
        })];
}
