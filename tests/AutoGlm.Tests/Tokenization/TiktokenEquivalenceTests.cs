using System.Text;
using System.Text.Json.Nodes;
using AutoGlm.Tokenization;

namespace AutoGlm.Tests.Tokenization;

/// <summary>The Llama-3 vocabulary written as a tiktoken rank file must encode exactly like its tokenizer.json.</summary>
public sealed class TiktokenEquivalenceTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"autoglm-tiktoken-{Guid.NewGuid():N}");

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [NodeFact]
    public void Encode_RankFileAndTokenizerJson_GiveIdenticalIds()
    {
        Tokenizer json = NodeReference.Llama3Tokenizer;
        Tokenizer tiktoken = Tokenizer.Load(WriteRankFile(json));

        Assert.Equal(json.VocabularySize, tiktoken.VocabularySize);
        foreach (string text in ParityCorpus.Texts)
        {
            Assert.Equal(json.Encode(text), tiktoken.Encode(text));
            Assert.Equal(json.Encode(text, parseSpecialTokens: false), tiktoken.Encode(text, parseSpecialTokens: false));
            Assert.Equal(text, tiktoken.Decode([.. tiktoken.Encode(text)]));
        }

        Assert.Equal(json.TokenToId("Ġthe"), tiktoken.TokenToId("Ġthe"));
        Assert.Equal(json.IdToToken(128009), tiktoken.IdToToken(128009));
        Assert.True(tiktoken.IsSpecial(128009));
    }

    [Fact]
    public void Load_RankFileWithoutConfig_UsesGlm4SpecialTokensAfterTheRanks()
    {
        Directory.CreateDirectory(_folder);
        string path = Path.Combine(_folder, "tokenizer.model");
        var lines = new StringBuilder();
        for (int b = 0; b < 256; b++)
        {
            lines.Append(Convert.ToBase64String([(byte)b])).Append(' ').Append(b).Append('\n');
        }

        lines.Append(Convert.ToBase64String("ab"u8.ToArray())).Append(" 256\n");
        File.WriteAllText(path, lines.ToString());

        Tokenizer tokenizer = Tokenizer.Load(path);

        Assert.Equal(257 + 14, tokenizer.VocabularySize);
        Assert.Equal(257, tokenizer.TokenToId("<|endoftext|>"));
        Assert.Equal(259, tokenizer.TokenToId("[gMASK]"));
        Assert.Equal(261, tokenizer.TokenToId("<sop>"));
        Assert.Equal(264, tokenizer.TokenToId("<|user|>"));
        Assert.Equal([259, 261, 264, 10, 256, 99], tokenizer.Encode("[gMASK]<sop><|user|>\nabc"));
        Assert.Equal([(int)'[', (int)'g'], tokenizer.Encode("[gMASK]", parseSpecialTokens: false).Take(2));
        Assert.Equal("[gMASK]<sop><|user|>\nabc", tokenizer.Decode([259, 261, 264, 10, 256, 99]));
        Assert.Equal("\nabc", tokenizer.Decode([259, 261, 264, 10, 256, 99], skipSpecialTokens: true));
    }

    private string WriteRankFile(Tokenizer json)
    {
        Directory.CreateDirectory(_folder);
        var lines = new StringBuilder();
        var config = new JsonObject();
        var added = new JsonObject();
        for (int id = 0; id < json.VocabularySize; id++)
        {
            string token = json.IdToToken(id)!;
            if (json.IsSpecial(id))
            {
                added[id.ToString()] = new JsonObject { ["content"] = token, ["special"] = true };
                continue;
            }

            byte[] bytes = [.. token.Select(c => ByteOf(c))];
            lines.Append(Convert.ToBase64String(bytes)).Append(' ').Append(id).Append('\n');
        }

        config["added_tokens_decoder"] = added;
        File.WriteAllText(Path.Combine(_folder, "tokenizer.model"), lines.ToString());
        File.WriteAllText(Path.Combine(_folder, "tokenizer_config.json"), config.ToJsonString());
        return _folder;
    }

    private static readonly Dictionary<char, byte> s_byteOfChar = CreateByteOfChar();

    private static byte ByteOf(char c) => s_byteOfChar[c];

    private static Dictionary<char, byte> CreateByteOfChar()
    {
        // Inverse of the GPT-2 byte alphabet, written out independently of the code under test.
        var map = new Dictionary<char, byte>();
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[printable ? (char)b : (char)next++] = (byte)b;
        }

        return map;
    }
}
